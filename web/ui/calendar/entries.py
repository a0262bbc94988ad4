"""What the calendar reads: per-day counts, and only the items it shows.

A month of a province's work is ~12,000 publications; the calendar used to load every one of
them with its post, channel and unit (2.3 s and 3.8 MB of HTML for an administrator on the
reports benchmark's database). Now the database counts per day (by platform and state), and
returns the first few items of each day; the rest of a day is read a page at a time.

One subquery, ``_entries``, says what an entry is: a publication that is not cancelled, at its
publication time or else its scheduled time, and a post not yet approved (draft, submitted,
rejected) at its scheduled time unless one of its publications is in the range. Days are the
viewer's days: the UTC instants of each local midnight are computed here, so a zone's day is
right on SQLite and PostgreSQL alike, daylight saving included, without SQL time-zone functions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from publisher.models import Channel, Post, PostStatus, Publication, PublicationStatus, User
from publisher.models.post import rollup_status
from publisher.services.access import scope

#: What the calendar may move (the service decides again).
MOVABLE = (PublicationStatus.QUEUED, PublicationStatus.MISSED, PublicationStatus.NEEDS_REAUTH)
#: Posts shown as themselves until approved.
UNAPPROVED = (PostStatus.DRAFT, PostStatus.SUBMITTED, PostStatus.REJECTED)
#: A day page's length.
DAY_PAGE = 50


@dataclass
class DaySummary:
    """How many entries a day has, by platform ("draft" for unapproved posts) and by state."""

    total: int = 0
    platforms: dict[str, int] = field(default_factory=dict)
    #: keyed by (what the state is of, state): ("publication", "failed"), ("post", "draft")
    states: dict[tuple[str, str], int] = field(default_factory=dict)


def midnights(first: date, days: int, zone: str) -> list[datetime]:
    """The UTC instants of the local midnights from ``first`` on, ``days + 1`` of them (the
    last ends the range)."""
    tz = ZoneInfo(zone)
    return [datetime.combine(first + timedelta(days=i), time.min, tz) for i in range(days + 1)]


def _day_of(at: Any, bounds: list[datetime]) -> ColumnElement[Any]:
    """The index of the day ``at`` falls on (``bounds[i] <= at < bounds[i + 1]``)."""
    return case(*[(at < b, i) for i, b in enumerate(bounds[1:])], else_=None)


def _entries(user: User, bounds: list[datetime]) -> Any:
    """Every entry of the range as (kind, id, post_id, at, day, platform, state)."""
    start, end = bounds[0], bounds[-1]
    in_range = or_(and_(Publication.scheduled_at >= start, Publication.scheduled_at < end),
                   and_(Publication.published_at >= start, Publication.published_at < end))
    at = func.coalesce(Publication.published_at, Publication.scheduled_at)
    pubs = scope(
        select(literal("p").label("kind"), Publication.id.label("id"),
               Publication.post_id.label("post_id"), at.label("at"),
               _day_of(at, bounds).label("day"), Channel.platform.label("platform"),
               Publication.status.label("state"))
        .select_from(Publication).join(Channel, Channel.id == Publication.channel_id)
        .join(Post, Post.id == Publication.post_id)
        .where(Publication.status != PublicationStatus.CANCELLED, in_range, at >= start,
               at < end), user, Post.unit_id)
    live = (select(Publication.id)
            .where(Publication.post_id == Post.id,
                   Publication.status != PublicationStatus.CANCELLED, in_range).exists())
    drafts = scope(
        select(literal("d").label("kind"), Post.id.label("id"), Post.id.label("post_id"),
               Post.scheduled_at.label("at"), _day_of(Post.scheduled_at, bounds).label("day"),
               literal("draft").label("platform"), Post.status.label("state"))
        .where(Post.scheduled_at >= start, Post.scheduled_at < end,
               Post.status.in_(UNAPPROVED), ~live), user, Post.unit_id)
    return union_all(pubs, drafts).subquery("entries")


def summaries(session: Session, user: User, bounds: list[datetime]) -> dict[int, DaySummary]:
    """Counts per day index, one grouped query."""
    e = _entries(user, bounds)
    rows = session.execute(select(e.c.day, e.c.platform, e.c.state, func.count())
                           .group_by(e.c.day, e.c.platform, e.c.state))
    out: dict[int, DaySummary] = defaultdict(DaySummary)
    for day, platform, state, n in rows:
        d = out[day]
        d.total += n
        d.platforms[platform] = d.platforms.get(platform, 0) + n
        key = ("post" if platform == "draft" else "publication", state)
        d.states[key] = d.states.get(key, 0) + n
    return out


def first_items(session: Session, user: User, bounds: list[datetime],
                per_day: int) -> dict[int, list[dict[str, Any]]]:
    """The first ``per_day`` entries of each day (by time), ready for the template."""
    e = _entries(user, bounds)
    rank = func.row_number().over(partition_by=e.c.day,
                                  order_by=(e.c.at, e.c.kind, e.c.id)).label("rank")
    ranked = select(e.c.kind, e.c.id, e.c.day, rank).subquery("ranked")
    rows = session.execute(select(ranked.c.kind, ranked.c.id, ranked.c.day)
                           .where(ranked.c.rank <= per_day)).all()
    items = _load(session, [(kind, i) for kind, i, _ in rows])
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for kind, i, day in rows:
        out[day].append(items[kind, i])
    for day_items in out.values():
        day_items.sort(key=lambda it: (it["at"], it["kind"], it["id"]))
    return out


def day_page(session: Session, user: User, bounds: list[datetime], page: int,
             per_page: int | None = None) -> list[dict[str, Any]]:
    """One page of a single day's entries (``bounds`` is that day's two midnights)."""
    per_page = DAY_PAGE if per_page is None else per_page
    e = _entries(user, bounds)
    rows = session.execute(select(e.c.kind, e.c.id).order_by(e.c.at, e.c.kind, e.c.id)
                           .limit(per_page).offset((page - 1) * per_page)).all()
    items = _load(session, [(kind, i) for kind, i in rows])
    return [items[kind, i] for kind, i in rows]


def _load(session: Session, keys: list[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The shown entries with what an item says, in a fixed number of queries."""
    pub_ids = sorted(i for kind, i in keys if kind == "p")
    post_ids = sorted(i for kind, i in keys if kind == "d")
    out: dict[tuple[str, int], dict[str, Any]] = {}
    pubs = list(session.execute(select(Publication).where(Publication.id.in_(pub_ids)))
                .unique().scalars()) if pub_ids else []
    overall, live = _rollups(session, {p.post_id: p.post.status for p in pubs})
    for pub in pubs:
        post = pub.post
        out["p", pub.id] = {
            "kind": "p", "id": pub.id, "at": pub.published_at or pub.scheduled_at,
            "platform": pub.channel.platform, "status": pub.status,
            "overall": overall[pub.post_id], "zone": post.unit.timezone,
            "label": f"{pub.channel.name}: {post.body[:40]}", "post_id": pub.post_id,
            # a post live on any account cannot be moved (the service says so too)
            "movable": (pub.status in MOVABLE and post.status == PostStatus.APPROVED
                        and pub.post_id not in live)}
    if post_ids:
        for post in session.execute(select(Post).where(Post.id.in_(post_ids))).unique().scalars():
            out["d", post.id] = {
                "kind": "d", "id": post.id, "at": post.scheduled_at, "platform": "draft",
                "status": post.status, "overall": post.status, "zone": post.unit.timezone,
                "label": post.body[:40], "post_id": post.id, "movable": True}
    return out


def _rollups(s: Session, post_status: dict[int, str]) -> tuple[dict[int, str], set[int]]:
    """``Post.overall_status`` of the posts on the page, and which of them are live on some
    account, from one query of their publications' statuses (a post's other channels may
    lie outside the shown range)."""
    found: dict[int, list[str]] = defaultdict(list)
    if post_status:
        rows = s.execute(select(Publication.post_id, Publication.status)
                         .where(Publication.post_id.in_(sorted(post_status))))
        for post_id, status in rows:
            found[post_id].append(status)
    overall = {pid: rollup_status(status, found[pid]) for pid, status in post_status.items()}
    return overall, {pid for pid, states in found.items()
                     if PublicationStatus.PUBLISHED in states}
