"""Read-only queries behind the dashboard, all scoped to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from adapters import AdapterUnavailable, get_adapter_class
from publisher.models import (
    ATTENTION_STATES,
    Channel,
    ChannelStatus,
    MetricSnapshot,
    Post,
    PostStatus,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services.access import scope


def day_bounds(now: datetime, zone: str) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow and end of this week (Monday-based) in the zone."""
    local = now.astimezone(ZoneInfo(zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_end = start + timedelta(days=7 - start.weekday())
    return start, start + timedelta(days=1), week_end


def scheduled(session: Session, user: User, start: datetime, end: datetime) -> list[Publication]:
    q = (select(Publication).join(Post, Publication.post_id == Post.id)
         .where(Publication.scheduled_at >= start, Publication.scheduled_at < end,
                Publication.status.in_((PublicationStatus.QUEUED, PublicationStatus.PUBLISHING,
                                        PublicationStatus.PUBLISHED)))
         .order_by(Publication.scheduled_at))
    return list(session.execute(scope(q, user, Post.unit_id)).unique().scalars())


def waiting_for_me(session: Session, user: User, self_ok: bool) -> list[Post]:
    q = select(Post).where(Post.status == PostStatus.SUBMITTED).order_by(Post.submitted_at)
    if user.role == Role.OPERATOR:
        q = q.where(Post.author_id == user.id)
    elif not self_ok:
        q = q.where(Post.author_id != user.id)
    return list(session.execute(scope(q, user, Post.unit_id)).unique().scalars())


def needing_action(session: Session, user: User) -> list[Publication]:
    q = (select(Publication).join(Post, Publication.post_id == Post.id)
         .where(Publication.status.in_(ATTENTION_STATES))
         .order_by(Publication.updated_at.desc()).limit(50))
    return list(session.execute(scope(q, user, Post.unit_id)).unique().scalars())


def engagement_totals(session: Session, user: User) -> dict[str, int | None]:
    """Sum of each publication's latest snapshot; a metric nobody reports stays None."""
    latest = (select(MetricSnapshot.publication_id,
                     func.max(MetricSnapshot.collected_at).label("at"))
              .group_by(MetricSnapshot.publication_id).subquery())
    names = ("likes", "comments", "shares", "views", "reach")
    q = (select(*[func.sum(getattr(MetricSnapshot, n)) for n in names])
         .join(latest, (latest.c.publication_id == MetricSnapshot.publication_id)
               & (latest.c.at == MetricSnapshot.collected_at))
         .join(Publication, Publication.id == MetricSnapshot.publication_id)
         .join(Post, Post.id == Publication.post_id))
    row = session.execute(scope(q, user, Post.unit_id)).one()
    return dict(zip(names, row, strict=True))


def health(session: Session, user: User) -> list[dict[str, Any]]:
    q = (select(Channel).where(Channel.status != ChannelStatus.DISABLED)
         .order_by(Channel.unit_id, Channel.name))
    out = []
    for ch in session.execute(scope(q, user, Channel.unit_id)).unique().scalars():
        state = ch.state or {}
        quota = {k: v for k, v in state.items() if "quota" in k.lower() or "limit" in k.lower()}
        out.append({"channel": ch, "quota": quota, "renews": _renews_tokens(ch.platform)})
    return out


def _renews_tokens(platform: str) -> bool:
    try:
        return get_adapter_class(platform).caps.renews_tokens
    except AdapterUnavailable:
        return False


