"""How the worker meets a misbehaving platform, a changed post, a late worker and a pause.

Each case drives the real sandbox adapter through its control.json and moves the test clock;
nothing sleeps. Every case checks the publication's state, the outbox (published exactly once,
or not at all), the queue job, and the trail: AuditEvent and PublishAttempt rows.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from postqueue.models import Job, JobStatus
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import (
    AuditEvent,
    Channel,
    ChannelStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
)
from publisher.services import channels as channel_svc
from publisher.services import pauses as pause_svc
from publisher.services import posts as post_svc
from publisher.worker import run_once
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control

S = PublicationStatus


@pytest.fixture
def people(make_user):
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "admin": make_user(Role.ADMIN, unit=None), "op_b": make_user(Role.OPERATOR, "b"),
            "ap_b": make_user(Role.APPROVER, "b")}


def pub_of(core, post_id: int) -> Publication:
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.post_id == post_id)).scalars().all()
        assert len(pubs) == 1
        return pubs[0]


def job_of(core, job_id: int) -> Job:
    with core.sessions() as s:
        return s.get(Job, job_id)


def attempts_of(core, pub_id: int) -> list[PublishAttempt]:
    with core.sessions() as s:
        return list(s.execute(select(PublishAttempt).where(PublishAttempt.publication_id == pub_id)
                              .order_by(PublishAttempt.id)).scalars())


def audit_actions(core, pub_id: int) -> list[str]:
    with core.sessions() as s:
        return list(s.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "publication", AuditEvent.object_id == pub_id)
            .order_by(AuditEvent.id)).scalars())


def one_post(core, clock, people, account: str = "dinsos-fb", **kw) -> tuple[int, int]:
    ch = sandbox_channel(core, people["op"], account)
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=kw.pop("when", clock.now),
                            **kw)
    return ch, post_id


# -- retried failures ----------------------------------------------------------------------------
RETRIED = [
    # control, [(seconds to advance, runs expected then)], attempt outcomes
    pytest.param({"mode": "throttle", "retry_after": 600, "times": 1},
                 [(599, 0), (122, 1)], ["retry", "published"], id="throttle-retry-after"),
    pytest.param({"mode": "transient", "times": 2},
                 [(29, 0), (8, 1), (59, 0), (14, 1)], ["retry", "retry", "published"],
                 id="transient-backoff"),
]


@pytest.mark.parametrize("control, steps, outcomes", RETRIED)
def test_retried_failure_then_published(core, clock, people, control, steps, outcomes):
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", **control)
    t0 = clock.now
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    expected_code = {"throttle": "rate_limited", "transient": "server_error"}[control["mode"]]
    assert (pub.status, pub.error_code) == (S.QUEUED, expected_code)
    job = job_of(core, pub.job_id)
    assert job.status == JobStatus.QUEUED
    if control["mode"] == "throttle":  # the platform's Retry-After wins over the 30 s backoff
        assert t0 + timedelta(seconds=600) <= job.run_at <= t0 + timedelta(seconds=721)
    else:
        assert t0 + timedelta(seconds=30) <= job.run_at <= t0 + timedelta(seconds=36)
    for seconds, expected in steps:
        clock.advance(seconds=seconds)
        assert run_once(core) == expected, f"after +{seconds}s"
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHED and pub.error is None
    assert pub.attempts == len(outcomes)
    assert len(outbox_records(core, "dinsos-fb")) == 1
    assert [a.outcome for a in attempts_of(core, pub.id)] == outcomes
    assert all(a.ended_at is not None for a in attempts_of(core, pub.id))
    actions = audit_actions(core, pub.id)
    assert actions[0] == "publication.queued" and actions[-1] == "publication.published"
    assert actions.count("publication.queued") == len(outcomes)  # approval + each retry
    assert job_of(core, pub.job_id).status == JobStatus.DONE


def test_retries_exhausted_fail_with_the_message(core, test_env, clock, people):
    core3 = build_core(load_settings({**test_env, "WARTA_MAX_ATTEMPTS": "3"}), clock=clock)
    try:
        ch, post_id = one_post(core3, clock, people)
        set_control(core3, "dinsos-fb", mode="transient")
        for _ in range(3):
            assert run_once(core3) == 1
            clock.advance(hours=1)
        assert run_once(core3) == 0
        pub = pub_of(core3, post_id)
        assert pub.status == S.FAILED and pub.attempts == 3
        assert "Gagal setelah 3 percobaan" in pub.error, pub.error
        assert pub.error_en.startswith("Temporary platform failure")
        assert "Failed after 3 attempts" in pub.error_en
        assert outbox_records(core3, "dinsos-fb") == []
        assert [a.outcome for a in attempts_of(core3, pub.id)] == ["retry"] * 3
        assert audit_actions(core3, pub.id)[-1] == "publication.failed"
        with core3.sessions() as s:
            assert s.get(Channel, ch).last_error == pub.error
    finally:
        core3.engine.dispose()


def test_permanent_reject_fails_with_platform_message_never_retried(core, clock, people):
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", mode="reject", message="Konten melanggar pedoman komunitas.",
                code="policy")
    assert run_once(core) == 1
    for _ in range(3):
        clock.advance(hours=2)
        assert run_once(core) == 0, "a rejected post is never retried"
    pub = pub_of(core, post_id)
    assert pub.status == S.FAILED and pub.attempts == 1
    assert pub.error == "Konten melanggar pedoman komunitas." and pub.error_code == "policy"
    assert outbox_records(core, "dinsos-fb") == []
    (attempt,) = attempts_of(core, pub.id)
    assert attempt.outcome == "rejected" and attempt.http_status == 400
    assert job_of(core, pub.job_id).status == JobStatus.DONE
    assert audit_actions(core, pub.id) == ["publication.queued", "publication.failed"]


# -- credentials ---------------------------------------------------------------------------------
def test_auth_expired_refreshed_then_published(core, clock, people):
    ch, post_id = one_post(core, clock, people)
    with core.sessions() as s:
        before = s.get(Channel, ch).credentials_encrypted
    set_control(core, "dinsos-fb", mode="auth_expired", refresh_ok=True)
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHED
    assert len(outbox_records(core, "dinsos-fb")) == 1
    with core.sessions() as s:
        channel = s.get(Channel, ch)
        assert channel.status == ChannelStatus.ACTIVE
        assert channel.credentials_encrypted != before
        creds = core.box.open(channel.credentials_encrypted)
    assert creds["account"] == "dinsos-fb" and creds["token"].startswith("refreshed-")


def test_auth_expired_without_refresh_waits_for_reconnect(core, clock, people):
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", mode="auth_expired")
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.NEEDS_REAUTH
    assert job_of(core, pub.job_id).status == JobStatus.DONE, "the job must finish, not spin"
    with core.sessions() as s:
        assert s.get(Channel, ch).status == ChannelStatus.NEEDS_REAUTH
    clock.advance(minutes=10)
    assert run_once(core) == 0
    # a second post on the same channel waits too, without calling the platform
    second = approved_post(core, people["op"], people["ap"], [ch], body="Jadwal posyandu.",
                           when=clock.now)
    assert run_once(core) == 1
    assert pub_of(core, second).status == S.NEEDS_REAUTH
    assert attempts_of(core, pub_of(core, second).id) == []
    assert outbox_records(core, "dinsos-fb") == []

    set_control(core, "dinsos-fb", mode="ok")
    with core.sessions.begin() as s:
        from publisher.models import User

        channel_svc.reconnect_channel(core, s, s.get(User, people["op"].id), ch,
                                      {"account": "dinsos-fb", "token": "baru"})
    assert run_once(core) == 2
    assert pub_of(core, post_id).status == S.PUBLISHED
    assert pub_of(core, second).status == S.PUBLISHED
    assert len(outbox_records(core, "dinsos-fb")) == 2
    actions = audit_actions(core, pub.id)
    assert actions == ["publication.queued", "publication.needs_reauth", "publication.resumed",
                       "publication.published"]
    with core.sessions() as s:
        assert s.get(Channel, ch).status == ChannelStatus.ACTIVE
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "channel.needs_reauth")
                         ).scalars().first() is not None


# -- unknown outcome and asynchronous platforms --------------------------------------------------
def test_timeout_after_accept_is_reconciled_by_lookup(core, clock, people):
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", mode="timeout_after_accept", times=1)
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHED
    (record,) = outbox_records(core, "dinsos-fb")
    assert record["key"] == f"warta-{pub.id}" and pub.external_id == record["id"]
    assert [a.outcome for a in attempts_of(core, pub.id)] == ["reconciled"]
    clock.advance(hours=1)
    run_once(core)
    assert len(outbox_records(core, "dinsos-fb")) == 1


def test_absent_twice_is_published_again_once_then_unconfirmed(core, clock, people,
                                                                monkeypatch):
    """The one policy (docs/ARCHITECTURE.md, Reconcile): an unknown outcome and a lookup
    that finds nothing is looked at again ``recheck_seconds`` later; absent again, it is
    published again — once. (The lookup here is made to lie, so the second copy shows.)"""
    from adapters.sandbox import SandboxAdapter

    monkeypatch.setattr(SandboxAdapter, "lookup", lambda self, post, since: None)
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", mode="timeout_after_accept", times=2)
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHING and pub.error_code == "looking_again", pub.error
    assert "memeriksa lagi pukul 10.01 WIB" in pub.error, pub.error
    assert len(outbox_records(core, "dinsos-fb")) == 1
    assert run_once(core) == 0  # not before the recheck interval
    clock.advance(seconds=SandboxAdapter.recheck_seconds)
    assert run_once(core) == 1  # second look: absent -> published again (times out again)
    assert len(outbox_records(core, "dinsos-fb")) == 2
    for _ in range(3):
        clock.advance(seconds=SandboxAdapter.recheck_seconds)
        run_once(core)
    pub = pub_of(core, post_id)
    assert pub.status == S.UNCONFIRMED, pub.error
    assert pub.error_code == "absent_after_republish"
    clock.advance(hours=1)
    assert run_once(core) == 0
    assert len(outbox_records(core, "dinsos-fb")) == 2  # never a third


def test_pending_then_polled_to_published(core, clock, people):
    ch, post_id = one_post(core, clock, people)
    set_control(core, "dinsos-fb", mode="pending", times=1)
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHING and pub.pending_state
    poll = job_of(core, pub.job_id)
    assert poll.kind == "poll" and poll.run_at == clock.now + timedelta(seconds=5)
    clock.advance(seconds=4)
    assert run_once(core) == 0
    clock.advance(seconds=1)
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHED and pub.pending_state is None
    assert len(outbox_records(core, "dinsos-fb")) == 1
    assert [a.outcome for a in attempts_of(core, pub.id)] == ["pending"]


# -- the post and the clock ----------------------------------------------------------------------
def test_post_edited_after_approval_publishes_nothing(core, clock, people):
    from publisher.models import User

    ch, post_id = one_post(core, clock, people, when=clock.now + timedelta(hours=1))
    pub_id = pub_of(core, post_id).id
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), post_id,
                             post_svc.PostInput(body="Ralat: bantuan cair besok."))
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        assert pub.status == S.CANCELLED
        assert s.get(Job, pub.job_id).status == JobStatus.CANCELLED
    clock.advance(hours=2)
    assert run_once(core) == 0
    assert outbox_records(core, "dinsos-fb") == []
    assert audit_actions(core, pub_id) == ["publication.queued", "publication.cancelled"]


def test_missed_window(core, clock, people):
    ch, post_id = one_post(core, clock, people, when=clock.now + timedelta(hours=1))
    clock.advance(hours=1)
    clock.advance(hours=6, seconds=1)  # WARTA_MISSED_AFTER = 6h, worker was down
    assert run_once(core) == 1
    pub = pub_of(core, post_id)
    assert pub.status == S.MISSED and pub.error_code == "missed"
    assert outbox_records(core, "dinsos-fb") == []
    assert attempts_of(core, pub.id) == []
    assert audit_actions(core, pub.id)[-1] == "publication.missed"


def test_just_inside_the_window_still_publishes(core, clock, people):
    ch, post_id = one_post(core, clock, people, when=clock.now + timedelta(hours=1))
    clock.advance(hours=7)
    assert run_once(core) == 1
    assert pub_of(core, post_id).status == S.PUBLISHED


# -- pauses and freeze windows -------------------------------------------------------------------
@pytest.mark.parametrize("scope", ["global", "unit", "channel", "freeze", "open-ended"])
def test_pause_holds_then_publishes(core, clock, people, units, scope):
    from publisher.models import User

    ch = sandbox_channel(core, people["op"], "dinsos-fb")
    other = sandbox_channel(core, people["op_b"], "bappeda-fb")
    start = clock.now
    when = start + (timedelta(minutes=90) if scope == "freeze" else timedelta(0))
    kw: dict = {"scope": scope, "starts_at": start, "ends_at": start + timedelta(minutes=30)}
    if scope == "freeze":  # a freeze window ahead of time (e.g. the election quiet period)
        kw = {"scope": "global", "starts_at": start + timedelta(hours=1),
              "ends_at": start + timedelta(hours=2)}
    elif scope == "open-ended":
        kw = {"scope": "channel", "starts_at": start, "ends_at": None}
    if kw["scope"] == "unit":
        kw["unit_id"] = units["a"].id
    if kw["scope"] == "channel":
        kw["channel_id"] = ch
    with core.sessions.begin() as s:
        pause_id = pause_svc.create_pause(s, s.get(User, people["admin"].id), reason="masa tenang",
                                          **kw).id
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=when)
    other_post = approved_post(core, people["op_b"], people["ap_b"], [other], when=when)
    clock.now = when
    run_once(core)
    pub = pub_of(core, post_id)
    assert pub.status == S.QUEUED
    assert outbox_records(core, "dinsos-fb") == []
    held_until = job_of(core, pub.job_id).run_at
    if scope == "open-ended":
        assert held_until == clock.now + timedelta(seconds=60)
    else:
        assert held_until == kw["ends_at"]
    other_held = kw["scope"] == "global"
    assert pub_of(core, other_post).status == (S.QUEUED if other_held else S.PUBLISHED)

    clock.advance(minutes=20)
    run_once(core)
    assert pub_of(core, post_id).status == S.QUEUED
    if scope == "open-ended":
        with core.sessions.begin() as s:
            released = pause_svc.lift_pause(s, s.get(User, people["admin"].id), pause_id,
                                            clock.now)
        assert released == 1  # held now, so due now: it goes out on the next tick
        run_once(core)
        assert pub_of(core, post_id).status == S.PUBLISHED
        return
    clock.advance(minutes=11)
    run_once(core)
    pub = pub_of(core, post_id)
    assert pub.status == S.PUBLISHED
    (record,) = outbox_records(core, "dinsos-fb")
    assert record["published_at"] >= (kw["ends_at"] or start).isoformat()
    assert len(outbox_records(core, "bappeda-fb")) == 1
    assert audit_actions(core, pub.id) == ["publication.queued", "publication.published"]
    assert len(attempts_of(core, pub.id)) == 1, "a held publication makes no platform call"
