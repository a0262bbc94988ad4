"""Citizen voice (issue 19): citizens' comments on the office's published posts, their
hand-overs between units, the collection position per source, the triage keywords and the
regional days off that working-day deadlines skip.

A comment is one row per platform comment (its id unique per channel): a later read updates
it (edit) or marks it (deleted, hidden); nothing a citizen wrote is stored twice.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class CommentStatus(StrEnum):
    """Where a comment is in its unit's work (the transition table is in services/inbox.py)."""

    NEW = "baru"
    FORWARDED = "diteruskan"
    RESPONDED = "ditanggapi"
    DONE = "selesai"
    NO_ACTION = "tidak_perlu"


class CommentCategory(StrEnum):
    COMPLAINT = "aduan"
    QUESTION = "pertanyaan"
    APPRECIATION = "apresiasi"
    SUGGESTION = "saran"
    SPAM = "spam"
    OTHER = "lainnya"


#: Statuses whose deadline still runs (the inbox's "open" work).
OPEN_COMMENT_STATES = (CommentStatus.NEW, CommentStatus.FORWARDED)


class CitizenComment(Base):
    __tablename__ = "citizen_comments"
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_citizen_comment_external"),
        # The inbox: newest first, within what a unit may see.
        Index("ix_citizen_comment_origin_posted", "origin_unit_id", "posted_at"),
        Index("ix_citizen_comment_unit_posted", "unit_id", "posted_at"),
        Index("ix_citizen_comment_publication", "publication_id", "posted_at"),
        Index("ix_citizen_comment_posted", "posted_at"),
        # Past their deadline: the dashboard, the inbox's filter and the worker's sweep.
        Index("ix_citizen_comment_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    platform: Mapped[str] = mapped_column(String(32))
    #: The platform's comment id (unique per channel).
    external_id: Mapped[str] = mapped_column(String(200))
    #: The platform id of the comment this one answers (None: a top-level comment).
    parent_external_id: Mapped[str | None] = mapped_column(String(200))
    #: As the platform gives them; platforms omit them for some people (never made up).
    author_name: Mapped[str | None] = mapped_column(String(300))
    author_handle: Mapped[str | None] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text, default="")
    #: When it was written, by the platform's clock (when the platform gives no time: when
    #: Warta first read it).
    posted_at: Mapped[datetime] = mapped_column()
    #: The platform's last edit time, or when Warta first saw the text change.
    edited_at: Mapped[datetime | None] = mapped_column()
    #: Gone from the platform (a complete read no longer lists it).
    deleted_at: Mapped[datetime | None] = mapped_column()
    hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Set by a person (the rule-based suggestion is computed when shown, never stored).
    category: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=CommentStatus.NEW)
    #: The post's unit (who always sees it) and the unit that must answer now.
    origin_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    due_at: Mapped[datetime | None] = mapped_column()
    #: First set to "ditanggapi" (the response time the later reports count from).
    responded_at: Mapped[datetime | None] = mapped_column()
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The start of the last collection pass that listed it (deletions are found by it).
    seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: When retention removed the author and the text (``WARTA_INBOX_RETENTION_MONTHS``);
    #: the row stays, so counts and response times are kept.
    redacted_at: Mapped[datetime | None] = mapped_column()


class CommentEvent(Base):
    """One step of a comment's history: a hand-over (from unit → to unit, with a note), a
    status change, a category set — by whom and when."""

    __tablename__ = "citizen_comment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("citizen_comments.id"), index=True)
    #: forward | status | category
    kind: Mapped[str] = mapped_column(String(16))
    from_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    from_value: Mapped[str | None] = mapped_column(String(32))
    to_value: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentSource(Base):
    """Where collection stands for one published post: the saved position of the pass under
    way (the platform's cursor or page token, committed with the comments of each page, so a
    restarted worker continues where the last one stopped) and the decaying schedule."""

    __tablename__ = "comment_sources"
    __table_args__ = (
        Index("ix_comment_source_due", "next_collect_at",
              postgresql_where=text("next_collect_at IS NOT NULL"),
              sqlite_where=text("next_collect_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"), unique=True)
    #: The adapter's position inside the pass under way (None: the next pass starts afresh).
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: When the pass under way began (what a comment's ``seen_at`` is compared with).
    pass_started_at: Mapped[datetime | None] = mapped_column()
    next_collect_at: Mapped[datetime | None] = mapped_column()
    stage: Mapped[int] = mapped_column(Integer, default=0)
    last_complete_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class CommentKeyword(Base):
    """A word that suggests a category (admins edit them): the suggestion names the word."""

    __tablename__ = "comment_keywords"
    __table_args__ = (UniqueConstraint("category", "keyword", name="uq_comment_keyword"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    keyword: Mapped[str] = mapped_column(String(100))


class DayOff(Base):
    """A regional day off set by an admin (cuti bersama, a regional holiday) that deadlines
    skip like the national holidays; ``unit_id`` None: for every unit."""

    __tablename__ = "working_day_exceptions"
    __table_args__ = (UniqueConstraint("unit_id", "day", name="uq_day_off_unit_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    day: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
