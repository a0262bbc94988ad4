"""The dashboard."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template
from flask_login import login_required

from publisher.services import emergency, workers
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
    return render_template(
        "dashboard/index.html", now=now, today=today, tomorrow=tomorrow,
        today_items=queries.scheduled(s, user, today, tomorrow),
        week_items=queries.scheduled(s, user, tomorrow, week_end),
        waiting=queries.waiting_for_me(s, user, core.settings.allow_self_approval),
        attention=queries.needing_action(s, user),
        overdue=queries.comments_overdue(s, user, now, tomorrow),
        totals=queries.engagement_this_month(s, user, now, core.settings.timezone,
                                             current_app.extensions["warta.figures"]),
        health=queries.health(s, user), workers=workers.statuses(s, now),
        emergencies=emergency.board(s, user, now))
