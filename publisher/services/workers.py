"""Which publishing workers are alive, read from their heartbeats: the "worker down" banner and
the health board's worker list both ask here, so they cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Delete, delete, func, select
from sqlalchemy.orm import Session

from publisher.models import WorkerHeartbeat

#: A worker beats every second (``WARTA_HEARTBEAT_SECONDS``; other workers take over its jobs
#: after ``WARTA_WORKER_DEAD_AFTER``); the banner calls one silent for a minute down.
ALIVE_WITHIN = timedelta(minutes=1)
#: The board lists the workers seen this recently (a restarted worker gets a new id, so older
#: rows are only history).
SHOWN_WITHIN = timedelta(days=1)
#: Rows of workers gone this long are deleted by the live workers' heartbeats.
FORGET_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class WorkerStatus:
    worker_id: str
    host: str | None
    last_tick_at: datetime
    alive: bool


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def any_alive(session: Session, now: datetime) -> bool:
    last = session.execute(select(func.max(WorkerHeartbeat.last_tick_at))).scalar()
    return last is not None and now - _aware(last) <= ALIVE_WITHIN


def statuses(session: Session, now: datetime, limit: int = 5) -> list[WorkerStatus]:
    """Live workers first, then the ones that stopped within ``SHOWN_WITHIN``; when none is that
    recent, the last one ever seen (so the board can say since when nothing has run)."""
    rows = list(session.execute(select(WorkerHeartbeat)
                                .order_by(WorkerHeartbeat.last_tick_at.desc())
                                .limit(50)).scalars())
    out = [WorkerStatus(r.worker_id, r.host, _aware(r.last_tick_at),
                        now - _aware(r.last_tick_at) <= ALIVE_WITHIN) for r in rows]
    recent = [w for w in out if now - w.last_tick_at <= SHOWN_WITHIN] or out[:1]
    recent.sort(key=lambda w: (not w.alive, -w.last_tick_at.timestamp()))
    return recent[:limit]


def forget_statement(now: datetime) -> Delete:
    """Delete the rows of workers gone for ``FORGET_AFTER``."""
    return delete(WorkerHeartbeat).where(WorkerHeartbeat.last_tick_at < now - FORGET_AFTER)


def forget_old(session: Session, now: datetime) -> None:
    session.execute(forget_statement(now))
