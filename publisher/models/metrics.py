"""Engagement history: one row per collection, never overwritten."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base


class MetricSnapshot(Base):
    __tablename__ = "metric_snapshots"
    __table_args__ = (
        # "Latest snapshot of each publication as of a time" is the reports' expensive step:
        # on PostgreSQL the metric columns ride along in the index (index-only scans).
        Index("ix_snapshot_pub_time", "publication_id", "collected_at", "id",
              postgresql_include=["likes", "comments", "shares", "views", "impressions",
                                  "reach", "saves"]),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    collected_at: Mapped[datetime] = mapped_column()
    # NULL means "the platform gives no such number", never "zero".
    likes: Mapped[int | None] = mapped_column(BigInteger)
    comments: Mapped[int | None] = mapped_column(BigInteger)
    shares: Mapped[int | None] = mapped_column(BigInteger)
    views: Mapped[int | None] = mapped_column(BigInteger)
    impressions: Mapped[int | None] = mapped_column(BigInteger)
    reach: Mapped[int | None] = mapped_column(BigInteger)
    saves: Mapped[int | None] = mapped_column(BigInteger)
