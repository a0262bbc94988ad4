"""The queue's edges, pinned down one by one (each test kills mutants that bench/mutation.sh
found alive): the instants where a job becomes due or a lease runs out, what each state change
writes and whom it refuses, the module-level helpers that act in the caller's transaction, and
the claim's answers to a busy database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from postqueue import Job, JobQueue, JobStatus, backoff_seconds
from postqueue.models import UTCDateTime
from postqueue.queue import cancel, complete_in, complete_many_in, reschedule


@pytest.fixture
def q(core):  # type: ignore[no-untyped-def]
    return JobQueue(core.sessions, clock=core.clock)


def job_row(core, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None
        s.expunge(job)
        return job


def test_enqueue_writes_a_queued_job_due_now_with_no_attempts(q, core, clock):
    job_id = q.enqueue("k")
    job = job_row(core, job_id)
    assert (job.kind, job.payload, job.status, job.attempts) == ("k", {}, JobStatus.QUEUED, 0)
    assert job.run_at == clock.now and job.created_at == clock.now == job.updated_at
    assert job.lease_owner is None and job.finished_at is None and job.lock_key is None
    later = q.enqueue("k", {"n": 1}, run_at=clock.now + timedelta(hours=1), lock_key="c:1")
    row = job_row(core, later)
    assert row.payload == {"n": 1} and row.lock_key == "c:1"
    assert row.run_at == clock.now + timedelta(hours=1)


def test_a_job_is_due_exactly_at_its_run_at_not_a_second_before(q, clock):
    job_id = q.enqueue("k", run_at=clock.now + timedelta(seconds=10))
    clock.advance(seconds=9)
    assert q.claim("w", lease_seconds=30) == []
    clock.advance(seconds=1)
    assert [j.id for j in q.claim("w", lease_seconds=30)] == [job_id]


def test_a_lease_runs_out_after_its_last_instant_not_at_it(q, clock):
    q.enqueue("k")
    job = q.claim("w", lease_seconds=30)[0]
    assert job.lease_expires_at == clock.now + timedelta(seconds=30)
    clock.advance(seconds=30)  # exactly the expiry instant: the lease still holds
    assert q.recover_expired() == []
    clock.advance(microseconds=1)
    assert q.recover_expired() == [job.id]


def test_claimed_job_snapshot_and_row_agree(q, core, clock):
    job_id = q.enqueue("publish", {"publication_id": 7}, lock_key="channel:3")
    job = q.claim("w1", lease_seconds=45)[0]
    assert (job.id, job.kind, job.payload, job.attempts) == (job_id, "publish",
                                                             {"publication_id": 7}, 1)
    assert (job.run_at, job.lock_key, job.lease_owner) == (clock.now, "channel:3", "w1")
    row = job_row(core, job_id)
    assert (row.status, row.lease_owner, row.attempts) == (JobStatus.RUNNING, "w1", 1)
    assert row.lease_expires_at == clock.now + timedelta(seconds=45)


def test_claim_orders_by_run_at_then_id_and_honours_the_limit(q, clock):
    late = q.enqueue("k", run_at=clock.now - timedelta(minutes=1))
    early = q.enqueue("k", run_at=clock.now - timedelta(minutes=5))
    same_a = q.enqueue("k", run_at=clock.now - timedelta(minutes=3))
    same_b = q.enqueue("k", run_at=clock.now - timedelta(minutes=3))
    assert [j.id for j in q.claim("w", lease_seconds=30, limit=2)] == [early, same_a]
    assert [j.id for j in q.claim("w", lease_seconds=30, limit=5)] == [same_b, late]


def test_a_limit_below_one_still_claims_one(q):
    a, b = q.enqueue("k"), q.enqueue("k")
    assert [j.id for j in q.claim("w", lease_seconds=30, limit=0)] == [a]
    assert [j.id for j in q.claim("w", lease_seconds=30, limit=-3)] == [b]


def test_claim_by_kind_takes_only_those_kinds(q):
    q.enqueue("collect")
    pub = q.enqueue("publish")
    assert [j.id for j in q.claim("w", lease_seconds=30, limit=5, kinds=["publish"])] == [pub]
    assert [j.kind for j in q.claim("w", lease_seconds=30, limit=5, kinds=[])] == ["collect"]


def test_a_held_lock_key_does_not_hide_other_keys_due_jobs(q, clock):
    """Many due jobs of one busy channel ahead of another channel's job: the claim looks past
    them (it picks three times the limit) and still finds the other channel."""
    q.enqueue("publish", lock_key="busy", run_at=clock.now - timedelta(minutes=10))
    held = q.claim("w", lease_seconds=60)[0]
    for _ in range(2):
        q.enqueue("publish", lock_key="busy", run_at=clock.now - timedelta(minutes=9))
    other = q.enqueue("publish", lock_key="calm", run_at=clock.now - timedelta(minutes=1))
    got = q.claim("w", lease_seconds=60, limit=1)
    assert [j.id for j in got] == [other] and held.lock_key == "busy"


def test_one_batch_takes_one_job_per_lock_key_and_all_unkeyed_jobs(q):
    k1 = q.enqueue("publish", lock_key="c:1")
    q.enqueue("publish", lock_key="c:1")
    free1, free2 = q.enqueue("publish"), q.enqueue("publish")
    got = q.claim("w", lease_seconds=60, limit=10)
    assert [j.id for j in got] == [k1, free1, free2]


def test_retry_requeues_with_the_error_and_without_a_lease(q, core, clock):
    job_id = q.enqueue("k")
    job = q.claim("w", lease_seconds=30)[0]
    when = clock.now + timedelta(minutes=2)
    assert q.retry(job.id, "w", run_at=when, error="HTTP 429") is True
    row = job_row(core, job_id)
    assert (row.status, row.run_at, row.last_error) == (JobStatus.QUEUED, when, "HTTP 429")
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.attempts == 1 and row.finished_at is None


def test_fail_is_final_and_conditional_on_the_lease(q, core, clock):
    job_id = q.enqueue("k")
    job = q.claim("w", lease_seconds=30)[0]
    assert q.fail(job.id, "intruder", "no") is False
    assert job_row(core, job_id).status == JobStatus.RUNNING
    clock.advance(seconds=5)
    assert q.fail(job.id, "w", "platform said no") is True
    row = job_row(core, job_id)
    assert (row.status, row.last_error, row.finished_at) == (JobStatus.FAILED,
                                                             "platform said no", clock.now)
    assert row.lease_owner is None and row.lease_expires_at is None
    assert row.updated_at == clock.now
    assert q.claim("w", lease_seconds=30) == [], "a failed job is not claimed again"
    assert q.fail(job.id, "w", "again") is False


def test_complete_clears_the_lease_and_records_the_finish(q, core, clock):
    job_id = q.enqueue("k")
    q.claim("w", lease_seconds=30)
    clock.advance(seconds=3)
    assert q.complete(job_id, "w") is True
    row = job_row(core, job_id)
    assert (row.status, row.finished_at, row.updated_at) == (JobStatus.DONE, clock.now, clock.now)
    assert row.lease_owner is None and row.lease_expires_at is None
    assert q.counts() == {"done": 1}


def test_extend_renews_one_lease_for_its_holder_only(q, core, clock):
    job_id = q.enqueue("k")
    q.claim("w", lease_seconds=30)
    clock.advance(seconds=20)
    assert q.extend(job_id, "other", 120) is False
    assert q.extend(job_id, "w", 120) is True
    assert job_row(core, job_id).lease_expires_at == clock.now + timedelta(seconds=120)
    clock.advance(seconds=119)
    assert q.recover_expired() == []
    assert q.extend_many([], "w", 30) == 0


def test_recovery_requeues_now_and_says_why(q, core, clock):
    job_id = q.enqueue("k", run_at=clock.now - timedelta(hours=1))
    q.claim("dead", lease_seconds=10)
    clock.advance(seconds=11)
    assert q.recover_expired() == [job_id]
    row = job_row(core, job_id)
    assert (row.status, row.run_at, row.lease_owner) == (JobStatus.QUEUED, clock.now, None)
    assert row.lease_expires_at is None and row.updated_at == clock.now
    assert "lease expired" in (row.last_error or "")
    assert q.recover_expired() == []


def test_next_due_is_the_earliest_queued_job_only(q, clock):
    assert q.next_due() is None
    q.enqueue("k", run_at=clock.now - timedelta(minutes=1))
    q.claim("w", lease_seconds=30)  # running: no longer "due"
    assert q.next_due() is None
    q.enqueue("k", run_at=clock.now + timedelta(minutes=9))
    q.enqueue("k", run_at=clock.now + timedelta(minutes=4))
    assert q.next_due() == clock.now + timedelta(minutes=4)


def test_a_failed_or_cancelled_dedupe_key_can_be_enqueued_again(q, core):
    first = q.enqueue("collect", dedupe_key="m:1")
    job = q.claim("w", lease_seconds=30)[0]
    q.fail(job.id, "w", "x")
    second = q.enqueue("collect", dedupe_key="m:1")
    assert second is not None and second != first
    with core.sessions.begin() as s:
        assert cancel(s, [second]) == 1
    assert q.enqueue("collect", dedupe_key="m:1") is not None


def test_cancel_touches_queued_jobs_only(q, core, clock):
    queued = q.enqueue("k", run_at=clock.now + timedelta(hours=1))
    running = q.enqueue("k")
    q.claim("w", lease_seconds=30)
    with core.sessions.begin() as s:
        assert cancel(s, []) == 0
        assert cancel(s, [queued, running], now=clock.now) == 1
    row = job_row(core, queued)
    assert (row.status, row.finished_at) == (JobStatus.CANCELLED, clock.now)
    assert job_row(core, running).status == JobStatus.RUNNING


def test_reschedule_moves_a_queued_job_only(q, core, clock):
    queued = q.enqueue("k", run_at=clock.now + timedelta(hours=1))
    running = q.enqueue("k")
    q.claim("w", lease_seconds=30)
    new_time = clock.now + timedelta(hours=5)
    with core.sessions.begin() as s:
        assert reschedule(s, queued, new_time, now=clock.now) is True
        assert reschedule(s, running, new_time, now=clock.now) is False
    assert job_row(core, queued).run_at == new_time
    assert job_row(core, running).run_at == clock.now


def test_completing_in_the_callers_transaction(q, core, clock):
    a, b, c = q.enqueue("k"), q.enqueue("k"), q.enqueue("k")
    q.claim("w", lease_seconds=30, limit=2)
    q.claim("other", lease_seconds=30)
    with core.sessions.begin() as s:
        assert complete_in(s, a, "w", now=clock.now) is True
        assert complete_in(s, a, "w", now=clock.now) is False, "already done"
    with core.sessions.begin() as s:
        assert complete_many_in(s, [b, c], "w", now=clock.now) == 1, "c is another's"
    for job_id, status in ((a, JobStatus.DONE), (b, JobStatus.DONE), (c, JobStatus.RUNNING)):
        assert job_row(core, job_id).status == status
    row = job_row(core, b)
    assert row.finished_at == clock.now and row.lease_owner is None
    assert row.lease_expires_at is None


def test_a_busy_database_means_nothing_claimed_other_errors_surface(q, monkeypatch):
    def raising(exc):  # type: ignore[no-untyped-def]
        def claim(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise exc
        return claim

    monkeypatch.setattr(q, "_claim", raising(IntegrityError("x", {}, Exception("dup"))))
    assert q.claim("w", lease_seconds=30) == []
    monkeypatch.setattr(q, "_claim", raising(OperationalError("x", {}, Exception(
        "database is LOCKED"))))
    assert q.claim("w", lease_seconds=30) == []
    monkeypatch.setattr(q, "_claim", raising(OperationalError("x", {}, Exception("disk I/O"))))
    with pytest.raises(OperationalError):
        q.claim("w", lease_seconds=30)


def test_claim_passes_sorted_kinds_and_a_floor_of_one(q, monkeypatch):
    seen = []
    monkeypatch.setattr(q, "_claim", lambda *args: seen.append(args) or ([], 0))
    q.claim("w", lease_seconds=12.5, limit=0, kinds={"publish", "collect"})
    q.claim("w", lease_seconds=30, limit=4)
    # (worker, lease, limit, sorted kinds, share_of): a plain claim takes the whole limit
    assert seen == [("w", 12.5, 1, ["collect", "publish"], 1), ("w", 30, 4, None, 1)]


def test_backoff_formula_edges():
    class Fixed(random.Random):
        def uniform(self, a: float, b: float) -> float:
            assert (a, b) == (0, 0.5)
            return b  # the largest jitter

    assert backoff_seconds(0, base=10, jitter=0) == 10, "no attempt yet: the base"
    assert backoff_seconds(2, jitter=0) == 60, "default base 30 s, doubled"
    assert backoff_seconds(20, jitter=0) == 3600, "default cap one hour"
    assert backoff_seconds(1, base=10, retry_after=5, jitter=0) == 10, "the longer one wins"
    assert backoff_seconds(1, base=10, retry_after=None, jitter=0) == 10
    assert backoff_seconds(2, base=10, jitter=0.5, rng=Fixed()) == 30
    values = {backoff_seconds(1, base=100) for _ in range(50)}
    assert all(100 <= v <= 120 for v in values) and len(values) > 1, "default jitter 20 %"


def test_utc_datetime_refuses_naive_and_hands_back_aware_utc():
    col = UTCDateTime()

    class Dialect:
        def __init__(self, name: str) -> None:
            self.name = name

    wib = timezone(timedelta(hours=7))
    local = datetime(2026, 6, 11, 0, 30, tzinfo=wib)
    assert col.process_bind_param(None, Dialect("sqlite")) is None  # type: ignore[arg-type]
    stored = col.process_bind_param(local, Dialect("sqlite"))  # type: ignore[arg-type]
    assert stored == datetime(2026, 6, 10, 17, 30) and stored.tzinfo is None
    pg = col.process_bind_param(local, Dialect("postgresql"))  # type: ignore[arg-type]
    assert pg == local and pg.tzinfo == UTC
    with pytest.raises(ValueError, match="naive"):
        col.process_bind_param(datetime(2026, 6, 10), Dialect("sqlite"))  # type: ignore[arg-type]
    back = col.process_result_value(datetime(2026, 6, 10, 17, 30), Dialect("sqlite"))  # type: ignore[arg-type]
    assert back == datetime(2026, 6, 10, 17, 30, tzinfo=UTC) and back.tzinfo == UTC
    assert col.process_result_value(local, Dialect("postgresql")).tzinfo == UTC  # type: ignore[arg-type,union-attr]
    assert col.process_result_value(None, Dialect("sqlite")) is None  # type: ignore[arg-type]

