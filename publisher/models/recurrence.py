"""A recurring post's rule, and the single occurrences an approver skipped or moved.

The rule is part of what was approved (``services/approval.py`` hashes it); the exceptions
are not: an approver may skip or move one occurrence without approving the series again.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow
from publisher.services.recurrence_rule import Rule


class PostRecurrence(Base):
    """How a post repeats (``services/recurrence_rule.Rule``), one row per recurring post.
    ``timezone`` is the unit's zone when the rule was saved: the wall-clock time it keeps."""

    __tablename__ = "post_recurrences"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: daily | weekly | monthly_day | monthly_nth
    freq: Mapped[str] = mapped_column(String(12))
    timezone: Mapped[str] = mapped_column(String(64))
    #: 0 = Monday … 6 = Sunday: the days of a weekly rule, or the one day of "the nth Monday".
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    month_day: Mapped[int | None] = mapped_column(Integer)
    nth: Mapped[int | None] = mapped_column(Integer)
    #: Inclusive local date, or ``count`` occurrences; exactly one is set.
    until: Mapped[date | None] = mapped_column()
    count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def rule(self) -> Rule:
        return Rule(freq=self.freq, timezone=self.timezone, weekdays=tuple(self.weekdays or ()),
                    month_day=self.month_day, nth=self.nth, until=self.until, count=self.count)


class RecurrenceException(Base):
    """One occurrence (by its own instant, UTC) skipped, or moved to ``moved_to``."""

    __tablename__ = "recurrence_exceptions"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    occurrence_at: Mapped[datetime] = mapped_column(primary_key=True)
    #: skip | move
    action: Mapped[str] = mapped_column(String(8))
    moved_to: Mapped[datetime | None] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
