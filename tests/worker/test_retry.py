""""Try again" for a failed, unconfirmed or missed publication — through the service, the API
and the UI — and its refusals: a post that is no longer approved, a publication of another
unit, a publication in a state that cannot be retried. A retry that is allowed goes out once;
a refused one changes nothing and queues nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import url_for
from sqlalchemy import func, select, update

from postqueue import Job, JobStatus
from publisher.models import AuditEvent, Post, Publication, PublicationStatus, Role, User
from publisher.services import posts as post_svc
from publisher.services import publications as pub_svc
from publisher.services.errors import Conflict, NotFound, ServiceError
from publisher.worker import run_once
from publisher.worker.publish import _mark_submitted
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control

S = PublicationStatus
ACCOUNT = "rt-a"


@pytest.fixture
def app(core):  # type: ignore[no-untyped-def]
    """CSRF off for the form posts (CSRF itself is tested in tests/web)."""
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return application


@dataclass
class Case:
    op: User
    ap: User
    stranger: User  # an operator of the other unit
    post_id: int
    pub_id: int


@pytest.fixture
def case(core, clock, make_user) -> Case:  # type: ignore[no-untyped-def]
    op, ap, stranger = (make_user(Role.OPERATOR), make_user(Role.APPROVER),
                        make_user(Role.OPERATOR, "b"))
    channel = sandbox_channel(core, op, ACCOUNT)
    post_id = approved_post(core, op, ap, [channel], body="Jadwal pasar murah.", when=clock.now)
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    return Case(op, ap, stranger, post_id, pub_id)


def make_failed(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    set_control(core, ACCOUNT, mode="reject", message="Ditolak")
    run_once(core)
    set_control(core, ACCOUNT, mode="ok")


def make_unconfirmed(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    """A worker died after "submitted"; the post never reached the platform, and lookup cannot
    tell: unconfirmed. A person checked the account and found nothing: retry is right."""
    job = core.queue.claim("dead-worker", lease_seconds=30)[0]
    assert _mark_submitted(core, job, case.pub_id) is not None
    set_control(core, ACCOUNT, lookup="error")
    clock.advance(seconds=31)
    run_once(core)
    set_control(core, ACCOUNT, mode="ok")


def make_missed(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    clock.advance(seconds=core.settings.missed_after.total_seconds() + 60)
    run_once(core)


def make_failed_long_ago(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    """Failed, and the person retries the next day: past the missed window."""
    make_failed(core, clock, case)
    clock.advance(days=1)


STATES: dict[str, tuple[Callable[..., None], str]] = {
    "failed": (make_failed, S.FAILED), "unconfirmed": (make_unconfirmed, S.UNCONFIRMED),
    "missed": (make_missed, S.MISSED), "failed_long_ago": (make_failed_long_ago, S.FAILED)}


def status(core, pub_id: int) -> str:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Publication, pub_id).status


def queued_jobs(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(Job).where(
            Job.kind == "publish", Job.status == JobStatus.QUEUED)).scalar_one()


# -- the three ways in -------------------------------------------------------------------------
def via_service(core, client, api_as, user, pub_id) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    try:
        with core.sessions.begin() as s:
            pub_svc.retry_publication(core, s, s.get(User, user.id), pub_id)
    except ServiceError as exc:
        return "refused", exc
    return "ok", None


def via_api(core, client, api_as, user, pub_id) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    res = api_as(user).post(f"/publications/{pub_id}/retry")
    if res.status_code == 200:
        assert res.get_json()["status"] == S.QUEUED and res.get_json()["id"] == pub_id
        return "ok", None
    return "refused", res


def via_ui(core, client, api_as, user, pub_id) -> tuple[str, Any]:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    with client.application.test_request_context():
        path = url_for("posts.pub_retry", pub_id=pub_id)
    res = client.post(path, data={"back": "/"})
    if res.status_code == 404:
        return "refused", res
    assert res.status_code == 302, res.status_code
    with client.session_transaction() as sess:
        kinds = {kind for kind, _msg in sess.get("_flashes", [])}
    if "error" in kinds:
        return "refused", res
    assert kinds == {"success"}, kinds
    return "ok", None


WAYS = {"service": via_service, "api": via_api, "ui": via_ui}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("state", list(STATES))
def test_retry_publishes_once(core, clock, client, api_as, case, way, state):  # type: ignore[no-untyped-def]
    make, expected = STATES[state]
    make(core, clock, case)
    assert status(core, case.pub_id) == expected
    assert outbox_records(core, ACCOUNT) == []
    assert WAYS[way](core, client, api_as, case.op, case.pub_id) == ("ok", None)
    assert status(core, case.pub_id) == S.QUEUED and queued_jobs(core) == 1
    with core.sessions() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "publication.retry")
                          ).scalar_one()
        assert event.object_id == case.pub_id and event.data["previous_status"] == expected
        assert s.get(Publication, case.pub_id).attempts == 0
    run_once(core)
    assert status(core, case.pub_id) == S.PUBLISHED
    clock.advance(hours=1)
    run_once(core)
    assert len(outbox_records(core, ACCOUNT)) == 1


def _tamper(core, case) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        s.execute(update(Post).where(Post.id == case.post_id).values(body="Isi lain."))


def _edit(core, case) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, case.op.id), case.post_id,
                             post_svc.PostInput(link="https://lain.example/"))


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("change", ["edited", "tampered"])
def test_retry_refused_when_the_post_is_no_longer_approved(core, clock, client, api_as, case,
                                                           way, change):  # type: ignore[no-untyped-def]
    make_failed(core, clock, case)
    (_edit if change == "edited" else _tamper)(core, case)
    outcome, detail = WAYS[way](core, client, api_as, case.op, case.pub_id)
    assert outcome == "refused"
    if way == "service":
        assert isinstance(detail, Conflict) and detail.code == "not_approved"
    if way == "api":
        assert detail.status_code == 409
        assert detail.get_json()["error"]["code"] == "not_approved"
    assert status(core, case.pub_id) == S.FAILED and queued_jobs(core) == 0
    run_once(core)
    assert outbox_records(core, ACCOUNT) == []


@pytest.mark.parametrize("way", list(WAYS))
def test_retry_refused_for_another_units_publication(core, clock, client, api_as, case, way):  # type: ignore[no-untyped-def]
    make_failed(core, clock, case)
    outcome, detail = WAYS[way](core, client, api_as, case.stranger, case.pub_id)
    assert outcome == "refused"
    if way == "service":
        assert isinstance(detail, NotFound)
    else:
        assert detail.status_code == 404, "another unit's publication looks absent"
    if way == "api":
        assert "rt-a" not in detail.get_data(as_text=True)
    assert status(core, case.pub_id) == S.FAILED and queued_jobs(core) == 0
    run_once(core)
    assert outbox_records(core, ACCOUNT) == []


def _published(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    run_once(core)


def _queued(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    pass


def _cancelled(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        post_svc.cancel_post(core, s, s.get(User, case.op.id), case.post_id)


def _publishing(core, clock, case) -> None:  # type: ignore[no-untyped-def]
    job = core.queue.claim("live-worker", lease_seconds=30)[0]
    assert _mark_submitted(core, job, case.pub_id) is not None


WRONG: dict[str, tuple[Callable[..., None], str]] = {
    "published": (_published, S.PUBLISHED), "queued": (_queued, S.QUEUED),
    "cancelled": (_cancelled, S.CANCELLED), "publishing": (_publishing, S.PUBLISHING)}


@pytest.mark.parametrize("way", list(WAYS))
@pytest.mark.parametrize("state", list(WRONG))
def test_retry_refused_in_a_state_that_cannot_be_retried(core, clock, client, api_as, case, way,
                                                         state):  # type: ignore[no-untyped-def]
    make, expected = WRONG[state]
    make(core, clock, case)
    assert status(core, case.pub_id) == expected
    jobs_before = queued_jobs(core)
    in_outbox = len(outbox_records(core, ACCOUNT))
    outcome, detail = WAYS[way](core, client, api_as, case.op, case.pub_id)
    assert outcome == "refused"
    if way == "service":
        assert isinstance(detail, Conflict) and detail.code == "bad_status"
    if way == "api":
        assert detail.status_code == 409
        assert detail.get_json()["error"]["code"] == "bad_status"
    assert status(core, case.pub_id) == expected and queued_jobs(core) == jobs_before
    if state != "publishing":
        clock.advance(minutes=1)
        run_once(core)
        assert len(outbox_records(core, ACCOUNT)) == in_outbox + (state == "queued")
    with core.sessions() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "publication.retry")
                         ).first() is None
