"""The queue under concurrency: connections racing for the same due jobs, lock keys held by a
running job, and the exact instant a lease expires.

The races use a ``threading.Barrier`` so both claims start together, each thread on its own
engine (its own connection, as two worker processes would have). They run on both backends;
on PostgreSQL they exercise ``FOR UPDATE SKIP LOCKED`` and the conditional ``UPDATE``, on
SQLite the writer lock that serialises claims.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from postqueue import Job, JobQueue, JobStatus
from publisher.db import make_engine, make_sessionmaker

ROUNDS = 25


@pytest.fixture
def q(core):  # type: ignore[no-untyped-def]
    return JobQueue(core.sessions, clock=core.clock)


@pytest.fixture
def racers(core, test_env):  # type: ignore[no-untyped-def]
    """Two queues, each on its own engine (own pool, own connection)."""
    engines = [make_engine(test_env["WARTA_DATABASE_URL"]) for _ in range(2)]
    yield [JobQueue(make_sessionmaker(e), clock=core.clock) for e in engines]
    for e in engines:
        e.dispose()


def race(queues: list[JobQueue], limit: int) -> list[list[int]]:
    """Both queues claim at the same moment; returns the job ids each one got."""
    barrier = threading.Barrier(len(queues))
    got: list[list[int]] = [[] for _ in queues]
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            got[i] = [j.id for j in queues[i].claim(f"racer{i}", lease_seconds=60, limit=limit)]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(queues))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a claim hung"
    assert not errors, errors
    return got


def _rows(q: JobQueue, ids: list[int]) -> dict[int, Job]:
    with q.factory() as s:
        return {j.id: j for j in s.execute(select(Job).where(Job.id.in_(ids))).scalars()}


def test_two_connections_racing_for_one_due_job_never_both_get_it(q, racers):  # type: ignore[no-untyped-def]
    winners = Counter()
    for n in range(ROUNDS):
        job_id = q.enqueue("k", {"round": n})
        got = race(racers, limit=1)
        assert sorted(got[0] + got[1]) == [job_id], f"round {n}: {got}"
        winner = 0 if got[0] else 1
        winners[winner] += 1
        row = _rows(q, [job_id])[job_id]
        assert row.status == JobStatus.RUNNING and row.attempts == 1
        assert row.lease_owner == f"racer{winner}", "the row says who really has it"


def test_two_connections_racing_for_many_due_jobs_split_them(q, racers, clock):  # type: ignore[no-untyped-def]
    for n in range(ROUNDS):
        ids = [q.enqueue("k", {"round": n, "i": i}) for i in range(4)]
        got = race(racers, limit=3)
        assert not set(got[0]) & set(got[1]), f"round {n}: both got {set(got[0]) & set(got[1])}"
        assert set(got[0]) | set(got[1]) <= set(ids)
        assert 3 <= len(got[0]) + len(got[1]) <= 4, got
        rows = _rows(q, ids)
        for i, mine in enumerate(got):
            for job_id in mine:
                assert rows[job_id].lease_owner == f"racer{i}" and rows[job_id].attempts == 1
        # finish the round so the next one starts from an empty queue
        for i, mine in enumerate(got):
            for job_id in mine:
                assert racers[i].complete(job_id, f"racer{i}")
        for job in q.claim("sweeper", lease_seconds=60, limit=10):
            q.complete(job.id, "sweeper")


def test_two_connections_racing_for_one_lock_key_take_at_most_one(q, racers):  # type: ignore[no-untyped-def]
    for n in range(ROUNDS):
        ids = [q.enqueue("publish", {"round": n, "i": i}, lock_key="channel:1") for i in range(2)]
        got = race(racers, limit=1)
        assert len(got[0]) + len(got[1]) == 1, f"round {n}: {got}"
        with q.factory() as s:
            running = s.execute(select(Job).where(Job.status == JobStatus.RUNNING)).scalars().all()
        assert len(running) == 1 and running[0].id in ids
        q.complete(running[0].id, running[0].lease_owner)
        leftover = q.claim("sweeper", lease_seconds=60)
        assert len(leftover) == 1
        q.complete(leftover[0].id, "sweeper")


@pytest.mark.postgresql_only
def test_a_claim_in_flight_elsewhere_is_skipped_not_waited_for(q, core, test_env, clock):  # type: ignore[no-untyped-def]
    """Another connection holds the row lock of the oldest due job (its claim is in flight):
    this claim takes the next due job at once (SKIP LOCKED) instead of queueing behind it."""
    first = q.enqueue("k", {"n": 1}, run_at=clock.now - timedelta(seconds=1))
    second = q.enqueue("k", {"n": 2})
    impatient = make_engine(test_env["WARTA_DATABASE_URL"],
                            connect_args={"options": "-c lock_timeout=3000"})
    try:
        with core.engine.connect() as other:
            other.execute(select(Job.id).where(Job.id == first).with_for_update())
            got = JobQueue(make_sessionmaker(impatient), clock=core.clock).claim(
                "w", lease_seconds=60, limit=2)
            other.rollback()
    finally:
        impatient.dispose()
    assert [j.id for j in got] == [second]


def test_the_take_only_takes_queued_jobs(q, core, clock):  # type: ignore[no-untyped-def]
    """The claim's second statement re-checks ``status = 'queued'``: a job another worker took
    between the pick and the take is not taken again (the guard behind SKIP LOCKED)."""
    from postqueue.queue import _claim_statements

    job_id = q.enqueue("k")
    assert [j.id for j in q.claim("w1", lease_seconds=60)] == [job_id]
    *_pick, take = _claim_statements(False)  # (peek,) pick, take: the last one takes
    with core.sessions.begin() as s:
        rows = s.execute(take, {"ids": [job_id], "owner": "w2", "now": clock.now,
                                "lease_until": clock.now + timedelta(seconds=60)}).all()
    assert rows == []
    assert _rows(q, [job_id])[job_id].lease_owner == "w1"


def test_a_held_lock_key_does_not_starve_other_channels_due_jobs(q, clock):  # type: ignore[no-untyped-def]
    """Channel 1 is publishing (its key is held) and has a backlog of older due jobs: a claim
    must skip that backlog and take the other channels' due jobs, in the same claim."""
    held = q.enqueue("publish", {"n": "held"}, lock_key="channel:1",
                     run_at=clock.now - timedelta(hours=2))
    assert [j.id for j in q.claim("w1", lease_seconds=60)] == [held]
    for i in range(20):  # older than everything else, far more than the claim's window
        q.enqueue("publish", {"n": i}, lock_key="channel:1",
                  run_at=clock.now - timedelta(hours=1, seconds=-i))
    two = q.enqueue("publish", {"n": "two"}, lock_key="channel:2")
    three = q.enqueue("publish", {"n": "three"}, lock_key="channel:3")
    free = q.enqueue("metrics", {"n": "free"})
    got = q.claim("w2", lease_seconds=60, limit=3)
    assert sorted(j.id for j in got) == sorted([two, three, free])
    assert {j.lock_key for j in got} == {"channel:2", "channel:3", None}


