"""Operator-triggered metrics refresh: the worker's periodic sweep collects publications whose
``next_metrics_at`` is due, so "refresh now" only has to make them due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from publisher.models import Post, Publication, PublicationStatus, User
from publisher.services import audit
from publisher.services.access import get_scoped
from publisher.worker.outcome import METRIC_OFFSETS

#: The worker's decaying collection schedule after publishing (for display).
SCHEDULE_HOURS = tuple(offset.total_seconds() / 3600 for offset in METRIC_OFFSETS)


def refresh_metrics_now(session: Session, actor: User, post_id: int, now: datetime) -> int:
    """Make every published publication of a post due for collection; returns how many."""
    post = get_scoped(session, Post, post_id, actor)
    n = session.execute(
        update(Publication)
        .where(Publication.post_id == post.id,
               Publication.status == PublicationStatus.PUBLISHED)
        .values(next_metrics_at=now, updated_at=now)
    ).rowcount
    audit.record(session, "metrics.refresh", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"publications": n}, at=now)
    return int(n or 0)
