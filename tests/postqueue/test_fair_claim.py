"""The fair claim: a worker takes at most its share of what could start now, so the first one to
look does not take every account's job; and the dead-worker recovery takes exactly the jobs of
the owners it is given."""

from __future__ import annotations

import pytest

from postqueue import JobQueue
from postqueue.queue import recover_owners_in, running_owners_in


@pytest.fixture
def q(core):  # type: ignore[no-untyped-def]
    return JobQueue(core.sessions, clock=core.clock)


def test_a_claim_takes_a_fair_share_of_the_startable_jobs(q):  # type: ignore[no-untyped-def]
    for ch in range(9):
        q.enqueue("publish", {}, lock_key=f"channel:{ch}")
        q.enqueue("publish", {}, lock_key=f"channel:{ch}")  # behind the first: not startable
    jobs, left = q.claim_share("w1", lease_seconds=60, limit=16, share_of=3)
    assert len(jobs) == 3 and left == 6, "a third of the nine startable jobs"
    assert len({j.lock_key for j in jobs}) == 3
    jobs2, left2 = q.claim_share("w2", lease_seconds=60, limit=16, share_of=3)
    assert len(jobs2) == 2 and left2 == 4  # ceil(6 / 3)
    alone, rest = q.claim_share("w3", lease_seconds=60, limit=16, share_of=1)
    assert len(alone) == 4 and rest == 0, "a lone worker takes all it can start"


def test_a_claim_never_takes_more_than_its_free_slots(q):  # type: ignore[no-untyped-def]
    for ch in range(10):
        q.enqueue("publish", {}, lock_key=f"channel:{ch}")
    jobs, left = q.claim_share("w1", lease_seconds=60, limit=2, share_of=2)
    assert len(jobs) == 2 and left == 8


def test_recovering_a_dead_owner_takes_only_its_jobs(q, core):  # type: ignore[no-untyped-def]
    for ch in range(4):
        q.enqueue("publish", {}, lock_key=f"channel:{ch}")
    dead = q.claim("dead", lease_seconds=600, limit=2)
    live = q.claim("live", lease_seconds=600, limit=2)
    with core.sessions.begin() as s:
        assert sorted(running_owners_in(s)) == ["dead", "live"]
        ids = recover_owners_in(s, ["dead"])
    assert sorted(ids) == sorted(j.id for j in dead)
    assert q.counts() == {"running": 2, "queued": 2}
    assert not q.complete(dead[0].id, "dead"), "the dead owner's late write is refused"
    assert q.complete(live[0].id, "live")
