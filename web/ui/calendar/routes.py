"""The calendar. Days are the unit's days (its zone); dragging an item that has not gone out
yet onto another day reschedules its post at the same local time, and each such item has a
menu with a date and time field (in its unit's zone) for keyboards and touch screens: both
go through ``reschedule_post`` with the same rules."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, render_template, request
from flask_login import login_required

from publisher.reports.period import in_range
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.calendar import entries
from web.ui.helpers import Page, int_arg, me, message, user_zone

bp = Blueprint("calendar", __name__)
#: Items shown in a day's cell before its "more" link: a month of a province's work is
#: ~12,000 items, which no page can carry (3.8 MB before the calendar counted per day).
PER_DAY = {"month": 3, "week": 12}


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


@bp.route("/kalender")
@login_required
def index() -> str:
    zone = user_zone()
    tz = ZoneInfo(zone)
    view = request.args.get("view")
    view = view if view in ("week", "day") else "month"
    anchor = _anchor(zone)
    today = get_core().now().astimezone(tz).date()
    if view == "day":
        return _day(anchor, zone, today)
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
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    bounds = entries.midnights(first, len(days), zone)
    s, user = db(), me()
    sums = entries.summaries(s, user, bounds)
    shown = entries.first_items(s, user, bounds, PER_DAY[view])
    return render_template("calendar/index.html", view=view, anchor=anchor, days=days,
                           items={d: shown.get(i, []) for i, d in enumerate(days)},
                           sums={d: sums[i] for i, d in enumerate(days) if i in sums},
                           today=today, prev_d=prev_d, next_d=next_d, zone=zone)


def _day(day: date, zone: str, today: date) -> str:
    """One day's items a page at a time: where a cell's "more" link leads."""
    bounds = entries.midnights(day, 1, zone)
    s, user = db(), me()
    total = entries.summaries(s, user, bounds).get(0, entries.DaySummary())
    pages = max(1, -(-total.total // entries.DAY_PAGE))
    number = min(max(1, int_arg("halaman", 1) or 1), pages)
    items = entries.day_page(s, user, bounds, number)
    return render_template("calendar/day.html", view="day", anchor=day, day=day, items=items,
                           summary=total, page=Page(items, number, entries.DAY_PAGE, total.total),
                           today=today, zone=zone,
                           prev_d=day - timedelta(days=1), next_d=day + timedelta(days=1))
