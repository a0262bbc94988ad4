"""The bell: the list of notifications (opening it marks them read) and the unread count."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required
from markupsafe import Markup, escape
from sqlalchemy.orm.attributes import set_committed_value

from publisher.models import User
from publisher.services import accounts
from web.app import db, get_core
from web.ui.helpers import me
from web.ui.notifications.feed import _aware, notifications_for, unread_count

bp = Blueprint("notifications", __name__)


@bp.route("/notifikasi")
@login_required
def index() -> str:
    s = db()
    items = notifications_for(s, me())
    newest = max((_aware(n.event.at) for n in items), default=None)
    core = get_core()
    with core.sessions.begin() as w:  # a GET's session only reads (see web.app.db)
        seen = w.get_one(User, me().id)
        accounts.mark_notifications_seen(core, seen, newest)
        # this page's bell counts from the new time too, without writing through the read session
        set_committed_value(me(), "notifications_seen_at", seen.notifications_seen_at)
    return render_template("notifications/index.html", items=items)


@bp.route("/notifikasi/jumlah")
@login_required
def count() -> Markup:
    """The badge alone, for htmx to swap in place."""
    n = unread_count(db(), me())
    cls = "count" if n else "count zero"
    return Markup('<span id="unread" class="{}" hx-get="/notifikasi/jumlah" '
                  'hx-trigger="every 60s" hx-swap="outerHTML">{}</span>').format(
                      escape(cls), n)
