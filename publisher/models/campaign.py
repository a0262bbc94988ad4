"""Campaigns group posts about one programme (e.g. "Penanganan Kemiskinan")."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class Campaign(Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: The unit that owns it; ``None`` for a region-wide campaign every unit may use.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: Units expected to carry the campaign by ``due_at`` (compliance reports).
    due_at: Mapped[datetime | None] = mapped_column()
    #: Approval stages for the campaign's posts, overriding their unit's (``None``: the unit's).
    review_stages: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignUnit(Base):
    __tablename__ = "campaign_units"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"),
                                             primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
