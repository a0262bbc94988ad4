"""The one table of jobs, with its own metadata: the queue depends on nothing of Warta's."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite has no time zones, so values are stored naive-in-UTC and handed back aware; a naive
    value coming *in* is a programming error (we never guess a zone) and is refused. Warta's
    own models use this type too (publisher may import the queue, never the other way round).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; convert it to UTC first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: The name the first migration knows it by.
_UTC = UTCDateTime


class JobBase(DeclarativeBase):
    pass


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Job(JobBase):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(12), default=JobStatus.QUEUED)
    run_at: Mapped[datetime] = mapped_column(_UTC())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Higher goes first among due jobs (an emergency broadcast); 0 for everything else.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    lease_expires_at: Mapped[datetime | None] = mapped_column(_UTC())
    lock_key: Mapped[str | None] = mapped_column(String(80))
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(_UTC())
    updated_at: Mapped[datetime] = mapped_column(_UTC())
    finished_at: Mapped[datetime | None] = mapped_column(_UTC())

    __table_args__ = (
        # "What is due": only queued rows are indexed, so a million finished jobs cost nothing.
        Index("ix_jobs_due", "run_at", "id",
              postgresql_where=text("status = 'queued'"), sqlite_where=text("status = 'queued'")),
        # "Is urgent work due": empty in normal times, so the claim's probe costs nothing.
        Index("ix_jobs_urgent", "run_at",
              postgresql_where=text("status = 'queued' AND priority > 0"),
              sqlite_where=text("status = 'queued' AND priority > 0")),
        # Lease recovery scans running rows only.
        Index("ix_jobs_lease", "lease_expires_at",
              postgresql_where=text("status = 'running'"), sqlite_where=text("status = 'running'")),
        # One running job per lock key (one publish at a time per channel).
        Index("uq_jobs_running_lock", "lock_key", unique=True,
              postgresql_where=text("status = 'running' AND lock_key IS NOT NULL"),
              sqlite_where=text("status = 'running' AND lock_key IS NOT NULL")),
        # One live job per dedupe key: periodic enqueues from many workers are idempotent.
        Index("uq_jobs_live_dedupe", "dedupe_key", unique=True,
              postgresql_where=text("status IN ('queued', 'running') AND dedupe_key IS NOT NULL"),
              sqlite_where=text("status IN ('queued', 'running') AND dedupe_key IS NOT NULL")),
    )
