"""The burst path: a batch of publish jobs read, submitted, called and recorded together must
end exactly as the one-by-one handler would, publication by publication."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from postqueue import Job
from publisher.models import (
    AuditEvent,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
    User,
)
from publisher.services import pauses as pause_svc
from publisher.services import posts as post_svc
from publisher.worker import run_job
from publisher.worker.batch import run_publish_batch
from publisher.worker.runner import apply_result
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control


def _run_batch(core, limit=50):  # type: ignore[no-untyped-def]
    jobs = core.queue.claim("batcher", lease_seconds=60, limit=limit)
    with ThreadPoolExecutor(4) as calls:
        run_publish_batch(core, jobs, calls, run_step=lambda j, step: run_job(core, j, step),
                          settle=lambda j, r: apply_result(core, j, r))
    return jobs


def test_a_batch_publishes_each_publication_once_and_hands_odd_ones_to_the_handler(
        core, clock, make_user):  # type: ignore[no-untyped-def]
    op, ap, admin = make_user(Role.OPERATOR), make_user(Role.APPROVER), make_user(Role.ADMIN, None)
    accounts = [f"b{i}" for i in range(8)]
    chans = [sandbox_channel(core, op, a) for a in accounts]
    normal = approved_post(core, op, ap, chans[:5], body="Serentak pukul 09.00")
    rejected = approved_post(core, op, ap, [chans[5]], body="Ditolak platform")
    set_control(core, "b5", mode="reject", message="Konten melanggar kebijakan")
    paused = approved_post(core, op, ap, [chans[6]], body="Akun dijeda")
    with core.sessions.begin() as s:
        pause_svc.create_pause(s, s.get(User, admin.id), scope="channel", channel_id=chans[6],
                               starts_at=clock.now - timedelta(minutes=1),
                               ends_at=clock.now + timedelta(hours=1))
    edited = approved_post(core, op, ap, [chans[7]], body="Versi lama")

    # the edit lands between the claim and the batch's read: the job is claimed, then voided
    jobs = core.queue.claim("batcher", lease_seconds=60, limit=50)
    assert len(jobs) == 8, "one job per channel, all due"
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, op.id), edited,
                             post_svc.PostInput(body="Versi baru"))
    with ThreadPoolExecutor(4) as calls:
        run_publish_batch(core, jobs, calls, run_step=lambda j, step: run_job(core, j, step),
                          settle=lambda j, r: apply_result(core, j, r))

    with core.sessions() as s:
        status = {p.post_id: [] for p in s.execute(select(Publication)).scalars()}
        for p in s.execute(select(Publication)).scalars():
            status[p.post_id].append(p.status)
        pubs = {p.id: p for p in s.execute(select(Publication)).scalars()}
        assert status[normal] == [PublicationStatus.PUBLISHED] * 5
        assert status[rejected] == [PublicationStatus.FAILED]
        assert status[paused] == [PublicationStatus.QUEUED]
        assert status[edited] == [PublicationStatus.CANCELLED]
        published = [p for p in pubs.values() if p.status == PublicationStatus.PUBLISHED]
        assert all(p.permalink and p.external_id and p.next_metrics_at for p in published)
        failed = next(p for p in pubs.values() if p.status == PublicationStatus.FAILED)
        assert failed.error == "Konten melanggar kebijakan"
        outcomes = sorted(s.execute(select(PublishAttempt.outcome)).scalars())
        assert outcomes == ["published"] * 5 + ["rejected"]
        audits = s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "publication.published")).scalar_one()
        assert audits == 5
        job_states = dict(s.execute(select(Job.id, Job.status)).all())
    assert sorted(job_states.values()).count("done") == 7  # the paused one waits, queued
    assert [len(outbox_records(core, a)) for a in accounts] == [1, 1, 1, 1, 1, 0, 0, 0]

    # nothing is published twice when the same batch's jobs are seen again
    clock.advance(hours=2)
    _run_batch(core)
    assert [len(outbox_records(core, a)) for a in accounts] == [1, 1, 1, 1, 1, 0, 1, 0]


def test_a_publication_cancelled_while_the_worker_decides_stays_cancelled(core, clock,
                                                                          make_user):  # type: ignore[no-untyped-def]
    from publisher.worker.outcome import record_state

    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ch = sandbox_channel(core, op, "c1")
    post_id = approved_post(core, op, ap, [ch])
    with core.sessions.begin() as s:
        post_svc.cancel_post(core, s, s.get(User, op.id), post_id)
        pub_id = s.execute(select(Publication.id)).scalar_one()
    record_state(core, pub_id, None, PublicationStatus.MISSED, None, outcome="missed",
                 message_id="Terlewat", message_en="Missed", code="missed")
    with core.sessions() as s:
        assert s.get(Publication, pub_id).status == PublicationStatus.CANCELLED


def test_a_reschedule_after_the_claim_wins_over_the_claimed_job(core, clock, make_user):  # type: ignore[no-untyped-def]
    """Between a worker's read and its "submitted" mark, a person reschedules: the old job
    must not publish at the old time (one path and batch path alike)."""
    from datetime import timedelta
    from types import SimpleNamespace

    from publisher.services import publications as pub_svc
    from publisher.worker import batch, publish

    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    chans = [sandbox_channel(core, op, f"r{i}") for i in range(2)]
    approved_post(core, op, ap, chans)
    jobs = core.queue.claim("w", lease_seconds=60, limit=5)
    with core.sessions.begin() as s:
        pubs = s.execute(select(Publication).order_by(Publication.id)).scalars().all()
        for p in pubs:
            pub_svc.reschedule_publication(core, s, s.get(User, ap.id), p.id,
                                           clock.now + timedelta(hours=3))
        ids = [p.id for p in pubs]
    by_pub = {int(j.payload["publication_id"]): j for j in jobs}
    assert publish._mark_submitted(core, by_pub[ids[0]], ids[0]) is None
    ready = [(by_pub[ids[1]], SimpleNamespace(info=SimpleNamespace(pub_id=ids[1])), None, None)]
    assert batch._mark_submitted(core, ready) == {}
    with core.sessions() as s:
        assert {p.status for p in s.execute(select(Publication)).scalars()} == {
            PublicationStatus.QUEUED}


def test_one_failing_settle_does_not_lose_the_batchs_published_results(core, clock, make_user,
                                                                        monkeypatch):  # type: ignore[no-untyped-def]
    from publisher.worker import batch

    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    chans = [sandbox_channel(core, op, f"s{i}") for i in range(4)]
    approved_post(core, op, ap, chans[:3], body="Tiga akun")
    approved_post(core, op, ap, [chans[3]], body="Ditolak")
    set_control(core, "s3", mode="reject")

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("database hiccup while settling")
    monkeypatch.setattr(batch, "settle_outcome", broken)
    _run_batch(core)
    with core.sessions() as s:
        statuses = sorted(p.status for p in s.execute(select(Publication)).scalars())
    assert statuses.count(PublicationStatus.PUBLISHED) == 3