# -- lease expiry at the boundary --------------------------------------------------------------
# Decided: a lease is valid up to and including ``lease_expires_at``; it is expired strictly
# after that instant. A live worker renews at a third of the lease, so the boundary only
# matters for a stopped one, and counting the instant itself as "still held" can never let two
# workers run the same job.
def test_a_lease_is_still_held_at_its_expiry_instant(q, clock):  # type: ignore[no-untyped-def]
    q.enqueue("k")
    job = q.claim("w1", lease_seconds=30)[0]
    assert job.lease_expires_at == clock.now + timedelta(seconds=30)
    clock.now = job.lease_expires_at
    assert q.recover_expired() == [], "exactly at the expiry instant the lease still holds"
    assert q.claim("w2", lease_seconds=30) == []
    clock.now = job.lease_expires_at + timedelta(microseconds=1)
    assert q.recover_expired() == [job.id], "one microsecond later it has expired"
    again = q.claim("w2", lease_seconds=30)
    assert [j.id for j in again] == [job.id] and again[0].attempts == 2
    assert q.complete(job.id, "w1") is False, "the first owner lost it"


def test_a_heartbeat_at_the_expiry_instant_keeps_the_lease(q, clock):  # type: ignore[no-untyped-def]
    q.enqueue("k")
    job = q.claim("w1", lease_seconds=30)[0]
    clock.now = job.lease_expires_at
    assert q.extend_many([job.id], "w1", 30) == 1
    clock.advance(seconds=29)
    assert q.recover_expired() == []
    assert q.complete(job.id, "w1") is True


def test_a_job_completed_at_the_expiry_instant_is_not_recovered(q, clock):  # type: ignore[no-untyped-def]
    q.enqueue("k")
    job = q.claim("w1", lease_seconds=30)[0]
    clock.now = job.lease_expires_at
    assert q.complete(job.id, "w1") is True
    clock.advance(minutes=5)
    assert q.recover_expired() == []
    assert q.counts() == {"done": 1}
