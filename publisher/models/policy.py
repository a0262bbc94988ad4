"""Policy rules an admin sets for the region or one campaign, and the acknowledgements of the
soft ones an operator submitted anyway (the approver reads them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class PolicyRule(Base):
    """One rule. ``kind`` is one of ``publisher.services.policy.KINDS``; ``value`` is what the
    kind needs (a hashtag, a phrase, allowed domains, a number) as the admin typed it."""

    __tablename__ = "policy_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    #: "hard" refuses a submit; "soft" may be acknowledged by the person who submits.
    severity: Mapped[str] = mapped_column(String(8), default="hard")
    #: ``None``: every post of the region; else only posts of that campaign.
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True)
    value: Mapped[str] = mapped_column(String(2000), default="")
    #: Why the rule exists, shown with every violation of it.
    reason: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PolicyAck(Base):
    """A soft violation someone acknowledged when submitting: bound to the content hash they
    submitted, with the violation's words as they read them (a later edit of the rule does
    not rewrite what was acknowledged)."""

    __tablename__ = "policy_acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("policy_rules.id",
                                                           ondelete="SET NULL"))
    content_hash: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
