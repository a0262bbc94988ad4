"""Workers share the load and a slow call holds up nobody else.

* Several worker processes on PostgreSQL with a slow sandbox: each claims only what it can start
  now (one job per free call slot, at most a fair share), so attempts come from every worker
  (before, the first worker to tick took every account's job and the others found nothing).
* In one worker, a slow call on one account does not delay the other accounts' posts: each
  result is saved as its own call returns (before, a batch freed nothing until its slowest
  call returned).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from publisher.models import Publication, PublicationStatus, PublishAttempt, Role, WorkerHeartbeat
from publisher.worker import Worker
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.worker.procs import start_worker, stop, wait_for

pytestmark = pytest.mark.slow
S = PublicationStatus


def _statuses(core) -> Counter:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return Counter(dict(s.execute(select(Publication.status, func.count())
                                      .group_by(Publication.status)).all()))


@pytest.mark.postgresql_only
def test_every_worker_takes_its_share(core, clock, test_env, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock.frozen = False  # worker processes run on real time
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    accounts = [f"bagi{i:02d}" for i in range(24)]
    channels = [sandbox_channel(core, op, a) for a in accounts]
    for a in accounts:
        set_control(core, a, delay=1.0)  # a real platform takes a while
    env = {**test_env, "WARTA_POLL_SECONDS": "0.2", "WARTA_WORKER_THREADS": "4"}
    workers = [start_worker(env, tmp_path / f"w{i}.log") for i in range(3)]
    try:
        def beating() -> int:
            with core.sessions() as s:
                return s.execute(select(func.count()).select_from(WorkerHeartbeat)).scalar_one()
        wait_for(lambda: beating() == 3, 60, "three workers to beat")
        when = clock() + timedelta(seconds=2)
        for n in range(2):
            approved_post(core, op, ap, channels, body=f"Pengumuman {n}", when=when)
        wait_for(lambda: _statuses(core)[S.PUBLISHED] == 48, 120, "48 publications",
                 interval=0.5)
    finally:
        for w in workers:
            stop(w)
    with core.sessions() as s:
        by_worker = Counter(s.execute(select(PublishAttempt.worker)).scalars())
    assert len(by_worker) == 3, f"attempts by worker: {dict(by_worker)}"
    assert all(n >= 2 for n in by_worker.values()), dict(by_worker)
    keys = Counter(r["key"] for a in accounts for r in outbox_records(core, a))
    assert len(keys) == 48 and set(keys.values()) == {1}


def test_a_slow_call_does_not_delay_other_accounts(core, clock, make_user):  # type: ignore[no-untyped-def]
    """The clock stays frozen (the worker claims what is due at the test's instant); only the
    slow sandbox call takes real time."""
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    slow = sandbox_channel(core, op, "lambat")
    fast_accounts = [f"cepat{i}" for i in range(6)]
    fast = [sandbox_channel(core, op, a) for a in fast_accounts]
    set_control(core, "lambat", delay=20)
    approved_post(core, op, ap, [slow, *fast], body="Pertama", when=clock.now)
    approved_post(core, op, ap, fast, body="Kedua", when=clock.now)  # behind each account's first
    worker = Worker(core, threads=4, worker_id="satu")
    worker.start()
    started = time.monotonic()
    try:
        wait_for(lambda: _statuses(core)[S.PUBLISHED] == 12, 15,
                 "both posts of every fast account", interval=0.1)
        fast_done = time.monotonic() - started
        assert _statuses(core)[S.PUBLISHING] == 1, "the slow call is still in flight"
    finally:
        worker.stop()  # waits for the slow call
    assert fast_done < 15
    assert _statuses(core) == Counter({S.PUBLISHED: 13})
    assert len(outbox_records(core, "lambat")) == 1
    assert all(len(outbox_records(core, a)) == 2 for a in fast_accounts)
