"""Read-only queries behind the dashboard, all scoped to what the user may see."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from adapters import AdapterUnavailable, get_adapter_class
from publisher.models import (
    ATTENTION_STATES,
    Channel,
    ChannelStatus,
    Post,
    PostStatus,
    PostVersion,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.reports import engagement
from publisher.reports.report import parse_request
from publisher.services.access import scope, scope_by_post


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
    elif not self_ok:  # the four-eyes rule: not the posts they wrote or changed
        wrote = select(PostVersion.id).where(PostVersion.post_id == Post.id,
                                             PostVersion.editor_id == user.id)
        q = q.where(Post.author_id != user.id, ~wrote.exists())
    return list(session.execute(scope(q, user, Post.unit_id)).unique().scalars())


def needing_action(session: Session, user: User, limit: int = 50) -> list[Publication]:
    """The latest publications that need someone (failed, unconfirmed, missed, reconnect).

    The ids first, from the (status, updated_at) index, then the rows with everything the
    list shows: one query with the joins made SQLite read every post (0.17 s on the reports
    benchmark's database instead of a millisecond)."""
    ids = list(session.execute(
        scope_by_post(select(Publication.id), user, Publication.post_id)
        .where(Publication.status.in_(ATTENTION_STATES))
        .order_by(Publication.updated_at.desc(), Publication.id.desc()).limit(limit)).scalars())
    if not ids:
        return []
    rows = session.execute(select(Publication).where(Publication.id.in_(ids))).unique().scalars()
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids]


def engagement_this_month(session: Session, user: User, now: datetime,
                          default_zone: str) -> dict[str, Any]:
    """This month's figures, exactly as the reports page shows them (same request, same
    query): the all-time sum this card used to show read every snapshot ever collected
    (1.6 s on the reports benchmark's database) and matched no report."""
    req = parse_request({"period": "this_month"}, user, now, default_zone)
    return {"period": req.period, **engagement.totals(session, user, req.filter)}


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


