"""The worker process: APScheduler as the clock, a dispatcher that claims due jobs per free
call slot, pools of call slots (short posts; long uploads), a committer that saves results
as calls return, and a liveness thread (heartbeat, dead-worker recovery).

APScheduler keeps only in-memory jobs here (the tick, lease recovery, metrics and comments
sweeps, token renewals, the weekly report's sweep, heartbeat); the queue table is the single
source of truth. Between ticks the dispatcher also sleeps exactly until the next due job, so a
publication starts within milliseconds of its time rather than within a tick.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from queue import Empty, SimpleQueue
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from adapters.base import Published
from postqueue import ClaimedJob
from publisher.core import Core
from publisher.db import refresh_statistics
from publisher.jobs import (
    COLLECT_COMMENTS,
    COLLECT_METRICS,
    FIRST_COMMENT,
    NOTIFY_DIGEST,
    NOTIFY_FANOUT,
    NOTIFY_SEND,
    NOTIFY_WEEKLY,
    POLL,
    PUBLISH,
    PUBLISH_UPLOAD,
    RENEW_TOKEN,
    SEND_REPLY,
)
from publisher.notify import inbox_overdue, review_reminders, telegram_updates, weekly
from publisher.notify.admin import check_tokens
from publisher.services import inbox_retention, recurrence
from publisher.worker.batch import mark_submitted, prepare, record_published_many, settle_call
from publisher.worker.comments import handle_collect_comments, sweep_comments
from publisher.worker.first_comment import handle_first_comment
from publisher.worker.liveness import Liveness
from publisher.worker.metrics import handle_collect, sweep_metrics
from publisher.worker.notify import handle_digest, handle_fanout, handle_send, handle_weekly
from publisher.worker.poll import handle_poll
from publisher.worker.publish import call_platform, handle_publish
from publisher.worker.replies import handle_send_reply
from publisher.worker.results import DONE, Done, Fail, JobResult, RetryAt, Settled
from publisher.worker.tokens import handle_renew, sweep_token_renewals

log = logging.getLogger(__name__)

Handler = Callable[[Core, ClaimedJob], JobResult]
HANDLERS: dict[str, Handler] = {
    PUBLISH: handle_publish,
    PUBLISH_UPLOAD: handle_publish,
    POLL: handle_poll,
    COLLECT_METRICS: handle_collect,
    COLLECT_COMMENTS: handle_collect_comments,
    FIRST_COMMENT: handle_first_comment,
    SEND_REPLY: handle_send_reply,
    RENEW_TOKEN: handle_renew,
    NOTIFY_FANOUT: handle_fanout,
    NOTIFY_SEND: handle_send,
    NOTIFY_DIGEST: handle_digest,
    NOTIFY_WEEKLY: handle_weekly,
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
    """Do one worker's round synchronously: recover expired leases, sweep metrics, token
    renewals and the weekly report, then run every job due now. For tests, cron-style
    installs and ``warta worker --once``."""
    core.queue.recover_expired()
    sweep_metrics(core)
    sweep_comments(core)
    sweep_token_renewals(core)
    weekly.sweep(core)
    recurrence.sweep(core)
    if core.settings.notify_telegram_token and core.settings.notify_telegram_updates == "poll":
        telegram_updates.poll(core)
    ran = 0
    while ran < max_jobs:
        jobs = core.queue.claim(worker_id, lease_seconds=core.settings.lease_seconds, limit=1)
        if not jobs:
            break
        run_job(core, jobs[0])
        ran += 1
    return ran


#: After a fair-share claim left jobs for the other workers, look again this soon: if they
#: took them, nothing is left; if they are busy, we take the next share.
SHARE_PAUSE = 0.1
#: Job kinds that go through the publish path (snapshots, submit mark, platform call).
PUBLISH_KINDS = frozenset({PUBLISH, PUBLISH_UPLOAD})
#: Notification work (fan-out, one delivery): its own pool of this many slots per worker.
NOTIFY_KINDS = (NOTIFY_FANOUT, NOTIFY_SEND, NOTIFY_DIGEST, NOTIFY_WEEKLY)
NOTIFY_SLOTS = 2


class _Pool:
    """A kind of work with its own call slots: a slot is taken from claim until the job's call
    (or step) returns, so a claim asks for exactly as many jobs as can start now."""

    def __init__(self, name: str, size: int, kinds: tuple[str, ...]) -> None:
        self.name = name
        self.size = size
        self.kinds = kinds
        self.busy = 0
        self.executor = ThreadPoolExecutor(size, thread_name_prefix=f"warta-{name}")


class Worker:
    """Claims per free call slot (a fair share when several workers are live), starts every
    claimed call at once, and records each result as soon as its call returns (group-committed
    by ``_Committer``); long uploads have their own pool. See docs/ARCHITECTURE.md."""

    def __init__(self, core: Core, *, threads: int | None = None,
                 upload_threads: int | None = None, worker_id: str | None = None) -> None:
        self.core = core
        self.threads = threads or core.settings.worker_threads
        self.upload_threads = upload_threads or core.settings.upload_threads
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        short_kinds = tuple(sorted(k for k in HANDLERS
                                   if k != PUBLISH_UPLOAD and k not in NOTIFY_KINDS))
        # Deliveries have their own slots: a mail server may take WARTA_SMTP_TIMEOUT per
        # reply, and must never hold back a post that is due (they are due "at once" too).
        self._pools = [_Pool("call", self.threads, short_kinds),
                       _Pool("upload", self.upload_threads, (PUBLISH_UPLOAD,)),
                       _Pool("notify", NOTIFY_SLOTS, NOTIFY_KINDS)]
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._thread: threading.Thread | None = None
        #: Jobs this worker holds; their leases are renewed until they are settled.
        self._held: set[int] = set()
        self._committer = _Committer(core, self._release)
        self.liveness = Liveness(core, self.worker_id,
                                 f"threads={self.threads};uploads={self.upload_threads}")

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        poll = self.core.settings.poll_seconds
        lease = self.core.settings.lease_seconds
        sched = self._scheduler
        sched.add_job(self._wake.set, "interval", seconds=poll, id="tick", max_instances=1,
                      coalesce=True)
        # The backstop: jobs whose owner left no heartbeat (``run_once``) or whose lease ran
        # out for any other reason. Dead workers are found by ``Liveness`` within seconds.
        sched.add_job(self._safe(self.core.queue.recover_expired), "interval",
                      seconds=max(2, min(30, lease / 4)), id="recover", max_instances=1,
                      coalesce=True)
        sched.add_job(self._safe(lambda: sweep_metrics(self.core)), "interval", seconds=60,
                      id="metrics", max_instances=1, coalesce=True)
        sched.add_job(self._safe(lambda: sweep_comments(self.core)), "interval", seconds=60,
                      id="comments", max_instances=1, coalesce=True)
        sched.add_job(self._safe(self.renew_leases), "interval", seconds=max(1, lease / 3),
                      id="leases", max_instances=1, coalesce=True)
        if self.core.settings.notify_telegram_token:
            # The notification bot's updates (a "/start" that links a chat, a button pressed):
            # Telegram's side is made to match the setting at start (setWebhook or
            # deleteWebhook), then short polls of getUpdates with the offset in the database,
            # or nothing to poll: they come to POST /telegram/pembaruan
            # (``notify/telegram_updates.py``).
            webhook = self.core.settings.notify_telegram_updates == "webhook"
            ensure = self._safe(lambda: telegram_updates.ensure_mode(self.core))
            if webhook:  # checked again every 10 minutes (a failed start, a changed URL)
                sched.add_job(ensure, "interval", minutes=10, id="telegram-mode",
                              max_instances=1, coalesce=True, next_run_time=datetime.now(UTC))
            else:  # once: deleting every 10 minutes would fight another installation's hook
                sched.add_job(ensure, "date", run_date=datetime.now(UTC), id="telegram-mode")
                sched.add_job(self._safe(lambda: telegram_updates.poll(self.core)), "interval",
                              seconds=3, id="telegram", max_instances=1, coalesce=True,
                              next_run_time=datetime.now(UTC) + timedelta(seconds=3))
        # Channels whose token expires within 7 days: the admins hear of each once (a lock and
        # the audit log dedupe it across workers and ``warta check``).
        sched.add_job(self._safe(lambda: check_tokens(self.core)), "interval", hours=24,
                      id="token-expiry", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + timedelta(minutes=1))
        # Citizens' comments that passed their deadline: one event each (notify/inbox_overdue).
        sched.add_job(self._safe(lambda: inbox_overdue.sweep(self.core)), "interval",
                      minutes=inbox_overdue.SWEEP_MINUTES, id="inbox-overdue",
                      max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + timedelta(seconds=45))
        if self.core.settings.inbox_retention_months > 0:
            # Citizens' names and words forgotten after the retention period (daily; two
            # workers doing it at once only find less to do).
            sched.add_job(self._safe(lambda: inbox_retention.apply(
                self.core.sessions, self.core.now(),
                self.core.settings.inbox_retention_months)), "interval", hours=24,
                id="inbox-retention", max_instances=1, coalesce=True,
                next_run_time=datetime.now(UTC) + timedelta(minutes=3))
        # Posts waiting too long at a review stage: one reminder (and one deadline) per post
        # per stage (notify/review_reminders).
        sched.add_job(self._safe(lambda: review_reminders.sweep(self.core)), "interval",
                      minutes=review_reminders.SWEEP_MINUTES, id="review-reminders",
                      max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + timedelta(seconds=50))
        # Long-lived tokens (Threads: 60 days) renewed ahead on channels nobody uses.
        sched.add_job(self._safe(lambda: sweep_token_renewals(self.core)), "interval",
                      hours=12, id="token-renewal", max_instances=1, coalesce=True,
                      next_run_time=datetime.now(UTC) + timedelta(minutes=2))
        # Recurring posts: occurrences due within a day become publications, once each (a
        # unique key per post, channel and occurrence; see ``services/recurrence.py``).
        sched.add_job(self._safe(lambda: recurrence.sweep(self.core)), "interval",
                      minutes=recurrence.SWEEP_MINUTES, id="recurrence", max_instances=1,
                      coalesce=True, next_run_time=datetime.now(UTC) + timedelta(seconds=20))
        # The weekly report to leaders, due Monday 07.00 in each unit's zone: the sweep only
        # enqueues a report not yet recorded, under a dedupe key with the ISO week.
        sched.add_job(self._safe(lambda: weekly.sweep(self.core)), "interval",
                      minutes=weekly.SWEEP_MINUTES, id="weekly-report", max_instances=1,
                      coalesce=True, next_run_time=datetime.now(UTC) + timedelta(seconds=30))
        if self.core.engine.dialect.name == "sqlite":
            # Planner statistics follow the data's growth (see ``db.refresh_statistics``).
            sched.add_job(self._safe(lambda: refresh_statistics(self.core.engine)), "interval",
                          hours=24, id="statistics", max_instances=1, coalesce=True,
                          next_run_time=datetime.now(UTC) + timedelta(minutes=10))
        self.liveness.start()
        self._safe(self.core.queue.recover_expired)()
        sched.start()
        self._committer.start()
        self._thread = threading.Thread(target=self._dispatch, name="warta-dispatch",
                                        daemon=True)
        self._thread.start()
        log.info("worker %s started: %d call slots, %d upload slots, tick %.2fs",
                 self.worker_id, self.threads, self.upload_threads, poll)

    def stop(self, wait: bool = True) -> None:
        self._stop.set()
        self._wake.set()
        self._scheduler.shutdown(wait=False)
        if self._thread:
            self._thread.join(timeout=10)
        for pool in self._pools:
            pool.executor.shutdown(wait=wait)
        self._committer.stop()
        self.liveness.stop()

    def run_forever(self) -> None:
        """Run until Ctrl+C or SIGTERM. SIGTERM is what ``systemctl stop``, ``docker stop`` and
        Kubernetes send: without a handler Python dies at once, like SIGKILL, leaving every call
        in flight to the reconcile path; with it the worker stops as on Ctrl+C (calls in flight
        finish and are recorded, leases released)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._terminate)
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            log.info("stopping worker %s", self.worker_id)
        finally:
            self.stop()

    def _terminate(self, signum: int, _frame: object) -> None:
        log.info("stopping worker %s (signal %d)", self.worker_id, signum)
        self._stop.set()

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
            claim_at = self.core.now()
            if not self.liveness.fresh():
                # Our heartbeat (PostgreSQL: our lock) is not confirmed: others may already
                # treat us as dead, so start nothing new until it is.
                self._wake.wait(poll)
                continue
            looked, left_for_others = False, False
            for pool in self._pools:
                with self._lock:
                    free = pool.size - pool.busy
                if free <= 0:
                    continue
                looked = True
                try:
                    jobs, left = self.core.queue.claim_share(
                        self.worker_id, lease_seconds=self.core.settings.lease_seconds,
                        limit=free, kinds=pool.kinds, share_of=self.liveness.live_workers)
                except Exception:  # noqa: BLE001 - database away: try again next tick
                    log.exception("claim failed")
                    continue
                if jobs:
                    self._start(pool, jobs)
                if left and len(jobs) < free:
                    left_for_others = True
            wait = poll
            if left_for_others:
                wait = SHARE_PAUSE
            elif looked:
                try:
                    due = self.core.queue.next_due()
                except Exception:  # noqa: BLE001
                    due = None
                if due is not None and due > claim_at:
                    # Due after our claim looked: sleep exactly until then (0: claim again
                    # now). A job already due when we looked but not taken waits for its
                    # channel's running job (or a free slot): the tick or that job's
                    # completion wakes us.
                    wait = min(poll, max(0.0, (due - self.core.now()).total_seconds()))
            self._wake.wait(wait)

    def _start(self, pool: _Pool, jobs: list[ClaimedJob]) -> None:
        """Start every claimed job now, each in its own slot of ``pool``."""
        with self._lock:
            self._held.update(j.id for j in jobs)
        publish = [j for j in jobs if j.kind in PUBLISH_KINDS]
        for job in jobs:
            if job.kind not in PUBLISH_KINDS:
                self._submit(pool, job, self._settles(job))
        if not publish:
            return
        handed: set[int] = set()

        def step(job: ClaimedJob, fn: Callable[[], JobResult]) -> None:
            handed.add(job.id)
            self._submit(pool, job, self._settles(job, fn))
        try:
            ready = prepare(self.core, publish, step)
            attempts = mark_submitted(self.core, ready)
        except Exception:  # noqa: BLE001 - database trouble: the jobs run again shortly
            log.exception("preparing %d publish jobs failed", len(publish))
            for job in publish:
                if job.id not in handed:
                    self._retry_soon(job)
            return
        for r in ready:
            job, pub_id = r[0], r[1].info.pub_id
            if pub_id not in attempts:  # cancelled or taken meanwhile: the mark said no
                self._settles(job, lambda: DONE)()
            else:
                self._submit(pool, job, self._calls(r, attempts[pub_id]))

    def _settles(self, job: ClaimedJob,
                 step: Callable[[], JobResult] | None = None) -> Callable[[], bool]:
        """A slot's work that settles its job itself (``run_job``)."""
        def run() -> bool:
            run_job(self.core, job, step)
            return True
        return run

    def _calls(self, r: Any, attempt_id: int) -> Callable[[], bool]:
        return lambda: self._call(r, attempt_id)

    def _retry_soon(self, job: ClaimedJob) -> None:
        try:
            self.core.queue.retry(job.id, job.lease_owner,
                                  run_at=self.core.now() + timedelta(seconds=5),
                                  error="prepare failed")
        except Exception:  # noqa: BLE001 - the lease expires and recovery retries it
            log.exception("could not retry job %s", job.id)
        self._release(job.id)

    def _submit(self, pool: _Pool, job: ClaimedJob, fn: Callable[[], bool]) -> None:
        with self._lock:
            pool.busy += 1
        pool.executor.submit(self._task, pool, job, fn)

    def _task(self, pool: _Pool, job: ClaimedJob, fn: Callable[[], bool]) -> None:
        """Run one slot's work; ``fn`` returns whether the job is settled (else the committer
        settles it). The slot is free when the call returns, not when its result is saved."""
        settled = True
        try:
            settled = fn()
        except Exception:  # noqa: BLE001 - leases and recovery reconcile
            log.exception("job %s failed in pool %s", job.id, pool.name)
        finally:
            with self._lock:
                pool.busy -= 1
            if settled:
                self._release(job.id)
            self._wake.set()

    def _call(self, r: Any, attempt_id: int) -> bool:
        """The platform call of one submitted publication; a plain success goes to the
        committer (saved within milliseconds, with whatever else came back meanwhile)."""
        job, snap, call, post_out = r
        outcome = call_platform(call, post_out, snap.info.pub_id)
        if isinstance(outcome, Published):
            self._committer.put((r, outcome, attempt_id))
            return False
        settle_call(self.core, r, attempt_id, outcome,
                    lambda j, res: apply_result(self.core, j, res))
        return True

    def _release(self, job_id: int) -> None:
        with self._lock:
            self._held.discard(job_id)
        self._wake.set()

    def renew_leases(self) -> None:
        with self._lock:
            held = list(self._held)
        self.core.queue.extend_many(held, self.worker_id, self.core.settings.lease_seconds)

    def heartbeat(self) -> None:
        """Write this worker's heartbeat now (the liveness thread does it every second)."""
        self.liveness.beat(forget=True)


