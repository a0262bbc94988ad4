"""The job queue on its own: claims, leases, lock keys, dedupe, retries, recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest

from postqueue import JobQueue, backoff_seconds


@pytest.fixture
def q(core):  # type: ignore[no-untyped-def]
    return JobQueue(core.sessions, clock=core.clock)


def test_claim_takes_exactly_the_due_jobs_one_by_one(q, clock):
    a = q.enqueue("k", {"n": 1})
    b = q.enqueue("k", {"n": 2})
    q.enqueue("k", {"n": 3}, run_at=clock.now + timedelta(minutes=5))
    first = q.claim("w1", lease_seconds=60, limit=1)
    assert [j.id for j in first] == [a]
    rest = q.claim("w2", lease_seconds=60, limit=5)
    assert [j.id for j in rest] == [b], "a future job must not be claimed, a claimed one not twice"
    assert q.counts() == {"running": 2, "queued": 1}


def test_lock_key_allows_one_running_job_per_key(q):
    q.enqueue("publish", {}, lock_key="channel:1")
    q.enqueue("publish", {}, lock_key="channel:1")
    q.enqueue("publish", {}, lock_key="channel:2")
    jobs = q.claim("w", lease_seconds=60, limit=5)
    assert sorted(j.lock_key for j in jobs) == ["channel:1", "channel:2"]
    q.complete(jobs[0].id, "w")
    again = q.claim("w", lease_seconds=60, limit=5)
    assert len(again) == (1 if jobs[0].lock_key == "channel:1" else 0)


def test_dedupe_key_makes_enqueue_idempotent_while_live(q):
    assert q.enqueue("collect", {}, dedupe_key="metrics:1") is not None
    assert q.enqueue("collect", {}, dedupe_key="metrics:1") is None
    job = q.claim("w", lease_seconds=60)[0]
    assert q.enqueue("collect", {}, dedupe_key="metrics:1") is None, "running counts as live"
    q.complete(job.id, "w")
    assert q.enqueue("collect", {}, dedupe_key="metrics:1") is not None


def test_state_changes_are_conditional_on_the_lease(q):
    q.enqueue("k")
    job = q.claim("w1", lease_seconds=60)[0]
    assert q.complete(job.id, "intruder") is False
    assert q.retry(job.id, "intruder", run_at=job.run_at) is False
    assert q.complete(job.id, "w1") is True
    assert q.complete(job.id, "w1") is False, "a finished job cannot be finished again"


def test_expired_leases_are_recovered_and_reclaimed(q, clock):
    q.enqueue("k")
    job = q.claim("dead-worker", lease_seconds=30)[0]
    assert q.recover_expired() == []
    clock.advance(seconds=31)
    assert q.recover_expired() == [job.id]
    again = q.claim("w2", lease_seconds=30)
    assert [j.id for j in again] == [job.id] and again[0].attempts == 2
    assert q.complete(job.id, "dead-worker") is False, "the dead worker lost its lease"


def test_retry_moves_the_job_in_time(q, clock):
    q.enqueue("k")
    job = q.claim("w", lease_seconds=30)[0]
    q.retry(job.id, "w", run_at=clock.now + timedelta(seconds=90), error="429")
    assert q.claim("w", lease_seconds=30) == []
    assert q.next_due() == clock.now + timedelta(seconds=90)
    clock.advance(seconds=90)
    assert len(q.claim("w", lease_seconds=30)) == 1


def test_backoff_grows_is_capped_and_honours_retry_after():
    import random

    rng = random.Random(1)
    waits = [backoff_seconds(n, base=10, cap=100, jitter=0, rng=rng) for n in range(1, 6)]
    assert waits == [10, 20, 40, 80, 100]
    assert backoff_seconds(1, base=10, retry_after=600, jitter=0) == 600
    jittered = backoff_seconds(3, base=10, jitter=0.2, rng=rng)
    assert 40 <= jittered <= 48


def test_a_live_workers_heartbeat_keeps_its_leases(q, clock):
    a = q.enqueue("k")
    b = q.enqueue("k")
    jobs = q.claim("alive", lease_seconds=30, limit=2)
    assert {j.id for j in jobs} == {a, b}
    clock.advance(seconds=20)
    assert q.extend_many([a, b], "alive", 30) == 2
    assert q.extend_many([a], "someone-else", 30) == 0, "only the holder renews"
    clock.advance(seconds=20)  # 40 s after the claim: past the first lease, not the renewed one
    assert q.recover_expired() == []
    clock.advance(seconds=11)
    assert sorted(q.recover_expired()) == sorted([a, b])
