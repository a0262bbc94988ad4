"""The worker process: APScheduler as the clock, a dispatcher that claims due jobs, and a
bounded thread pool that runs them.

APScheduler keeps only in-memory jobs here (the tick, lease recovery, metrics sweep,
heartbeat); the queue table is the single source of truth. Between ticks the dispatcher also
sleeps exactly until the next due job, so a publication starts within milliseconds of its
time rather than within a tick.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from postqueue import ClaimedJob
from publisher.core import Core
from publisher.db import refresh_statistics
from publisher.jobs import COLLECT_METRICS, POLL, PUBLISH
from publisher.models import WorkerHeartbeat
from publisher.services import workers
from publisher.worker.batch import run_publish_batch
from publisher.worker.metrics import handle_collect, sweep_metrics
from publisher.worker.publish import handle_poll, handle_publish
from publisher.worker.results import Done, Fail, JobResult, RetryAt, Settled

log = logging.getLogger(__name__)

Handler = Callable[[Core, ClaimedJob], JobResult]
HANDLERS: dict[str, Handler] = {
    PUBLISH: handle_publish,
    POLL: handle_poll,
    COLLECT_METRICS: handle_collect,
}


def run_job(core: Core, job: ClaimedJob,
            step: Callable[[], JobResult] | None = None) -> None:
    """Run one claimed job (or a step already decided for it, from a batch) and settle it in
    the queue; a crash retries the job."""
    handler = HANDLERS.get(job.kind)
    if handler is None:
        core.queue.fail(job.id, job.lease_owner, f"no handler for job kind {job.kind!r}")
        return
    try:
        result = step() if step is not None else handler(core, job)
    except Exception as exc:  # noqa: BLE001 - a bug must not kill the worker
        log.exception("job %s (%s) crashed", job.id, job.kind)
        if job.attempts >= core.settings.max_attempts:
            core.queue.fail(job.id, job.lease_owner, repr(exc)[:1000])
        else:
            core.queue.retry(job.id, job.lease_owner,
                             run_at=core.now() + timedelta(seconds=30 * job.attempts),
                             error=repr(exc)[:1000])
        return
    apply_result(core, job, result)


def apply_result(core: Core, job: ClaimedJob, result: JobResult) -> None:
    """Settle a job in the queue as its handler decided."""
    if isinstance(result, Settled):
        return
    if isinstance(result, Done):
        core.queue.complete(job.id, job.lease_owner)
    elif isinstance(result, RetryAt):
        core.queue.retry(job.id, job.lease_owner, run_at=result.when, error=result.error)
    elif isinstance(result, Fail):
        core.queue.fail(job.id, job.lease_owner, result.error)


def run_once(core: Core, worker_id: str = "once", *, max_jobs: int = 100_000) -> int:
    """Do one worker's round synchronously: recover expired leases, sweep metrics, then run
    every job due now. For tests, cron-style installs and ``warta worker --once``."""
    core.queue.recover_expired()
    sweep_metrics(core)
    ran = 0
    while ran < max_jobs:
        jobs = core.queue.claim(worker_id, lease_seconds=core.settings.lease_seconds, limit=1)
        if not jobs:
            break
        run_job(core, jobs[0])
        ran += 1
    return ran


#: Publish jobs per batch (and jobs claimed per free thread).
BATCH = 64


def _tasks(jobs: list[ClaimedJob]) -> list[ClaimedJob | list[ClaimedJob]]:
    """Group claimed jobs into pool tasks: publish jobs in batches, the rest one by one."""
    publish = [j for j in jobs if j.kind == PUBLISH]
    tasks: list[ClaimedJob | list[ClaimedJob]] = [j for j in jobs if j.kind != PUBLISH]
    for i in range(0, len(publish), BATCH):
        chunk = publish[i:i + BATCH]
        tasks.append(chunk if len(chunk) > 1 else chunk[0])
    return tasks


class Worker:
    def __init__(self, core: Core, *, threads: int | None = None,
                 worker_id: str | None = None) -> None:
        self.core = core
        self.threads = threads or core.settings.worker_threads
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._inflight = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="warta-job")
        #: Platform calls of a batch run here, concurrently (distinct channels).
        self._calls = ThreadPoolExecutor(self.threads, thread_name_prefix="warta-call")
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._thread: threading.Thread | None = None
        #: Jobs this worker holds; their leases are renewed until they are settled.
        self._held: set[int] = set()

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        poll = self.core.settings.poll_seconds
        lease = self.core.settings.lease_seconds
        sched = self._scheduler
        sched.add_job(self._wake.set, "interval", seconds=poll, id="tick", max_instances=1,
                      coalesce=True)
        sched.add_job(self._safe(self.core.queue.recover_expired), "interval",
                      seconds=max(2, min(30, lease / 4)), id="recover", max_instances=1,
                      coalesce=True)
        sched.add_job(self._safe(lambda: sweep_metrics(self.core)), "interval", seconds=60,
                      id="metrics", max_instances=1, coalesce=True)
        sched.add_job(self._safe(self.heartbeat), "interval", seconds=10, id="heartbeat",
                      max_instances=1, coalesce=True)
        sched.add_job(self._safe(self.renew_leases), "interval", seconds=max(1, lease / 3),
                      id="leases", max_instances=1, coalesce=True)
        if self.core.engine.dialect.name == "sqlite":
            # Planner statistics follow the data's growth (see ``db.refresh_statistics``).
            sched.add_job(self._safe(lambda: refresh_statistics(self.core.engine)), "interval",
                          hours=24, id="statistics", max_instances=1, coalesce=True,
                          next_run_time=datetime.now(UTC) + timedelta(minutes=10))
        self.heartbeat()
        self._safe(self.core.queue.recover_expired)()
        sched.start()
        self._thread = threading.Thread(target=self._dispatch, name="warta-dispatch",
                                        daemon=True)
        self._thread.start()
        log.info("worker %s started: %d threads, tick %.2fs", self.worker_id, self.threads, poll)

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        self._scheduler.shutdown(wait=False)
        if self._thread:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=wait)
        self._calls.shutdown(wait=wait)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            log.info("stopping worker %s", self.worker_id)
        finally:
            self.stop()

    # -- the loop -----------------------------------------------------------------------------
    def _safe(self, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except Exception:  # noqa: BLE001 - maintenance must not kill the scheduler
                log.exception("periodic task %s failed", getattr(fn, "__name__", fn))
        return run

    def _dispatch(self) -> None:
        poll = self.core.settings.poll_seconds
        while not self._stop.is_set():
            # Clear before looking, never after waiting: a job that finishes (and sets the
            # event) while we claim or compute the wait must wake the next wait at once.
            self._wake.clear()
            claimed = 0
            with self._lock:
                free = self.threads - self._inflight
            claim_at = self.core.now()
            if free > 0:
                try:
                    # Up to BATCH jobs per free slot: in a burst, publish jobs go out as
                    # batches (one slot each); otherwise this claims what is due, one by one.
                    jobs = self.core.queue.claim(self.worker_id,
                                                 lease_seconds=self.core.settings.lease_seconds,
                                                 limit=free * BATCH)
                except Exception:  # noqa: BLE001 - database away: try again next tick
                    log.exception("claim failed")
                    jobs = []
                claimed = len(jobs)
                with self._lock:
                    self._held.update(j.id for j in jobs)
                for task in _tasks(jobs):
                    with self._lock:
                        self._inflight += 1
                    if isinstance(task, list):
                        self._pool.submit(self._run_batch, task)
                    else:
                        self._pool.submit(self._run, task)
                if claimed and claimed == free * BATCH:
                    continue  # maybe more are due; slots will free up
            wait = poll
            if free > 0 and not claimed:
                try:
                    due = self.core.queue.next_due()
                except Exception:  # noqa: BLE001
                    due = None
                if due is not None and due > claim_at:
                    # Due after our claim looked: sleep exactly until then (0: claim again
                    # now). A job already due when we looked but not taken waits for its
                    # channel's running job: the tick or that job's completion wakes us.
                    wait = min(poll, max(0.0, (due - self.core.now()).total_seconds()))
            self._wake.wait(wait)

    def _run(self, job: ClaimedJob) -> None:
        try:
            run_job(self.core, job)
        finally:
            with self._lock:
                self._inflight -= 1
                self._held.discard(job.id)
            self._wake.set()

    def _run_batch(self, jobs: list[ClaimedJob]) -> None:
        try:
            run_publish_batch(self.core, jobs, self._calls,
                              run_step=lambda job, step: run_job(self.core, job, step),
                              settle=lambda job, result: apply_result(self.core, job, result))
        except Exception:  # noqa: BLE001 - leases expire and recovery reconciles
            log.exception("publish batch of %d jobs failed", len(jobs))
        finally:
            with self._lock:
                self._inflight -= 1
                self._held.difference_update(j.id for j in jobs)
            self._wake.set()

    def renew_leases(self) -> None:
        with self._lock:
            held = list(self._held)
        self.core.queue.extend_many(held, self.worker_id, self.core.settings.lease_seconds)

    def heartbeat(self) -> None:
        now = self.core.now()
        values = dict(worker_id=self.worker_id, host=socket.gethostname(), pid=os.getpid(),
                      started_at=now, last_tick_at=now, info=f"threads={self.threads}")
        with self.core.sessions.begin() as s:
            dialect = s.get_bind().dialect.name
            ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(WorkerHeartbeat)
            s.execute(ins.values(**values).on_conflict_do_update(
                index_elements=["worker_id"], set_={"last_tick_at": now}))
            workers.forget_old(s, now)
