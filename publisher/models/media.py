"""Uploaded photos and videos, stored once per unit under their content hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class MediaAsset(Base):
    __tablename__ = "media_assets"
    __table_args__ = (
        UniqueConstraint("unit_id", "sha256", name="uq_media_unit_hash"),
        # The media library (``services/media_library.py``): a unit's assets, newest first.
        Index("ix_media_unit_created", "unit_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(8))
    mime: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    #: Path relative to WARTA_MEDIA_DIR.
    path: Mapped[str] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(255), default="")
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: What the image shows, for people who cannot see it: the default of a post's per-image
    #: alt text when the asset is attached (``post_media.alt_text`` is what is published).
    alt_text: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    #: Space-separated lower-case tags for the library's search ("logo banner hut-ri").
    tags: Mapped[str] = mapped_column(String(500), default="", server_default="")
    #: Shared with every unit by an admin (Diskominfo's logos and banners): other units may
    #: see it and attach it, never change or delete it.
    region_wide: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false(),
                                              index=True)
