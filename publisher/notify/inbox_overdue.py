"""The worker's sweep for citizens' comments that just passed their deadline (issue 19):
each becomes one ``comment.overdue`` audit event for the unit that must answer it now, and
so its bell, its people's e-mail/Telegram by preference (kind ``comment_overdue``) and the
office's webhooks, through the ordinary fan-out (``hook.after_event``).

**Once per comment.** The event is the dedupe key (action ``comment.overdue``, the comment's
id): the sweep selects only open, overdue comments without one, under a transaction-scoped
lock (PostgreSQL advisory lock; SQLite's writers begin IMMEDIATE and serialise), so two
workers sweeping at once, or the next sweep, record nothing again. A comment closed
(ditanggapi, selesai, tidak_perlu) before its deadline passed is never announced.

**Bounded.** At most ``BATCH`` comments per sweep, oldest deadline first, read through the
(status, due_at) index; a backlog drains over the next sweeps.
"""

from __future__ import annotations

import logging

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import AuditEvent, CitizenComment
from publisher.services import audit
from publisher.services.inbox_overdue import overdue_clause

log = logging.getLogger(__name__)
OVERDUE_ACTION = "comment.overdue"
BATCH = 200
SWEEP_MINUTES = 10
_LOCK_KEY = 0x4C415445  # "LATE": the advisory lock of the overdue sweep


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def sweep(core: Core, batch: int = BATCH) -> list[int]:
    """Record ``comment.overdue`` for the open comments whose deadline passed and that were
    not announced yet; the comments' ids."""
    now = core.now()
    with core.sessions.begin() as s:
        _lock(s)
        told = select(AuditEvent.id).where(AuditEvent.object_type == "comment",
                                           AuditEvent.object_id == CitizenComment.id,
                                           AuditEvent.action == OVERDUE_ACTION)
        rows = list(s.execute(overdue_clause(select(CitizenComment), now)
                              .where(~told.exists())
                              .order_by(CitizenComment.due_at, CitizenComment.id)
                              .limit(batch)).scalars())
        for c in rows:
            assert c.due_at is not None
            audit.record(s, OVERDUE_ACTION, "comment", c.id, unit_id=c.unit_id, at=now,
                         data={"due_at": c.due_at.isoformat(), "status": c.status,
                               "text": (c.text or "")[:200]})
        ids = [c.id for c in rows]
    if ids:
        log.info("%d citizen comments passed their deadline: their units told", len(ids))
    return ids
