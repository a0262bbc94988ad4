"""The Webhook page (admins): the office's outgoing webhooks, their last deliveries, add and
remove. The secret is a write-only field: never pre-filled, never shown, not even after a
refused form (the admin types it again)."""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Unit
from publisher.notify import webhooks
from publisher.notify.kinds import KINDS
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.admin.routes import bp
from web.ui.auth.notify import KIND_LABELS
from web.ui.helpers import call, me, message

DELIVERY_LABELS: dict[str, Any] = {
    "pending": _l("Waiting to be sent"), "sending": _l("Sending"), "sent": _l("Sent"),
    "dropped": _l("Dropped"), "failed": _l("Failed"), "unconfirmed": _l("Unconfirmed"),
}


def _page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    s = db()
    hooks = webhooks.listed(s)
    values: dict[str, Any] = {}
    if errors:  # the input kept, except the secret
        values = {k: request.form.get(k, "") for k in ("name", "url", "unit")}
        values["kinds"] = request.form.getlist("kinds")
    return render_template(
        "admin/webhooks.html", hooks=hooks, recent=webhooks.recent(s, hooks),
        units={u.id: u for u in s.execute(select(Unit).order_by(Unit.name)).scalars()},
        kinds=[(k, KIND_LABELS[k]) for k in KINDS], kind_labels=KIND_LABELS,
        delivery_labels=DELIVERY_LABELS, errors=errors or {}, values=values,
        max_hooks=webhooks.MAX_WEBHOOKS), status


@bp.route("/webhook", methods=["GET", "POST"])
def webhook_list() -> tuple[str, int] | Response:
    if request.method == "POST":
        form = {"name": request.form.get("name", ""), "url": request.form.get("url", ""),
                "secret": request.form.get("secret", ""), "unit": request.form.get("unit", ""),
                "kinds": request.form.getlist("kinds")}
        result = call(webhooks.add, get_core(), db(), me(), form, flash_errors=False,
                      ok=_("Webhook saved. Warta signs every request with its secret."))
        if isinstance(result, ServiceError):
            return _page(result.fields or {"name": message(result)}, 400)
        return redirect(url_for("admin.webhook_list"))
    return _page()


@bp.route("/webhook/<int:webhook_id>/hapus", methods=["POST"])
def webhook_remove(webhook_id: int) -> Response:
    call(webhooks.remove, get_core(), db(), me(), webhook_id, ok=_("Webhook removed."))
    return redirect(url_for("admin.webhook_list"))
