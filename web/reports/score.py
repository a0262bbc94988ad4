"""``/laporan/skor``: the weekly unit activity score (``publisher.reports.score``).

Who sees what: an admin sees every unit's row, the ranking and each unit's trend. An approver
or operator sees only their own unit's row and trend, and its rank position as "k of n" — never
another unit's name or figures (the ranking is computed over every unit, then filtered here).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from publisher.models import Role
from publisher.notify.weekly_report import last_week
from publisher.reports import score as sc
from publisher.reports.period import MAX_YEAR, MIN_YEAR, Period
from web.app import db, get_core
from web.reports.routes import bp

LABELS = {"plan": "Published vs planned", "on_time": "On time",
          "channels": "Channels healthy", "engagement": "Engagement vs own past",
          "complaints": "Complaints answered in time"}


def _week(default: date) -> date:
    """The Monday of ``?minggu=2026-W23`` (default: the last complete week); a bad or a
    future week is a 400 with the reason."""
    text = (request.args.get("minggu") or "").strip()
    if not text:
        return default
    try:
        monday = Period.of_iso_week(text, "UTC").first_day
    except ValueError:
        abort(400, description=_("Unknown week (use YYYY-Www, e.g. 2026-W23)."))
    if not MIN_YEAR <= monday.year <= MAX_YEAR or monday > default:
        abort(400, description=_("Choose a complete week that has ended."))
    return monday


def iso(monday: date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


@bp.get("/skor")
@login_required
def score():  # type: ignore[no-untyped-def]
    core = get_core()
    now = core.now()
    default = last_week(now, core.settings.timezone).first_day
    monday = _week(default)
    mondays = sc.trend_mondays(monday)
    weeks = sc.scores(db(), mondays, now)
    ranking = weeks[monday]
    total = len(ranking)
    if current_user.role != Role.ADMIN:
        ranking = [r for r in ranking if r.unit_id == current_user.unit_id]
    shown = {r.unit_id for r in ranking}
    trend = {uid: [next(r for r in weeks[m] if r.unit_id == uid) for m in mondays]
             for uid in shown}
    return render_template("reports/score.html", ranking=ranking, total=total, trend=trend,
                           mondays=mondays, monday=monday, labels=LABELS,
                           components=sc.COMPONENTS, weights=sc.WEIGHTS, sc=sc,
                           week_name=iso(monday), iso=iso, last_day=monday + timedelta(days=6),
                           prev=monday - timedelta(weeks=1),
                           next=monday + timedelta(weeks=1) if monday < default else None,
                           admin=current_user.role == Role.ADMIN)
