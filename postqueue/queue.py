"""Enqueue, claim with a lease, finish, retry, cancel and recover jobs.

Every state change is a conditional UPDATE (``WHERE status = 'running' AND lease_owner = :me``),
never a blind write, so a worker whose lease was taken over cannot overwrite the new owner's
result. A claim is one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` picks due candidates
(locking them, so concurrent workers skip each other's rows), then one conditional ``UPDATE …
RETURNING`` takes them. On SQLite the writer lock serialises claims and SQLAlchemy drops the
lock clause.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import CursorResult, Row, and_, bindparam, exists, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, aliased, sessionmaker

from postqueue.models import Job, JobStatus

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ClaimedJob:
    """A detached snapshot of a claimed job, safe to hand to another thread."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    run_at: datetime
    lock_key: str | None
    lease_owner: str
    lease_expires_at: datetime


def enqueue(session: Session, kind: str, payload: dict[str, Any] | None = None, *,
            run_at: datetime | None = None, dedupe_key: str | None = None,
            lock_key: str | None = None, now: datetime | None = None,
            priority: int = 0) -> int | None:
    """Add a job inside the caller's transaction (so it commits with the caller's change).

    Returns the new job's id, or ``None`` when a live job with the same ``dedupe_key`` exists.
    ``priority`` > 0 puts the job ahead of every ordinary due job (an emergency broadcast).
    """
    now = now or _utcnow()
    values = dict(kind=kind, payload=payload or {}, status=JobStatus.QUEUED,
                  run_at=run_at or now, attempts=0, lock_key=lock_key, dedupe_key=dedupe_key,
                  created_at=now, updated_at=now, priority=priority)
    if dedupe_key is None:
        return session.execute(insert(Job).values(**values).returning(Job.id)).scalar_one()
    dialect = session.get_bind().dialect.name
    ins = pg_insert(Job) if dialect == "postgresql" else sqlite_insert(Job)
    stmt = ins.values(**values).on_conflict_do_nothing().returning(Job.id)
    return session.execute(stmt).scalar_one_or_none()


def enqueue_many(session: Session, kind: str, jobs: Sequence[tuple[dict[str, Any], str | None]],
                 *, run_at: datetime, now: datetime | None = None,
                 priority: int = 0) -> list[int]:
    """``enqueue`` of many jobs of one kind, each ``(payload, lock_key)``, without dedupe keys,
    in one statement inside the caller's transaction; returns their ids in the given order.
    An emergency broadcast queues hundreds at once: one round trip each made its confirming
    transaction take seconds on a busy PostgreSQL."""
    if not jobs:
        return []
    now = now or _utcnow()
    rows = [dict(kind=kind, payload=payload, status=JobStatus.QUEUED, run_at=run_at,
                 attempts=0, lock_key=lock_key, dedupe_key=None, created_at=now,
                 updated_at=now, priority=priority) for payload, lock_key in jobs]
    return list(session.execute(insert(Job).returning(Job.id, sort_by_parameter_order=True),
                                rows).scalars())


@lru_cache(maxsize=8)
def _claim_statements(with_kinds: bool, urgent: bool = False) -> tuple[Any, Any, Any]:
    """The claim's two statements, built once: building and hashing a statement costs more
    Python time than PostgreSQL needs to run it.

    ``urgent``: ordered by priority first. Only used while a job with a priority is due
    (``_URGENT_DUE``): ordering every due job by priority would cost the usual claim its
    index-ordered scan (``ix_jobs_due`` stops after ``limit`` rows; a sort reads them all)."""
    cand = aliased(Job, name="cand")
    holder = aliased(Job, name="holder")
    lock_free = ~exists().where(and_(holder.lock_key == cand.lock_key,
                                     holder.status == JobStatus.RUNNING))
    peek = (select(cand.id, cand.lock_key)
            .where(cand.status == JobStatus.QUEUED, cand.run_at <= bindparam("now"),
                   (cand.lock_key.is_(None)) | lock_free)
            .order_by(*((cand.priority.desc(),) if urgent else ()), cand.run_at, cand.id)
            .limit(bindparam("limit")))
    if with_kinds:
        peek = peek.where(cand.kind.in_(bindparam("kinds", expanding=True)))
    pick = peek.with_for_update(skip_locked=True, of=cand)
    take = (update(Job)
            .where(Job.id.in_(bindparam("ids", expanding=True)), Job.status == JobStatus.QUEUED)
            .values(status=JobStatus.RUNNING, lease_owner=bindparam("owner"),
                    lease_expires_at=bindparam("lease_until"), attempts=Job.attempts + 1,
                    updated_at=bindparam("now"))
            .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.run_at, Job.lock_key,
                       Job.priority))
    return peek, pick, take


