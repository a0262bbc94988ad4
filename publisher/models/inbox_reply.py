"""The office's replies to citizens' comments, sent from Warta (issue 19).

A reply is a platform post of its own: it follows the posts' rules — approved by a second
person when its unit asks for approval, bound to a hash of what goes out (text, the comment it
answers, the channel), and sent once: ``sending`` is committed before the platform call, and a
reply found in ``sending`` (its worker died) is looked up on the platform before anything is
sent again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class ReplyStatus(StrEnum):
    DRAFT = "draft"
    AWAITING = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: The platform may or may not have it: a person checks; never sent again blindly.
    UNCONFIRMED = "unconfirmed"


#: States a writer may still edit (an edit voids an approval).
EDITABLE_REPLY_STATES = (ReplyStatus.DRAFT, ReplyStatus.AWAITING, ReplyStatus.APPROVED,
                         ReplyStatus.REJECTED, ReplyStatus.FAILED)


class CommentReply(Base):
    __tablename__ = "citizen_comment_replies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("citizen_comments.id"), index=True)
    #: The unit that held the comment when the reply was written (whose approvers approve).
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    #: The platform id of the comment answered (copied: the hash covers it).
    parent_external_id: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), default=ReplyStatus.DRAFT)
    written_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    #: The last person who changed the text (may not approve it either).
    edited_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column()
    #: ``reply_hash`` at approval; the worker recomputes it before sending.
    approval_hash: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    job_id: Mapped[int | None] = mapped_column(Integer)
    submitted_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    error: Mapped[str | None] = mapped_column(Text)
    error_en: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
