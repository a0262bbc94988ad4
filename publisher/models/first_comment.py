"""A publication's first comment (issue 21): the account's own comment on the post it just
published (on X, its reply), tracked as its own step so a crash between the post and the
comment, or during the comment call, never makes two comments and never loses one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class FirstCommentStatus:
    #: Waiting for its job (just after the post was published, or a wait the platform asked).
    QUEUED = "queued"
    #: Committed just before the create call: a job finding it so looks before anything else.
    SENDING = "sending"
    POSTED = "posted"
    #: The platform refused it (or the post changed after approval): a person decides.
    FAILED = "failed"
    #: Warta cannot tell whether the platform has it; a person checks, Warta never re-sends.
    UNCONFIRMED = "unconfirmed"


FINAL_STATES = frozenset({FirstCommentStatus.POSTED, FirstCommentStatus.FAILED,
                          FirstCommentStatus.UNCONFIRMED})


class FirstComment(Base):
    __tablename__ = "first_comments"

    publication_id: Mapped[int] = mapped_column(
        ForeignKey("publications.id", ondelete="CASCADE"), primary_key=True)
    #: The approved text, copied when the post was published (its approval hash checked).
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=FirstCommentStatus.QUEUED)
    external_id: Mapped[str | None] = mapped_column(String(200))
    #: Set (and committed) just before each create call; lookups search from the first one.
    submitted_at: Mapped[datetime | None] = mapped_column()
    #: Create calls made, lookups that found nothing since the last one, and whether the one
    #: re-send (after two empty looks) was used.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    absent_looks: Mapped[int] = mapped_column(Integer, default=0)
    resent: Mapped[bool] = mapped_column(default=False)
    job_id: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(40))
    posted_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


__all__ = ["FINAL_STATES", "FirstComment", "FirstCommentStatus"]
