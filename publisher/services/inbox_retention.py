"""Retention of the citizen inbox's personal data (issue 19): after
``WARTA_INBOX_RETENTION_MONTHS`` months a comment forgets who wrote it and what it said — the
author's name and handle, the text, the notes officers wrote on its hand-overs (they often
quote the citizen) and the audit log's copies of those words — while the row stays with its
platform, post, category, status, deadline and times, so the inbox's counts, the reports'
response times and the unit score are kept.

Months are calendar months before ``now`` (the same day of the month, clamped to its last day).
The worker applies it daily in bounded batches; each pass that removed anything is one audit
event with the count and the cutoff (never a citizen's name).
"""

from __future__ import annotations

import calendar
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, CitizenComment, CommentEvent
from publisher.services import audit

#: Comments per transaction (one pass repeats until nothing is left).
BATCH = 500
#: What a removed text reads as in the inbox (the UI says why; exports show it empty).
REMOVED = ""
#: The audit log's copies of a comment's words: the overdue event quotes the text, a
#: forward the officer's note.
AUDIT_KEYS = ("text", "note")


def cutoff(now: datetime, months: int) -> datetime:
    """``now`` minus ``months`` calendar months (31 March − 1 month = 28/29 February)."""
    total = now.year * 12 + (now.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(now.day, calendar.monthrange(year, month)[1])
    return now.replace(year=year, month=month, day=day)


def redact_batch(session: Session, before: datetime, now: datetime) -> int:
    """Remove the personal data of at most ``BATCH`` comments written before ``before`` that
    still have it; how many were changed."""
    ids = list(session.execute(
        select(CitizenComment.id)
        .where(CitizenComment.posted_at < before, CitizenComment.redacted_at.is_(None))
        .order_by(CitizenComment.posted_at).limit(BATCH)).scalars())
    if not ids:
        return 0
    # ``redacted_at IS NULL`` again: a second worker running the same batch changes nothing
    # (PostgreSQL re-checks the condition after the first one's row locks are released).
    done = cast(CursorResult[Any], session.execute(update(CitizenComment)
                           .where(CitizenComment.id.in_(ids),
                                  CitizenComment.redacted_at.is_(None))
                           .values(author_name=None, author_handle=None, text=REMOVED,
                                   redacted_at=now, updated_at=now))).rowcount
    if not done:
        return 0
    session.execute(update(CommentEvent).where(CommentEvent.comment_id.in_(ids),
                                               CommentEvent.note.is_not(None))
                    .values(note=None))
    for event in session.execute(select(AuditEvent).where(
            AuditEvent.object_type == "comment", AuditEvent.object_id.in_(ids))).scalars():
        data = dict(event.data or {})
        if any(k in data for k in AUDIT_KEYS):
            event.data = {k: v for k, v in data.items() if k not in AUDIT_KEYS} | {
                "removed_by_retention": True}
    return int(done)


def apply(sessions: object, now: datetime, months: int) -> int:
    """Run the retention to the end (batch by batch, each its own transaction); how many
    comments were changed. ``months`` 0 keeps everything."""
    if months <= 0:
        return 0
    before = cutoff(now, months)
    done = 0
    while True:
        with sessions.begin() as s:  # type: ignore[attr-defined]
            n = redact_batch(s, before, now)
            if n:
                audit.record(s, "inbox.retention", "citizen_comment", None, at=now,
                             data={"comments": n, "written_before": before.isoformat(),
                                   "months": months})
        done += n
        if n == 0:
            return done
