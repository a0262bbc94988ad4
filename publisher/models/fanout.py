"""Campaign fan-out ("narasi tunggal"): one message Diskominfo writes once and sends to many
units, each of which receives its own draft (a normal post of its unit, linked back here)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class CampaignFanout(Base):
    """The source message. Its units' copies are ``CampaignFanoutUnit`` rows, one per unit."""

    __tablename__ = "campaign_fanouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    #: Platforms the message is meant for (``["facebook", "x"]``); empty means every platform.
    platforms: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The campaign's time: every copy starts scheduled at it.
    scheduled_at: Mapped[datetime] = mapped_column()
    #: A unit may publish within ± this many hours of ``scheduled_at``; later counts as late.
    window_hours: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CampaignFanoutUnit(Base):
    """One unit's copy. The primary key makes sending to a unit idempotent: a second send
    finds the row instead of making a second post."""

    __tablename__ = "campaign_fanout_units"

    fanout_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_fanouts.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