class _Committer:
    """Saves published results as their calls return: one thread takes whatever has come back
    since its last commit and records it in one transaction (a group commit). Nothing waits
    for a batch: a result arriving alone is committed alone, at once."""

    def __init__(self, core: Core, release: Callable[[int], None]) -> None:
        self.core = core
        self.release = release
        self._queue: SimpleQueue[Any] = SimpleQueue()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="warta-commit", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        self._queue.put(item)

    def stop(self) -> None:
        self._queue.put(None)
        if self._thread:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            items, stopping = [first], first is None
            while len(items) < 500:
                try:
                    items.append(self._queue.get_nowait())
                except Empty:
                    break
            stopping = stopping or any(i is None for i in items)
            items = [i for i in items if i is not None]
            if items:
                self._commit(items)
            if stopping:
                return

    def _commit(self, items: list[Any]) -> None:
        try:
            record_published_many(self.core, [(r, o) for r, o, _a in items],
                                  {r[1].info.pub_id: a for r, _o, a in items})
            for r, _o, _a in items:
                try:
                    r[2].persist_state()
                except Exception:  # noqa: BLE001
                    log.exception("saving channel state failed")
        except Exception:  # noqa: BLE001 - one by one, so one bad row costs only itself
            log.exception("group commit of %d results failed; saving one by one", len(items))
            for r, outcome, attempt_id in items:
                settle_call(self.core, r, attempt_id, outcome,
                            lambda j, res: apply_result(self.core, j, res))
        finally:
            for r, _o, _a in items:
                self.release(r[0].id)
