"""The calendar. Days are the unit's days (its zone); dragging an item that has not gone out
yet onto another day reschedules its post at the same local time, and each such item has a
menu with a date and time field (in its unit's zone) for keyboards and touch screens: both
go through ``reschedule_post`` with the same rules."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import login_required
from sqlalchemy import or_, select

from publisher.models import Post, PostStatus, Publication, PublicationStatus
from publisher.models.post import rollup_status
from publisher.reports.period import in_range
from publisher.services.access import scope
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.helpers import me, message, user_zone

bp = Blueprint("calendar", __name__)
MOVABLE = (PublicationStatus.QUEUED, PublicationStatus.MISSED, PublicationStatus.NEEDS_REAUTH)


def _anchor(zone: str) -> date:
    raw = request.args.get("d", "")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return get_core().now().astimezone(ZoneInfo(zone)).date()
    try:
        return in_range(day, "d")
    except ServiceError as exc:  # 9999-12-31: its week or month would overflow
        abort(400, description=f"d: {message(exc)}")  # one language, the viewer's


def _items(start: datetime, end: datetime, zone: str) -> dict[date, list[dict[str, Any]]]:
    s, user = db(), me()
    tz = ZoneInfo(zone)
    when = Publication.published_at.is_not(None)
    q = (select(Publication).join(Post, Post.id == Publication.post_id)
         .where(Publication.status != PublicationStatus.CANCELLED,
                or_(Publication.scheduled_at.between(start, end),
                    when & Publication.published_at.between(start, end))))
    days: dict[date, list[dict[str, Any]]] = defaultdict(list)
    pubs = s.execute(scope(q, user, Post.unit_id)).unique().scalars().all()
    overall, out = _rollups(s, {pub.post_id: pub.post.status for pub in pubs})
    live_posts = set()
    for pub in pubs:
        at = pub.published_at or pub.scheduled_at
        live_posts.add(pub.post_id)
        days[at.astimezone(tz).date()].append({
            "at": at, "platform": pub.channel.platform, "status": pub.status,
            "overall": overall[pub.post_id], "zone": pub.post.unit.timezone,
            "label": f"{pub.channel.name}: {pub.post.body[:40]}", "post_id": pub.post_id,
            # a post live on any account cannot be moved (the service says so too)
            "movable": (pub.status in MOVABLE and pub.post.status == PostStatus.APPROVED
                        and pub.post_id not in out)})
    pq = (select(Post).where(Post.scheduled_at.between(start, end),
                             Post.status.in_((PostStatus.DRAFT, PostStatus.SUBMITTED,
                                              PostStatus.REJECTED))))
    for post in s.execute(scope(pq, user, Post.unit_id)).unique().scalars():
        if post.id in live_posts:
            continue
        days[post.scheduled_at.astimezone(tz).date()].append({
            "at": post.scheduled_at, "platform": "draft", "status": post.status,
            "overall": post.status, "zone": post.unit.timezone,
            "label": post.body[:40], "post_id": post.id, "movable": True})
    for items in days.values():
        items.sort(key=lambda i: i["at"])
    return days


def _rollups(s: Any, post_status: dict[int, str]) -> tuple[dict[int, str], set[int]]:
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


@bp.route("/kalender")
@login_required
def index() -> str:
    zone = user_zone()
    tz = ZoneInfo(zone)
    view = "week" if request.args.get("view") == "week" else "month"
    anchor = _anchor(zone)
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        prev_d, next_d = first - timedelta(days=7), first + timedelta(days=7)
    else:
        month_start = anchor.replace(day=1)
        first = month_start - timedelta(days=month_start.weekday())
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        last = next_month - timedelta(days=1)
        last = last + timedelta(days=6 - last.weekday())
        prev_d, next_d = (month_start - timedelta(days=1)).replace(day=1), next_month
    start = datetime.combine(first, time.min, tz)
    end = datetime.combine(last, time.max, tz)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    today = get_core().now().astimezone(tz).date()
    return render_template("calendar/index.html", view=view, anchor=anchor, days=days,
                           items=_items(start, end, zone), today=today, prev_d=prev_d,
                           next_d=next_d, zone=zone)