#: Whether any job with a priority is due (served by the partial ``ix_jobs_urgent``, empty in
#: normal times).
_URGENT_DUE = select(exists().where(Job.status == JobStatus.QUEUED, Job.priority > 0,
                                    Job.run_at <= bindparam("now")))


def _distinct(rows: Iterable[Any], limit: int) -> list[int]:
    """The first ``limit`` job ids of the rows, at most one per lock key."""
    seen: set[str] = set()
    ids: list[int] = []
    for job_id, lock_key in rows:
        if lock_key is not None:
            if lock_key in seen:
                continue
            seen.add(lock_key)
        ids.append(job_id)
        if len(ids) == limit:
            break
    return ids


class JobQueue:
    """The queue's operations, each in its own short transaction.

    ``clock`` is injectable so tests move time instead of waiting for it.
    """

    def __init__(self, factory: sessionmaker[Session], clock: Clock = _utcnow) -> None:
        self.factory = factory
        self.clock = clock

    # -- writing ------------------------------------------------------------------------------
    def enqueue(self, kind: str, payload: dict[str, Any] | None = None, *,
                run_at: datetime | None = None, dedupe_key: str | None = None,
                lock_key: str | None = None, priority: int = 0) -> int | None:
        with self.factory.begin() as session:
            return enqueue(session, kind, payload, run_at=run_at, dedupe_key=dedupe_key,
                           lock_key=lock_key, now=self.clock(), priority=priority)

    def claim(self, worker_id: str, *, lease_seconds: float, limit: int = 1,
              kinds: Iterable[str] | None = None) -> list[ClaimedJob]:
        """Claim up to ``limit`` due jobs in one short transaction.

        Candidates are picked ``FOR UPDATE SKIP LOCKED`` (other workers skip them), skipping
        jobs whose lock key is held by a running job; at most one job per lock key is taken
        from a batch; then one conditional UPDATE claims them. Two workers racing for two
        jobs of one lock key end in a unique-index violation for one of them, which just
        means "nothing for you this time".
        """
        return self.claim_share(worker_id, lease_seconds=lease_seconds, limit=limit,
                                kinds=kinds)[0]

    def claim_share(self, worker_id: str, *, lease_seconds: float, limit: int = 1,
                    kinds: Iterable[str] | None = None,
                    share_of: int = 1) -> tuple[list[ClaimedJob], int]:
        """``claim``, taking at most a fair share: with ``share_of`` live workers, at most
        ``ceil(startable / share_of)`` of the jobs that could start now (one per lock key),
        so the first worker to look does not take every account's job while the others find
        nothing. Returns the jobs and how many startable candidates it left for others."""
        kinds = sorted(kinds) if kinds else None
        try:
            return self._claim(worker_id, lease_seconds, max(1, limit), kinds,
                               max(1, share_of))
        except IntegrityError:
            return [], 0
        except OperationalError as exc:  # SQLite "database is locked" after the busy timeout
            if "locked" in str(exc).lower():
                return [], 0
            raise

    def _claim(self, worker_id: str, lease_seconds: float, limit: int,
               kinds: list[str] | None, share_of: int) -> tuple[list[ClaimedJob], int]:
        now = self.clock()
        lease_until = now + timedelta(seconds=lease_seconds)
        params: dict[str, Any] = {"now": now}
        if kinds:
            params["kinds"] = kinds
        with self.factory.begin() as session:
            urgent = bool(session.execute(_URGENT_DUE, {"now": now}).scalar())
            peek, pick, take = _claim_statements(bool(kinds), urgent)
            startable = 0
            want = limit
            if share_of > 1:
                # How much could start now, read without locking (a locked read would hide
                # those rows from the other workers' claims for the length of ours).
                params["limit"] = min(2000, limit * 3 * share_of)
                startable = len(_distinct(session.execute(peek, params), 2000))
                want = min(limit, -(-startable // share_of))
                if want == 0:
                    return [], 0
            params["limit"] = want * 3
            ids = _distinct(session.execute(pick, params), want)
            startable = max(startable, len(ids))
            if not ids:
                return [], startable
            rows = cast(list[Row[Any]], session.execute(
                take, {"ids": ids, "owner": worker_id, "lease_until": lease_until,
                       "now": now}).all())
        rows.sort(key=lambda r: (-r.priority, r.run_at, r.id))
        return ([ClaimedJob(r.id, r.kind, dict(r.payload or {}), r.attempts, r.run_at,
                            r.lock_key, worker_id, lease_until) for r in rows],
                startable - len(rows))

    def _finish(self, job_id: int, worker_id: str, **values: Any) -> bool:
        now = self.clock()
        values.setdefault("updated_at", now)
        with self.factory.begin() as session:
            result = session.execute(
                update(Job).where(Job.id == job_id, Job.status == JobStatus.RUNNING,
                                  Job.lease_owner == worker_id).values(**values))
            return cast(CursorResult[Any], result).rowcount == 1

    def complete(self, job_id: int, worker_id: str) -> bool:
        """Mark done; ``False`` means the lease was lost and someone else owns the job now."""
        return self._finish(job_id, worker_id, status=JobStatus.DONE, finished_at=self.clock(),
                            lease_owner=None, lease_expires_at=None)

    def retry(self, job_id: int, worker_id: str, *, run_at: datetime,
              error: str | None = None) -> bool:
        return self._finish(job_id, worker_id, status=JobStatus.QUEUED, run_at=run_at,
                            last_error=error, lease_owner=None, lease_expires_at=None)

    def fail(self, job_id: int, worker_id: str, error: str) -> bool:
        return self._finish(job_id, worker_id, status=JobStatus.FAILED, last_error=error,
                            finished_at=self.clock(), lease_owner=None, lease_expires_at=None)

    def extend(self, job_id: int, worker_id: str, lease_seconds: float) -> bool:
        """Renew a lease for a long job (a big video upload) so it is not taken over."""
        return self._finish(job_id, worker_id,
                            lease_expires_at=self.clock() + timedelta(seconds=lease_seconds))

    def extend_many(self, job_ids: Iterable[int], worker_id: str, lease_seconds: float) -> int:
        """Renew the leases of every job a live worker holds (its heartbeat). Only a worker
        that stopped lets its leases run out, so only its jobs are ever recovered."""
        ids = list(job_ids)
        if not ids:
            return 0
        now = self.clock()
        with self.factory.begin() as session:
            result = session.execute(
                update(Job).where(Job.id.in_(ids), Job.status == JobStatus.RUNNING,
                                  Job.lease_owner == worker_id)
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds)))
            return cast(CursorResult[Any], result).rowcount

    def recover_expired(self) -> list[int]:
        """Put running jobs whose lease expired back in the queue; return their ids.

        The job's handler, not the queue, decides what a re-run means: a publish handler that
        finds its publication already "submitted" reconciles instead of posting again.

        A lease is held up to and including ``lease_expires_at``: it has expired only strictly
        after that instant (``<``), so at the boundary itself the owner may still renew or
        finish it (``tests/postqueue/test_queue_concurrency.py``).
        """
        now = self.clock()
        with self.factory.begin() as session:
            rows = session.execute(
                update(Job).where(Job.status == JobStatus.RUNNING, Job.lease_expires_at < now)
                .values(status=JobStatus.QUEUED, run_at=now, lease_owner=None,
                        lease_expires_at=None, updated_at=now,
                        last_error="lease expired: the worker stopped during this job")
                .returning(Job.id)).scalars().all()
        return list(rows)

    # -- reading ------------------------------------------------------------------------------
    def next_due(self) -> datetime | None:
        """When the earliest queued job is due (cheap: served by the partial due index)."""
        with self.factory() as session:
            return session.execute(
                select(Job.run_at).where(Job.status == JobStatus.QUEUED)
                .order_by(Job.run_at, Job.id).limit(1)).scalar_one_or_none()

    def counts(self) -> dict[str, int]:
        with self.factory() as session:
            rows = session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        return {status: n for status, n in rows}


