"""The operator's browser UI: one blueprint per area, plus what every page shows (navigation,
pause and worker banners, the notification bell)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_login import current_user

from publisher.timeutil import zone_label
from web.ui import helpers, labels


def register(app: Flask) -> None:
    from web.ui.admin.routes import bp as admin_bp
    from web.ui.auth.routes import bp as auth_bp
    from web.ui.calendar.routes import bp as calendar_bp
    from web.ui.channels import connect as _connect  # noqa: F401 - routes on channels_bp
    from web.ui.channels.routes import bp as channels_bp
    from web.ui.dashboard.routes import bp as dashboard_bp
    from web.ui.inbox.routes import bp as inbox_bp
    from web.ui.notifications.routes import bp as notifications_bp
    from web.ui.posts.approvals import bp as approvals_bp
    from web.ui.posts.routes import bp as posts_bp

    for bp in (auth_bp, dashboard_bp, posts_bp, approvals_bp, calendar_bp, channels_bp,
               admin_bp, notifications_bp, inbox_bp):
        app.register_blueprint(bp)
    from web.ui.auth import forced_change

    forced_change.install(app)
    app.context_processor(_page_context)
    app.jinja_env.filters.update(
        dt=helpers.fmt_dt, time=helpers.fmt_time, day=helpers.fmt_day, num=helpers.fmt_num,
        pct=helpers.fmt_pct, local_input=helpers.local_input, zonelabel=zone_label)
    app.jinja_env.globals.update(status_label=labels.status_label,
                                 platform_label=labels.platform_label, page_url=helpers.page_url,
                                 cursor_url=helpers.cursor_url)


def _page_context() -> dict[str, Any]:
    """Banners and counts shown on every page. It must never break a page (error pages too),
    so a failure here leaves the banners out rather than raising."""
    ctx: dict[str, Any] = {"active_pauses": [], "worker_down": False, "unread": 0,
                           "lang": helpers.lang()}
    try:
        if not getattr(current_user, "is_authenticated", False):
            return ctx
        from publisher.services import pauses, workers
        from web.app import db, get_core
        from web.ui.notifications.feed import unread_count

        s = db()
        now = get_core().now()
        user = helpers.me()
        ctx["active_pauses"] = [p for p in pauses.current_pauses(s, now)
                                if p.starts_at <= now and _concerns(p, user)]
        ctx["worker_down"] = not workers.any_alive(s, now)
        ctx["unread"] = unread_count(s, user)
    except Exception:  # noqa: BLE001 - banners are a courtesy, the page matters more
        import logging

        logging.getLogger(__name__).exception("page context failed")
    return ctx


def _concerns(pause: Any, user: Any) -> bool:
    if pause.scope == "global" or user.is_admin:
        return True
    if pause.scope == "unit":
        return bool(pause.unit_id == user.unit_id)
    from publisher.models import Channel
    from web.app import db

    channel = db().get(Channel, pause.channel_id)
    return channel is not None and channel.unit_id == user.unit_id
