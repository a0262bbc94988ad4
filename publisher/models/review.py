"""Review stages of a post (issue 20): the stages it must pass and each stage's approval.

A post's stages are fixed when it is submitted (``PostReview.stages``, from its campaign's or
unit's configuration), so a configuration changed later never moves a post already waiting.
Each stage's approval is a ``StageApproval`` bound to the content hash its approver saw; an
edit voids them all (``voided_at``), kept for the history the approvals page shows.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, utcnow
from publisher.models.org import User


class PostReview(Base):
    """Where a submitted post stands in its stages: a cache of what ``StageApproval`` rows
    decide, kept so the approvals page and the reminder sweep can query it."""

    __tablename__ = "post_reviews"
    __table_args__ = (Index("ix_post_reviews_kind_since", "stage_kind", "stage_since"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: The ordered stage kinds, fixed at submit.
    stages: Mapped[list[str]] = mapped_column(JSON)
    #: The index of the stage the post waits at (``len(stages)``: all approved).
    stage_index: Mapped[int] = mapped_column(Integer, default=0)
    #: ``stages[stage_index]`` (``None`` once all are approved), for queries.
    stage_kind: Mapped[str | None] = mapped_column(String(32))
    #: When the post came to this stage (its submit, or the previous stage's approval).
    stage_since: Mapped[datetime] = mapped_column(default=utcnow)
    #: When the people of this stage were reminded (once per post per stage visit).
    reminded_at: Mapped[datetime | None] = mapped_column()
    #: When the stage's deadline passed and was recorded (once per post per stage visit).
    deadline_at: Mapped[datetime | None] = mapped_column()


class StageApproval(Base):
    """One person's approval of one stage of a post, bound to the content hash they saw."""

    __tablename__ = "post_stage_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    stage_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    approver_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set when an edit (or a rejection) voided it; voided approvals count for nothing.
    voided_at: Mapped[datetime | None] = mapped_column()
    void_reason: Mapped[str | None] = mapped_column(String(32))

    approver: Mapped[User] = relationship(lazy="joined")


__all__ = ["PostReview", "StageApproval"]
