"""Queue priority (emergency broadcasts): a due job with a priority is claimed before older
ordinary due jobs, on the one-by-one claim, the batch claim, the fair-share claim and the
kinds filter; a future one is not claimed early; lock keys still hold one job per key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from postqueue import JobQueue


@pytest.fixture
def q(core):  # type: ignore[no-untyped-def]
    return JobQueue(core.sessions, clock=core.clock)


def test_an_urgent_job_is_claimed_before_older_due_jobs(q, clock) -> None:  # type: ignore[no-untyped-def]
    old = [q.enqueue("publish", {"n": i}, run_at=clock.now - timedelta(minutes=10 - i),
                     lock_key=f"channel:{i}") for i in range(3)]
    q.enqueue("publish", {"later": 1}, run_at=clock.now + timedelta(minutes=1), priority=100)
    urgent = [q.enqueue("publish", {"u": i}, priority=100, lock_key=f"channel:{10 + i}")
              for i in range(2)]
    # A second urgent job of a channel whose urgent job runs waits (one per lock key).
    q.enqueue("publish", {"u": 9}, priority=100, lock_key="channel:10")
    assert [j.id for j in q.claim("w1", lease_seconds=60, limit=1)] == urgent[:1]
    batch = q.claim("w2", lease_seconds=60, limit=3, kinds=["publish"])
    assert [j.id for j in batch] == [urgent[1], old[0], old[1]]
    shared, _left = q.claim_share("w3", lease_seconds=60, limit=5, share_of=1)
    assert [j.id for j in shared] == [old[2]]


def test_enqueue_many_returns_each_jobs_id_in_order(core, clock) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from postqueue import Job, enqueue_many

    items = [({"publication_id": 100 - i}, f"channel:{i}") for i in range(30)]
    with core.sessions.begin() as s:
        ids = enqueue_many(s, "publish", items, run_at=clock.now, now=clock.now, priority=100)
    with core.sessions() as s:
        stored = {r.id: (r.payload, r.lock_key, r.priority)
                  for r in s.execute(select(Job)).scalars()}
    assert [stored[i][:2] for i in ids] == [(p, k) for p, k in items]
    assert {v[2] for v in stored.values()} == {100}
