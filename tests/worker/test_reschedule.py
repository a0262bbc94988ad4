"""Rescheduling moves the queued jobs, and the approval follows only when the service allows.

The worker is run at the old time (nothing may go out) and at the new time (it goes out once).
The reschedules are done by an APPROVER (not the author): the rule for who may keep an approval
while moving a post may tighten, but an approver moving a post must keep it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from postqueue import Job, JobStatus
from publisher.models import (
    AuditEvent,
    Post,
    PostStatus,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import posts as post_svc
from publisher.services import publications as pub_svc
from publisher.services.approval import content_hash
from publisher.worker import run_once
from tests.helpers import approved_post, outbox_records, sandbox_channel
from tests.worker.test_backstops import PATHS

S = PublicationStatus
ACCOUNTS = ["rs-a", "rs-b"]


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "ap2": make_user(Role.APPROVER)}


def _post(core, clock, people, at):  # type: ignore[no-untyped-def]
    channels = [sandbox_channel(core, people["op"], a) for a in ACCOUNTS]
    return approved_post(core, people["op"], people["ap"], channels,
                         body="Vaksinasi gratis di puskesmas.", when=at)


def _reschedule(core, people, post_id, when):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, s.get(User, people["ap2"].id), post_id, when)


def _out(core) -> list[int]:  # type: ignore[no-untyped-def]
    return [len(outbox_records(core, a)) for a in ACCOUNTS]


def _pubs(core, post_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(Publication).where(Publication.post_id == post_id)).scalars().all()


@pytest.mark.parametrize("path", list(PATHS))
def test_a_later_time_moves_the_jobs_and_keeps_the_approval(core, clock, people, path):  # type: ignore[no-untyped-def]
    start = clock.now
    old, new = start + timedelta(hours=1), start + timedelta(hours=3)
    post_id = _post(core, clock, people, old)
    _reschedule(core, people, post_id, new)
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED and post.scheduled_at == new
        assert post.approval_hash == content_hash(post), "re-bound to the new time"
        run_ats = set(s.execute(select(Job.run_at).where(Job.kind == "publish",
                                                         Job.status == JobStatus.QUEUED))
                      .scalars())
        assert run_ats == {new}
    clock.now = old
    PATHS[path](core)
    assert _out(core) == [0, 0], "went out at the old time"
    assert {p.status for p in _pubs(core, post_id)} == {S.QUEUED}
    clock.now = new
    PATHS[path](core)
    assert _out(core) == [1, 1]
    assert {p.status for p in _pubs(core, post_id)} == {S.PUBLISHED}
    clock.advance(hours=1)
    run_once(core)
    assert _out(core) == [1, 1], "once"


def test_an_earlier_time_moves_the_jobs_forward(core, clock, people):  # type: ignore[no-untyped-def]
    start = clock.now
    old, new = start + timedelta(hours=3), start + timedelta(minutes=30)
    post_id = _post(core, clock, people, old)
    _reschedule(core, people, post_id, new)
    clock.now = new - timedelta(seconds=1)
    run_once(core)
    assert _out(core) == [0, 0], "not before its new time"
    clock.now = new
    run_once(core)
    assert _out(core) == [1, 1]
    clock.now = old
    run_once(core)
    assert _out(core) == [1, 1], "nothing more at the old time"


def test_the_approval_is_not_rebound_to_content_nobody_approved(core, clock, people):  # type: ignore[no-untyped-def]
    """The content changed behind the services' back: a reschedule must not bless it by
    re-binding the hash; nothing goes out, at the old time or the new one."""
    start = clock.now
    old, new = start + timedelta(hours=1), start + timedelta(hours=3)
    post_id = _post(core, clock, people, old)
    with core.sessions.begin() as s:
        before = s.get(Post, post_id).approval_hash
        s.execute(update(Post).where(Post.id == post_id).values(body="Isi yang tak disetujui."))
    _reschedule(core, people, post_id, new)
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.approval_hash == before != content_hash(post)
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "post.reschedule",
                                                   AuditEvent.object_id == post_id)).scalar_one()
        assert event.data["kept_approval"] is False
    for at in (old, new):
        clock.now = at
        run_once(core)
        assert _out(core) == [0, 0]
    assert {(p.status, p.error_code) for p in _pubs(core, post_id)} == {
        (S.FAILED, "approval_mismatch")}


def test_a_voided_post_rescheduled_stays_unapproved(core, clock, people):  # type: ignore[no-untyped-def]
    start = clock.now
    post_id = _post(core, clock, people, start + timedelta(hours=1))
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), post_id,
                             post_svc.PostInput(body="Diubah setelah disetujui."))
    _reschedule(core, people, post_id, start + timedelta(hours=2))
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.DRAFT and post.approval_hash is None
    for hours in (1, 2):
        clock.now = start + timedelta(hours=hours)
        run_once(core)
    assert _out(core) == [0, 0]


def test_a_missed_publication_rescheduled_goes_out_once_at_its_new_time(core, clock, people):  # type: ignore[no-untyped-def]
    start = clock.now
    post_id = _post(core, clock, people, start)
    clock.advance(seconds=core.settings.missed_after.total_seconds() + 60)
    run_once(core)
    pubs = _pubs(core, post_id)
    assert {p.status for p in pubs} == {S.MISSED} and _out(core) == [0, 0]
    new = clock.now + timedelta(hours=2)
    with core.sessions.begin() as s:
        pub_svc.reschedule_publication(core, s, s.get(User, people["ap2"].id), pubs[0].id, new)
    clock.advance(hours=1)
    run_once(core)
    assert _out(core) == [0, 0]
    clock.now = new
    run_once(core)
    clock.advance(hours=1)
    run_once(core)
    assert sorted(_out(core)) == [0, 1], "the rescheduled one, once; the other stays missed"
