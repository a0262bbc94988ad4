"""The dashboard."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from publisher.services import workers
from web.app import db, get_core
from web.ui.dashboard import queries
from web.ui.helpers import me, user_zone

bp = Blueprint("dashboard", __name__)


@bp.route("/")
@login_required
def index() -> str:
    s, core, user = db(), get_core(), me()
    now = core.now()
    today, tomorrow, week_end = queries.day_bounds(now, user_zone())
    week = queries.scheduled(s, user, today, week_end)
    return render_template(
        "dashboard/index.html", now=now,
        today_items=[p for p in week if p.scheduled_at < tomorrow],
        week_items=[p for p in week if p.scheduled_at >= tomorrow],
        waiting=queries.waiting_for_me(s, user, core.settings.allow_self_approval),
        attention=queries.needing_action(s, user),
        totals=queries.engagement_this_month(s, user, now, core.settings.timezone),
        health=queries.health(s, user), workers=workers.statuses(s, now))