def complete_in(session: Session, job_id: int, worker_id: str,
                now: datetime | None = None) -> bool:
    """Mark a job done inside the caller's transaction, so a handler can commit its result and
    the job's completion together (one commit instead of two, and no window between them)."""
    return complete_many_in(session, [job_id], worker_id, now) == 1


def complete_many_in(session: Session, job_ids: Sequence[int], worker_id: str,
                     now: datetime | None = None) -> int:
    """``complete_in`` for several jobs of one worker; returns how many it still held."""
    now = now or _utcnow()
    result = session.execute(
        update(Job).where(Job.id.in_(list(job_ids)), Job.status == JobStatus.RUNNING,
                          Job.lease_owner == worker_id)
        .values(status=JobStatus.DONE, finished_at=now, updated_at=now, lease_owner=None,
                lease_expires_at=None))
    return cast(CursorResult[Any], result).rowcount


def running_owners_in(session: Session) -> list[str]:
    """The workers that hold running jobs now (few rows: served by the running-jobs index)."""
    owners = session.execute(select(Job.lease_owner).where(
        Job.status == JobStatus.RUNNING, Job.lease_owner.is_not(None)).distinct()).scalars()
    return [o for o in owners if o is not None]


def recover_owners_in(session: Session, owners: Sequence[str],
                      now: datetime | None = None) -> list[int]:
    """Put the running jobs of workers known to be dead back in the queue, inside the caller's
    transaction (where it established that they are dead); return their ids. As with
    ``recover_expired``, the handler decides what a re-run means (reconcile, never re-post)."""
    if not owners:
        return []
    now = now or _utcnow()
    return list(session.execute(
        update(Job).where(Job.status == JobStatus.RUNNING, Job.lease_owner.in_(list(owners)))
        .values(status=JobStatus.QUEUED, run_at=now, lease_owner=None, lease_expires_at=None,
                updated_at=now, last_error="worker died during this job (heartbeat stopped)")
        .returning(Job.id)).scalars())


def cancel(session: Session, job_ids: Sequence[int], now: datetime | None = None) -> int:
    """Cancel queued jobs inside the caller's transaction; running jobs are left to finish
    (their handlers re-check what they act on with conditional updates)."""
    if not job_ids:
        return 0
    now = now or _utcnow()
    result = session.execute(
        update(Job).where(Job.id.in_(list(job_ids)), Job.status == JobStatus.QUEUED)
        .values(status=JobStatus.CANCELLED, finished_at=now, updated_at=now))
    return cast(CursorResult[Any], result).rowcount


def reschedule(session: Session, job_id: int, run_at: datetime,
               now: datetime | None = None) -> bool:
    """Move a queued job to another time inside the caller's transaction."""
    now = now or _utcnow()
    result = session.execute(
        update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED)
        .values(run_at=run_at, updated_at=now))
    return cast(CursorResult[Any], result).rowcount == 1
