"""A publication is one post on one channel, and the record of every attempt to put it there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, utcnow
from publisher.models.channel import Channel
from publisher.models.enums import PublicationStatus
from publisher.models.post import Post

_PUBLISHED = "status = 'published' AND external_id IS NOT NULL"
_LIVE_ONE_OFF = "status <> 'cancelled' AND occurrence_at IS NULL"
_LIVE_OCCURRENCE = "status <> 'cancelled' AND occurrence_at IS NOT NULL"


class Publication(Base):
    __tablename__ = "publications"
    __table_args__ = (
        # One live (not cancelled) publication per post and channel; for a recurring post,
        # per post, channel and occurrence (``services/recurrence.py`` inserts against it).
        Index("uq_publication_live", "post_id", "channel_id", unique=True,
              postgresql_where=text(_LIVE_ONE_OFF), sqlite_where=text(_LIVE_ONE_OFF)),
        Index("uq_publication_occurrence", "post_id", "channel_id", "occurrence_at",
              unique=True, postgresql_where=text(_LIVE_OCCURRENCE),
              sqlite_where=text(_LIVE_OCCURRENCE)),
        Index("ix_publication_metrics_due", "next_metrics_at",
              postgresql_where=text("next_metrics_at IS NOT NULL"),
              sqlite_where=text("next_metrics_at IS NOT NULL")),
        # One platform post belongs to one publication: a lookup can never record another
        # publication's post (two weekly reminders with the same text on X).
        Index("uq_publication_external", "channel_id", "external_id", unique=True,
              postgresql_where=text(_PUBLISHED), sqlite_where=text(_PUBLISHED)),
        Index("ix_publication_channel_status", "channel_id", "status"),
        Index("ix_publication_published_at", "published_at"),
        # The dashboard: this week's schedule, and what needs someone's attention.
        Index("ix_publication_scheduled_at", "scheduled_at"),
        Index("ix_publication_status_updated", "status", "updated_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    status: Mapped[str] = mapped_column(String(16), default=PublicationStatus.QUEUED)
    #: When it is meant to go out (the post's time, or a per-publication reschedule).
    scheduled_at: Mapped[datetime] = mapped_column()
    #: For a recurring post: the occurrence's own instant in the series (UTC), the key that
    #: keeps it one publication per channel even after it is moved; ``None`` for a one-off.
    occurrence_at: Mapped[datetime | None] = mapped_column()
    external_id: Mapped[str | None] = mapped_column(String(200))
    permalink: Mapped[str | None] = mapped_column(String(1000))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Operator message of the last problem, in Indonesian and English.
    error: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    #: Set (and committed) just before the irreversible platform call.
    submitted_at: Mapped[datetime | None] = mapped_column()
    published_at: Mapped[datetime | None] = mapped_column()
    #: The adapter's Pending state while the platform processes media.
    pending_state: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    job_id: Mapped[int | None] = mapped_column(Integer)
    progress_done: Mapped[int | None] = mapped_column(Integer)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    #: Metrics collection schedule: the next time and the step of the decaying schedule.
    next_metrics_at: Mapped[datetime | None] = mapped_column()
    metrics_stage: Mapped[int] = mapped_column(Integer, default=0)
    #: A platform's own wait (quota reset, Retry-After) held it back until then: the missed
    #: window counts from here, not from ``scheduled_at``.
    held_until: Mapped[datetime | None] = mapped_column()
    #: Reconcile bookkeeping (see ``publisher/worker/reconcile.py``): lookups that found
    #: nothing since the last platform call, the one time it was published again, and a poll
    #: call in flight (a worker that dies during it leaves this set).
    absent_looks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    republished_at: Mapped[datetime | None] = mapped_column()
    polling_since: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    post: Mapped[Post] = relationship(lazy="joined")
    channel: Mapped[Channel] = relationship(lazy="joined")


class PublishAttempt(Base):
    """One try at the platform, kept for debugging: what was sent back, cut and redacted."""

    __tablename__ = "publish_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), index=True)
    started_at: Mapped[datetime] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    #: published | pending | retry | auth | rejected | unknown | reconciled | error
    outcome: Mapped[str | None] = mapped_column(String(16))
    http_status: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(80))
