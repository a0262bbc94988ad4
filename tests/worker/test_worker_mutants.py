"""The worker's recording functions at their edges (kills mutants bench/mutation.sh found
alive in publisher/worker/outcome.py): the metrics schedule's boundaries, which message wins,
what a late worker may no longer overwrite, and what each terminal state clears."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from adapters.errors import AdapterError
from publisher.models import (
    AuditEvent,
    Channel,
    ChannelStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
)
from publisher.worker.outcome import (
    METRIC_OFFSETS,
    finish_attempt,
    next_metrics_time,
    record_state,
    set_error,
)
from tests.helpers import approved_post, sandbox_channel

S = PublicationStatus


def test_metrics_schedule_is_strictly_after_and_ends(clock):
    t0 = clock.now
    assert next_metrics_time(t0, t0) == (t0 + timedelta(minutes=10), 0)  # the first read
    # exactly at a step: that step is done, the next one is due
    assert next_metrics_time(t0, t0 + timedelta(minutes=10)) == (t0 + timedelta(hours=1), 1)
    assert next_metrics_time(t0, t0 + timedelta(hours=1)) == (t0 + timedelta(hours=6), 2)
    assert next_metrics_time(t0, t0 + timedelta(hours=6, seconds=-1)) == (
        t0 + timedelta(hours=6), 2)
    assert next_metrics_time(t0, t0 + timedelta(days=7)) == (t0 + timedelta(days=30), 6)
    assert next_metrics_time(t0, t0 + timedelta(days=30)) == (None, len(METRIC_OFFSETS))
    assert len(METRIC_OFFSETS) == 7


def test_an_explicit_message_wins_over_the_adapters_and_fills_only_what_is_given():
    class Pub:
        error = error_en = error_code = "old"

    err = AdapterError("x", "Ditolak", "Rejected", code="rejected")
    pub = Pub()
    set_error(pub, err)  # type: ignore[arg-type]
    assert (pub.error, pub.error_en, pub.error_code) == ("Ditolak", "Rejected", "rejected")
    set_error(pub, err, "Gagal 8 kali", "Failed 8 times", "gave_up")  # type: ignore[arg-type]
    assert (pub.error, pub.error_en, pub.error_code) == ("Gagal 8 kali", "Failed 8 times",
                                                         "gave_up")
    set_error(pub, None, "Terlewat", "Missed", "missed")  # type: ignore[arg-type]
    assert (pub.error, pub.error_en, pub.error_code) == ("Terlewat", "Missed", "missed")
    set_error(pub, None)  # type: ignore[arg-type]
    assert (pub.error, pub.error_en, pub.error_code) == ("", "", "")


@pytest.fixture
def pub(core, make_user):  # type: ignore[no-untyped-def]
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ch = sandbox_channel(core, op, "hasil")
    approved_post(core, op, ap, [ch])
    with core.sessions() as s:
        return s.execute(select(Publication)).scalar_one()


def _set(core, pub_id, **values):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        p = s.get(Publication, pub_id)
        for k, v in values.items():
            setattr(p, k, v)


def _attempt(core, pub_id, clock) -> int:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        a = PublishAttempt(publication_id=pub_id, started_at=clock.now, worker="w")
        s.add(a)
        s.flush()
        return a.id


@pytest.mark.parametrize("final", [S.PUBLISHED, S.CANCELLED])
def test_a_late_worker_does_not_overwrite_a_published_or_cancelled_publication(
        core, pub, final, clock):  # type: ignore[no-untyped-def]
    _set(core, pub.id, status=final)
    record_state(core, pub.id, None, S.FAILED, AdapterError("x", "Gagal", "Failed"),
                 outcome="rejected")
    with core.sessions() as s:
        p = s.get(Publication, pub.id)
        assert p.status == final and not p.error
        assert s.get(Channel, p.channel_id).last_error is None
        assert not s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.failed")).scalars().all()


@pytest.mark.parametrize(("status", "clears"), [(S.QUEUED, True), (S.NEEDS_REAUTH, True),
                                                (S.MISSED, True), (S.FAILED, False),
                                                (S.UNCONFIRMED, False)])
def test_each_state_clears_the_submission_only_when_it_may_go_out_again(
        core, pub, clock, status, clears):  # type: ignore[no-untyped-def]
    _set(core, pub.id, status=S.PUBLISHING, submitted_at=clock.now)
    clock.advance(seconds=7)
    attempt = _attempt(core, pub.id, clock)
    err = AdapterError("x", "Gagal kirim", "Send failed", code="boom", http_status=503,
                       detail="upstream")
    with core.sessions() as s:
        before = set(s.execute(select(AuditEvent.id)).scalars())
    record_state(core, pub.id, attempt, status, err, outcome="error")
    with core.sessions() as s:
        p = s.get(Publication, pub.id)
        assert p.status == status and p.updated_at == clock.now
        assert (p.submitted_at is None) is clears
        assert (p.error, p.error_en, p.error_code) == ("Gagal kirim", "Send failed", "boom")
        channel = s.get(Channel, p.channel_id)
        assert channel.last_error == (None if status == S.QUEUED else "Gagal kirim")
        a = s.get(PublishAttempt, attempt)
        assert (a.outcome, a.http_status, a.ended_at) == ("error", 503, clock.now)
        assert a.detail == "[boom] Send failed\nupstream"
        events = s.execute(select(AuditEvent).where(
            AuditEvent.action == f"publication.{status}", AuditEvent.id.not_in(before))
        ).scalars().all()
        assert len(events) == 1 and events[0].object_id == pub.id
        assert events[0].data["code"] == "boom" and events[0].data["post_id"] == p.post_id


def test_needs_reauth_marks_the_channel_once_and_says_so(core, pub):  # type: ignore[no-untyped-def]
    for _ in range(2):
        record_state(core, pub.id, None, S.NEEDS_REAUTH, None, outcome="auth",
                     message_id="Sambungkan ulang", message_en="Reconnect", code="auth",
                     channel_status=ChannelStatus.NEEDS_REAUTH)
    with core.sessions() as s:
        channel = s.get(Channel, pub.channel_id)
        assert channel.status == ChannelStatus.NEEDS_REAUTH
        assert channel.last_error == "Sambungkan ulang"
        marks = s.execute(select(AuditEvent).where(
            AuditEvent.action == "channel.needs_reauth")).scalars().all()
        assert len(marks) == 1 and marks[0].data == {"message": "Sambungkan ulang",
                                                 "message_en": "Reconnect"}


def test_an_attempt_without_an_error_keeps_the_message_and_cuts_long_ones(core, pub, clock):  # type: ignore[no-untyped-def]
    a1, a2 = _attempt(core, pub.id, clock), _attempt(core, pub.id, clock)
    with core.sessions.begin() as s:
        finish_attempt(s, a1, "unknown", clock.now, detail="x" * 5000)
        finish_attempt(s, a2, "published", clock.now)
        finish_attempt(s, None, "published", clock.now)  # no attempt row: nothing to do
    with core.sessions() as s:
        assert len(s.get(PublishAttempt, a1).detail) == 4000
        assert s.get(PublishAttempt, a2).detail is None
        assert s.get(PublishAttempt, a2).outcome == "published"
    record_state(core, pub.id, a2, S.UNCONFIRMED, None, outcome="unknown",
                 message_en="Could not tell")
    with core.sessions() as s:
        assert s.get(PublishAttempt, a2).detail == "Could not tell"
