"""Which workers are alive, in seconds rather than after a lease: heartbeats, and on PostgreSQL
a session-level advisory lock per worker.

Every worker writes its heartbeat every ``WARTA_HEARTBEAT_SECONDS`` (1 s) and, in the same
rhythm, looks for workers that hold running jobs but whose heartbeat is older than
``WARTA_WORKER_DEAD_AFTER`` (5 s): their jobs go back to the queue at once, where the publish
handler reconciles what was submitted (``lookup``) instead of posting again.

A heartbeat can be late for a live worker (a stalled disk, a starved CPU); taking that worker's
jobs while its calls are still running could post twice. So on PostgreSQL a stale heartbeat is
not enough: each worker holds ``pg_advisory_lock(<its key>)`` on a connection of its own for as
long as it lives, and a worker is dead only when another can take that lock
(``pg_try_advisory_xact_lock``), which the database allows the moment the dead worker's
connection closes (a SIGKILL, a power cut) and never while a live-but-slow worker keeps it.
The heartbeat is written through that same connection, so "my heartbeat is fresh" also means
"my lock is held". On SQLite (one machine, normally one worker) the heartbeat alone decides.
A worker whose own heartbeat has not succeeded recently stops claiming and starting calls
(``fresh``), and the submit mark itself is conditional on still holding the job's lease.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from postqueue.queue import recover_owners_in, running_owners_in
from publisher.core import Core
from publisher.models import WorkerHeartbeat
from publisher.observability import instruments
from publisher.services import workers

log = logging.getLogger(__name__)

#: Old heartbeat rows are swept every this many beats (a minute at the default rhythm).
FORGET_EVERY = 60


def lock_key(worker_id: str) -> int:
    """A worker's advisory-lock key: a signed 64-bit number derived from its id."""
    return int.from_bytes(hashlib.sha256(worker_id.encode()).digest()[:8], "big", signed=True)


class Liveness:
    """One worker's heartbeat, its advisory lock (PostgreSQL) and the dead-worker recovery."""

    def __init__(self, core: Core, worker_id: str, info: str,
                 on_recovered: Callable[[list[int]], None] | None = None) -> None:
        self.core = core
        self.worker_id = worker_id
        self.info = info
        self.every = core.settings.heartbeat_seconds
        self.dead_after = core.settings.worker_dead_after
        self.postgresql = core.engine.dialect.name == "postgresql"
        self.on_recovered = on_recovered
        self.live_workers = 1
        self._last_ok = 0.0
        self._beats = 0
        self._conn: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = core.now()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self._connect()
        self.beat(forget=True)
        self.recover_dead()
        self._thread = threading.Thread(target=self._loop, name="warta-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        # Closed for real (invalidated), not returned to the pool: a pooled connection keeps
        # its session's advisory lock, and the stopped worker would look alive to the others
        # for as long as this process lives.
        self._drop_connection()

    def fresh(self) -> bool:
        """Has our heartbeat (and, on PostgreSQL, our lock) been confirmed recently enough that
        nobody can have declared us dead? If not, start nothing new."""
        return time.monotonic() - self._last_ok < max(self.every, self.dead_after - 2 * self.every)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.beat(forget=self._beats % FORGET_EVERY == 0)
            except Exception:  # noqa: BLE001 - database away: try again, reconnect
                log.warning("heartbeat of %s failed", self.worker_id, exc_info=True)
                self._drop_connection()
                continue
            try:
                self.recover_dead()
            except Exception:  # noqa: BLE001
                log.warning("dead-worker recovery failed", exc_info=True)

    # -- the lock connection (PostgreSQL) -----------------------------------------------------
    def _connect(self) -> None:
        if not self.postgresql or self._conn is not None:
            return
        conn = self.core.engine.connect()
        got = conn.execute(select(func.pg_try_advisory_lock(lock_key(self.worker_id)))).scalar()
        conn.commit()
        if not got:  # another session holds our key: never beat as if we held it
            conn.close()
            raise RuntimeError(f"advisory lock of worker {self.worker_id} is held elsewhere")
        self._conn = conn

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None

    # -- beat and recovery --------------------------------------------------------------------
    def beat(self, forget: bool = False) -> None:
        """Write our heartbeat (through the lock's connection on PostgreSQL) and count the
        live workers (the claim's fair share divides by it)."""
        now = self.core.now()
        values = dict(worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
                      started_at=self._started_at, last_tick_at=now, info=self.info)
        ins = (pg_insert if self.postgresql else sqlite_insert)(WorkerHeartbeat)
        stmt = ins.values(**values).on_conflict_do_update(index_elements=["worker_id"],
                                                          set_={"last_tick_at": now})
        live = select(func.count()).select_from(WorkerHeartbeat).where(
            WorkerHeartbeat.last_tick_at >= now - timedelta(seconds=self.dead_after))
        if self.postgresql:
            self._connect()
            conn = self._conn
            try:
                conn.execute(stmt)
                if forget:
                    conn.execute(workers.forget_statement(now))
                n = conn.execute(live).scalar_one()
                conn.commit()
            except Exception:
                conn.rollback()
                raise
        else:
            with self.core.sessions.begin() as s:
                s.execute(stmt)
                if forget:
                    workers.forget_old(s, now)
                n = s.execute(live).scalar_one()
        self._beats += 1
        self.live_workers = max(1, int(n))
        self._last_ok = time.monotonic()
        instruments.beat()

    def recover_dead(self) -> list[int]:
        """Re-queue the running jobs of workers whose heartbeat is stale (and, on PostgreSQL,
        whose advisory lock is free: their connection is gone). Jobs without a heartbeat row
        (``run_once``) are left to lease expiry."""
        now = self.core.now()
        with self.core.sessions() as s:
            owners = [o for o in running_owners_in(s) if o != self.worker_id]
        if not owners:
            return []
        with self.core.sessions.begin() as s:
            stale = list(s.execute(select(WorkerHeartbeat.worker_id).where(
                WorkerHeartbeat.worker_id.in_(owners),
                WorkerHeartbeat.last_tick_at < now - timedelta(seconds=self.dead_after)))
                .scalars())
            if self.postgresql:
                # The transaction-level lock is ours until commit, so the check and the
                # recovery see the same answer; a live worker's session lock refuses it.
                stale = [o for o in stale if s.execute(
                    select(func.pg_try_advisory_xact_lock(lock_key(o)))).scalar()]
            ids = recover_owners_in(s, stale, now)
        if ids:
            log.warning("recovered %d jobs of dead worker(s) %s", len(ids), ", ".join(stale))
            if self.on_recovered:
                self.on_recovered(ids)
        return ids
