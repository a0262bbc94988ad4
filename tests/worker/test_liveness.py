"""A worker's heartbeat and the recovery of a dead worker's jobs, in-process on both backends
with the test clock (``publisher/worker/liveness.py``; the multi-process tests, ``-m slow``,
show the same with real processes and SIGKILL).

The rules pinned here are the ones that keep a post from going out twice: a worker is dead
only when its heartbeat is *older* than ``WARTA_WORKER_DEAD_AFTER`` (never at the instant),
only its running jobs go back to the queue (not a live worker's, not our own, not those of a
worker with no heartbeat row), and on PostgreSQL never while its session lock is held, however
stale its heartbeat: a slow worker may still be in the middle of a call.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from postqueue import Job, JobQueue, JobStatus
from publisher.config import load_settings
from publisher.core import Core, build_core
from publisher.models import WorkerHeartbeat
from publisher.services.workers import FORGET_AFTER
from publisher.worker import liveness as lv
from publisher.worker.liveness import Liveness, lock_key

#: The settings the tests run with (the defaults): beat every second, dead after five.
EVERY, DEAD_AFTER = 1.0, 5.0


@pytest.fixture
def q(core: Core) -> JobQueue:
    assert (core.settings.heartbeat_seconds, core.settings.worker_dead_after) == (EVERY,
                                                                                  DEAD_AFTER)
    return JobQueue(core.sessions, clock=core.clock)


@pytest.fixture
def beaters(core: Core) -> Iterator[list[Liveness]]:
    """Livenesses made by a test, stopped afterwards (each holds a connection on PostgreSQL)."""
    made: list[Liveness] = []
    yield made
    for one in made:
        one.stop()


def live(core: Core, beaters: list[Liveness], worker_id: str, **kw: object) -> Liveness:
    one = Liveness(core, worker_id, f"info of {worker_id}", **kw)  # type: ignore[arg-type]
    beaters.append(one)
    return one


def heartbeat(core: Core, worker_id: str) -> WorkerHeartbeat | None:
    with core.sessions() as s:
        row = s.get(WorkerHeartbeat, worker_id)
        if row is not None:
            s.expunge(row)
        return row


def running_job(q: JobQueue, owner: str) -> int:
    job_id = q.enqueue("publish", {"owner": owner})
    (claimed,) = q.claim(owner, lease_seconds=600)
    assert claimed.id == job_id
    return job_id


def job(core: Core, job_id: int) -> Job:
    with core.sessions() as s:
        row = s.get(Job, job_id)
        assert row is not None
        s.expunge(row)
        return row


def test_a_beat_writes_who_where_and_when_and_later_beats_move_only_the_time(  # type: ignore[no-untyped-def]
        core, clock, beaters) -> None:
    started = clock.now
    w = live(core, beaters, "w-1")
    w.beat()
    row = heartbeat(core, "w-1")
    assert row is not None
    assert (row.host, row.pid, row.info) == (socket.gethostname(), os.getpid(), "info of w-1")
    assert row.started_at == started and row.last_tick_at == started
    clock.advance(seconds=3)
    w.beat()
    row = heartbeat(core, "w-1")
    assert row is not None
    assert row.started_at == started and row.last_tick_at == clock.now


def test_live_workers_counts_heartbeats_up_to_the_dead_after_instant(  # type: ignore[no-untyped-def]
        core, clock, beaters) -> None:
    w = live(core, beaters, "counter")
    w.beat()
    assert w.live_workers == 1
    others = [live(core, beaters, f"other-{i}") for i in range(2)]
    for o in others:
        o.beat()
    w.beat()
    assert w.live_workers == 3
    clock.advance(seconds=DEAD_AFTER)  # the others' beats are exactly DEAD_AFTER old: alive
    w.beat()
    assert w.live_workers == 3
    clock.advance(microseconds=1)
    w.beat()
    assert w.live_workers == 1  # never fewer than ourselves


def test_a_dead_workers_running_jobs_go_back_to_the_queue_and_no_one_elses(  # type: ignore[no-untyped-def]
        core, clock, q, beaters) -> None:
    recovered: list[list[int]] = []
    me = live(core, beaters, "me", on_recovered=recovered.append)
    dead, alive = live(core, beaters, "dead"), live(core, beaters, "alive")
    dead.beat()
    dead.stop()  # its connection (and on PostgreSQL its lock) is gone, as after a SIGKILL
    dead_jobs = [running_job(q, "dead") for _ in range(2)]
    mine = running_job(q, "me")
    ghost = running_job(q, "no-heartbeat")  # run_once's jobs: left to their lease
    queued = q.enqueue("publish", {"n": "waiting"}, run_at=clock.now + timedelta(hours=1))
    clock.advance(seconds=DEAD_AFTER)
    alive.beat()
    alive_job = running_job(q, "alive")
    me.beat()
    assert me.recover_dead() == []  # exactly DEAD_AFTER old: not dead yet
    clock.advance(microseconds=1)
    got = me.recover_dead()
    assert sorted(got) == sorted(dead_jobs)
    assert recovered == [got]
    for job_id in dead_jobs:
        row = job(core, job_id)
        assert (row.status, row.lease_owner, row.lease_expires_at) == (JobStatus.QUEUED, None,
                                                                       None)
        assert row.run_at == clock.now and row.updated_at == clock.now
        assert "heartbeat" in (row.last_error or "")
    for job_id, owner in ((mine, "me"), (ghost, "no-heartbeat"), (alive_job, "alive")):
        row = job(core, job_id)
        assert (row.status, row.lease_owner) == (JobStatus.RUNNING, owner)
    assert job(core, queued).status == JobStatus.QUEUED
    assert me.recover_dead() == [] and recovered == [got]  # once


def test_nothing_running_elsewhere_recovers_nothing_and_calls_no_one(  # type: ignore[no-untyped-def]
        core, clock, q, beaters) -> None:
    calls: list[list[int]] = []
    me = live(core, beaters, "solo", on_recovered=calls.append)
    me.beat()
    running_job(q, "solo")
    clock.advance(hours=1)
    assert me.recover_dead() == [] and calls == []


def test_on_postgresql_a_stale_heartbeat_with_its_lock_held_is_not_dead(  # type: ignore[no-untyped-def]
        core, clock, q, beaters, backend) -> None:
    """A slow worker (its heartbeat thread starved) keeps its session lock: taking its jobs
    could post twice. On SQLite (one machine) the heartbeat alone decides."""
    slow, me = live(core, beaters, "slow"), live(core, beaters, "watcher")
    slow.start()  # holds pg_advisory_lock on its own connection (PostgreSQL)
    slow._stop.set()  # its heartbeat thread stops beating; the connection stays
    job_id = running_job(q, "slow")
    clock.advance(seconds=DEAD_AFTER + 1)
    me.beat()
    if backend == "postgresql":
        assert me.recover_dead() == []
        assert job(core, job_id).status == JobStatus.RUNNING
        slow.stop()  # the connection closes: the lock is free, the worker is dead
    assert me.recover_dead() == [job_id]
    assert job(core, job_id).status == JobStatus.QUEUED


@pytest.mark.parametrize("worker_id", ["w", "worker-host-1234-abcd", "ünïcode", "x" * 80])
def test_a_lock_key_is_a_stable_signed_64_bit_number(worker_id: str) -> None:
    key = lock_key(worker_id)
    assert key == lock_key(worker_id) and isinstance(key, int)
    assert -(2 ** 63) <= key < 2 ** 63
    assert key != lock_key(worker_id + "!")


def test_lock_keys_use_the_whole_signed_range() -> None:
    """Signed, from eight bytes: about half the keys are negative, and some need all 64 bits
    (PostgreSQL's bigint takes exactly that range)."""
    keys = [lock_key(f"worker-{i}") for i in range(400)]
    negative = sum(k < 0 for k in keys)
    assert 150 < negative < 250
    assert any(abs(k) >= 2 ** 62 for k in keys)


@pytest.mark.postgresql_only
def test_on_postgresql_a_worker_whose_key_is_held_elsewhere_refuses_to_start(  # type: ignore[no-untyped-def]
        core, backend, beaters) -> None:
    with core.engine.connect() as other:
        assert other.execute(select(func.pg_advisory_lock(lock_key("twin")))).first()
        other.commit()
        twin = live(core, beaters, "twin")
        with pytest.raises(RuntimeError, match="held elsewhere"):
            twin.start()
        assert heartbeat(core, "twin") is None  # never beat as if it held the lock


@pytest.mark.postgresql_only
def test_the_lock_is_held_while_the_worker_lives_and_freed_when_it_stops(  # type: ignore[no-untyped-def]
        core, backend, beaters) -> None:
    w = live(core, beaters, "holder")
    w.start()
    with core.engine.connect() as other:
        key = lock_key("holder")
        assert other.execute(select(func.pg_try_advisory_xact_lock(key))).scalar() is False
        other.rollback()
        w.stop()
        assert other.execute(select(func.pg_try_advisory_xact_lock(key))).scalar() is True
        other.rollback()


def test_old_heartbeat_rows_are_forgotten_on_a_forgetting_beat_only(  # type: ignore[no-untyped-def]
        core, clock, beaters) -> None:
    gone = live(core, beaters, "gone")
    gone.beat()
    gone.stop()
    clock.advance(seconds=FORGET_AFTER.total_seconds() + 1)
    me = live(core, beaters, "sweeper")
    me.beat()
    assert heartbeat(core, "gone") is not None
    me.beat(forget=True)
    assert heartbeat(core, "gone") is None and heartbeat(core, "sweeper") is not None


def test_fresh_only_while_the_last_good_beat_is_recent(  # type: ignore[no-untyped-def]
        core, beaters, monkeypatch) -> None:
    """Fresh for max(beat, dead_after - 2 beats) = 3 s after the last good beat: after that
    another worker could soon declare us dead, so we start nothing new."""
    now = [1000.0]
    monkeypatch.setattr(lv.time, "monotonic", lambda: now[0])
    w = live(core, beaters, "fresh")
    assert not w.fresh()  # never beat
    w.beat()
    assert w.fresh()
    now[0] += 2.999
    assert w.fresh()
    now[0] += 0.001
    assert not w.fresh()
    w.beat()
    assert w.fresh()


def test_a_short_beat_keeps_fresh_for_one_beat(test_env, clock, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With dead_after at three beats, ``dead_after - 2 beats`` is one beat."""
    core = build_core(load_settings({**test_env, "WARTA_HEARTBEAT_SECONDS": "2",
                                     "WARTA_WORKER_DEAD_AFTER": "6"}), clock=clock)
    try:
        now = [50.0]
        monkeypatch.setattr(lv.time, "monotonic", lambda: now[0])
        w = Liveness(core, "short", "")
        w.beat()
        now[0] += 1.999
        assert w.fresh()
        now[0] += 0.002
        assert not w.fresh()
        w.stop()
    finally:
        core.engine.dispose()


def test_started_it_beats_in_its_rhythm_and_stops_cleanly(test_env, clock) -> None:  # type: ignore[no-untyped-def]
    core = build_core(load_settings({**test_env, "WARTA_HEARTBEAT_SECONDS": "0.1",
                                     "WARTA_WORKER_DEAD_AFTER": "1"}), clock=clock)
    try:
        w = Liveness(core, "rhythm", "")
        w.start()
        deadline = time.monotonic() + 10
        while w._beats < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert w._beats >= 4, "the heartbeat thread did not beat"
        w.stop()
        assert w._thread is not None and not w._thread.is_alive()
        beats = w._beats
        time.sleep(0.2)
        assert w._beats == beats  # stopped means stopped
    finally:
        core.engine.dispose()


def test_a_failed_beat_is_logged_and_the_next_one_goes_on(  # type: ignore[no-untyped-def]
        test_env, clock, caplog) -> None:
    core = build_core(load_settings({**test_env, "WARTA_HEARTBEAT_SECONDS": "0.1",
                                     "WARTA_WORKER_DEAD_AFTER": "1"}), clock=clock)
    try:
        w = Liveness(core, "flaky", "")
        real = w.beat
        failures = [1]

        def sometimes(forget: bool = False) -> None:
            if failures:
                failures.pop()
                raise RuntimeError("database away")
            real(forget=forget)

        w.start()  # the first beat (in start) succeeds
        w.beat = sometimes  # type: ignore[method-assign]
        deadline = time.monotonic() + 10
        with caplog.at_level(logging.WARNING, logger="publisher.worker.liveness"):
            while w._beats < 3 and time.monotonic() < deadline:
                time.sleep(0.02)
        w.stop()
        assert w._beats >= 3, "beats stopped after one failure"
        assert any("heartbeat of flaky failed" in r.getMessage() for r in caplog.records)
    finally:
        core.engine.dispose()


@pytest.mark.postgresql_only
def test_the_heartbeat_row_is_written_through_the_lock_connection_on_postgresql(  # type: ignore[no-untyped-def]
        core, backend, beaters) -> None:
    """So "my heartbeat is fresh" also means "my lock is held": the beat's backend process
    is the one holding the advisory lock."""
    w = live(core, beaters, "same-conn")
    w.start()
    pid = w._conn.execute(text("SELECT pg_backend_pid()")).scalar()
    w._conn.commit()
    with core.engine.connect() as other:
        held = other.execute(text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND pid = :pid"), {"pid": pid}).scalar()
    assert held == 1
