"""A channel is one social account of a unit. Its credentials are encrypted at rest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, utcnow
from publisher.models.enums import ChannelStatus
from publisher.models.org import Unit


class Channel(Base):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(200))
    username: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=ChannelStatus.ACTIVE)
    #: Fernet token of the JSON credentials; never leaves the core in clear.
    credentials_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: Small adapter state (quota counters, cached names), persisted after each call.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Set when the platform told the whole account to wait (quota, credits).
    paused_until: Mapped[datetime | None] = mapped_column()
    pause_reason: Mapped[str | None] = mapped_column(Text)
    last_published_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reconnected_at: Mapped[datetime | None] = mapped_column()

    unit: Mapped[Unit] = relationship(lazy="joined")
