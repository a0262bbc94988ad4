"""Content tools an operator reuses: named post templates and named hashtag sets.

Each belongs to one unit, or (``unit_id`` None) to the whole region, kept by admins and
offered to every unit like a region-wide campaign.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class PostTemplate(Base):
    """A body with placeholders such as ``{tanggal}`` the operator fills in the composer, and
    optionally the channels and campaign the composer starts with."""

    __tablename__ = "post_templates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    #: Channel ids of the template's unit (a region template carries none).
    channel_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class HashtagSet(Base):
    """Hashtags that travel together (``#JagaJakarta #PemkotPeduli``), stored as typed,
    separated by spaces."""

    __tablename__ = "hashtag_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    tags: Mapped[str] = mapped_column(String(1000), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
