"""An emergency broadcast: one text (and optional media) sent at once to every active account of
the chosen units, started by one admin and confirmed by a second (``services/emergency.py``).

Each unit's share becomes an ordinary, already approved post linked here by
``EmergencyPost``: the worker publishes it through the same publications and claim machinery
(never twice), and its link to a confirmed emergency is what lets it pass freeze windows.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class EmergencyStatus(StrEnum):
    STARTED = "started"  # waiting for a second admin's confirmation
    CONFIRMED = "confirmed"  # sent: its posts and publications exist
    CANCELLED = "cancelled"


class Emergency(Base):
    __tablename__ = "emergencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    #: Media asset ids, in order.
    media_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    #: The chosen unit ids; ``None`` means every unit.
    unit_ids: Mapped[list[Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default=EmergencyStatus.STARTED, index=True)
    #: The hash of the current content and targets (``services/emergency.emergency_hash``).
    content_hash: Mapped[str] = mapped_column(String(64))
    started_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Who last changed the content (the starter until someone edits): may not confirm.
    edited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column()
    #: The hash the confirmer saw and confirmed; the worker checks each post against it.
    confirmed_hash: Mapped[str | None] = mapped_column(String(64))
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class EmergencyPost(Base):
    """One unit's post of an emergency."""

    __tablename__ = "emergency_posts"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    emergency_id: Mapped[int] = mapped_column(ForeignKey("emergencies.id"), index=True)


__all__ = ["Emergency", "EmergencyPost", "EmergencyStatus"]
