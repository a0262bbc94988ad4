"""Citizens' comments past their deadline (issue 19): what the dashboard lists and the
inbox's ``overdue`` filter selects, always inside ``inbox.visible`` (the one visibility rule:
a unit sees its own posts' comments and those forwarded to it).

Overdue means still open (``OPEN_COMMENT_STATES``: baru, diteruskan) with ``due_at`` passed;
a responded, done or no-follow-up comment is never overdue, whatever its deadline was. The
(status, due_at) index (migration 0014) serves these reads and the worker's sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from publisher.models import OPEN_COMMENT_STATES, CitizenComment, User
from publisher.services.inbox import visible


def overdue_clause(q: Select, now: datetime) -> Select:
    """Restrict a query of comments to the open ones whose deadline has passed."""
    return q.where(CitizenComment.status.in_(OPEN_COMMENT_STATES),
                   CitizenComment.due_at.is_not(None), CitizenComment.due_at <= now)


@dataclass(frozen=True)
class Overdue:
    """The oldest-deadline-first overdue comments a user sees, their count, and how many
    more fall due before ``until`` (the end of the user's today)."""

    items: list[CitizenComment]
    total: int
    due_today: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def overdue(session: Session, user: User, now: datetime, until: datetime,
            limit: int) -> Overdue:
    """At most ``limit`` rows read; the counts come from the index."""
    base = visible(select(CitizenComment.id), user)
    late = overdue_clause(base, now)
    total = session.execute(select(func.count()).select_from(late.subquery())).scalar_one()
    rows = list(session.execute(visible(overdue_clause(select(CitizenComment), now), user)
                                .order_by(CitizenComment.due_at, CitizenComment.id)
                                .limit(limit)).scalars()) if total else []
    today = base.where(CitizenComment.status.in_(OPEN_COMMENT_STATES),
                       CitizenComment.due_at > now, CitizenComment.due_at <= until)
    due_today = session.execute(select(func.count()).select_from(today.subquery())).scalar_one()
    return Overdue(rows, total, due_today)
