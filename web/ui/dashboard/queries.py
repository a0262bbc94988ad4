"""Read-only queries behind the dashboard, all scoped to what the user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
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
from publisher.services.inbox_overdue import Overdue
from publisher.services.inbox_overdue import overdue as inbox_overdue
from web.ui.figures_cache import FiguresCache

T = TypeVar("T")


def day_bounds(now: datetime, zone: str) -> tuple[datetime, datetime, datetime]:
    """Start of today, start of tomorrow and end of this week (Monday-based) in the zone."""
    local = now.astimezone(ZoneInfo(zone))
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week_end = start + timedelta(days=7 - start.weekday())
    return start, start + timedelta(days=1), week_end


#: Rows a dashboard list shows; the rest is a link away (the calendar, the approvals page).
#: A province's week is ~3,000 publications: listing them made the page 800 KB.
LIST_LIMIT = 15


@dataclass(frozen=True)
class Bounded(Generic[T]):
    """The first rows of a list and how many there are in all."""

    items: list[T]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def scheduled(session: Session, user: User, start: datetime, end: datetime,
              limit: int | None = None) -> Bounded[Publication]:
    """What goes out (or went out) between ``start`` and ``end``, the first ``limit`` of it:
    ids and the count from the publications' indexes, then only the shown rows."""
    q = scope(select(Publication.id).join(Post, Post.id == Publication.post_id),
              user, Post.unit_id).where(
        Publication.scheduled_at >= start, Publication.scheduled_at < end,
        Publication.status.in_((PublicationStatus.QUEUED, PublicationStatus.PUBLISHING,
                                PublicationStatus.PUBLISHED)))
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    ids = list(session.execute(q.order_by(Publication.scheduled_at, Publication.id)
                               .limit(LIST_LIMIT if limit is None else limit)).scalars())
    return Bounded(_in_order(session, ids), total)


def _in_order(session: Session, ids: list[int]) -> list[Publication]:
    if not ids:
        return []
    rows = session.execute(select(Publication).where(Publication.id.in_(ids))).unique().scalars()
    by_id = {p.id: p for p in rows}
    return [by_id[i] for i in ids]


def waiting_for_me(session: Session, user: User, self_ok: bool,
                   limit: int | None = None) -> Bounded[Post]:
    q = select(Post).where(Post.status == PostStatus.SUBMITTED)
    if user.role == Role.OPERATOR:
        q = q.where(Post.author_id == user.id)
    elif not self_ok:  # the four-eyes rule: not the posts they wrote or changed
        wrote = select(PostVersion.id).where(PostVersion.post_id == Post.id,
                                             PostVersion.editor_id == user.id)
        q = q.where(Post.author_id != user.id, ~wrote.exists())
    q = scope(q, user, Post.unit_id)
    total = session.execute(select(func.count()).select_from(
        q.with_only_columns(Post.id).subquery())).scalar_one()
    rows = session.execute(q.order_by(Post.submitted_at, Post.id)
                           .limit(LIST_LIMIT if limit is None else limit)).unique().scalars()
    return Bounded(list(rows), total)


def needing_action(session: Session, user: User, limit: int = 50) -> list[Publication]:
    """The latest publications that need someone (failed, unconfirmed, missed, reconnect).

    The ids first, from the (status, updated_at) index, then the rows with everything the
    list shows: one query with the joins made SQLite read every post (0.17 s on the reports
    benchmark's database instead of a millisecond)."""
    ids = list(session.execute(
        scope_by_post(select(Publication.id), user, Publication.post_id)
        .where(Publication.status.in_(ATTENTION_STATES))
        .order_by(Publication.updated_at.desc(), Publication.id.desc()).limit(limit)).scalars())
    return _in_order(session, ids)


def comments_overdue(session: Session, user: User, now: datetime,
                     tomorrow: datetime) -> Overdue:
    """Citizens' comments past their deadline that the user's unit sees (the inbox's own
    rule), oldest deadline first, at most ``LIST_LIMIT``; and how many fall due today."""
    return inbox_overdue(session, user, now, tomorrow, LIST_LIMIT)


def engagement_this_month(session: Session, user: User, now: datetime, default_zone: str,
                          cache: FiguresCache | None = None) -> dict[str, Any]:
    """This month's figures, exactly as the reports page shows them (same request, same
    query): the all-time sum this card used to show read every snapshot ever collected
    (1.6 s on the reports benchmark's database) and matched no report. With ``cache``,
    reused per scope and period for a short time."""
    req = parse_request({"period": "this_month"}, user, now, default_zone)

    def compute() -> dict[str, Any]:
        return engagement.totals(session, user, req.filter)

    totals = compute() if cache is None else cache.get(
        user, "engagement_this_month", (req.filter, req.zone), compute)
    return {"period": req.period, **totals}


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


