"""The profile page's notification section: one channel per kind of event, quiet hours.

A refused form is the profile page again with status 400, what was typed kept and a message
under each wrong field (in the user's language).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from publisher.notify import prefs, telegram_link
from publisher.notify.errors import DeliveryError
from publisher.notify.kinds import URGENT, kinds_for
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.auth.forms import LocaleForm, PasswordForm
from web.ui.auth.routes import _render_profile, bp
from web.ui.helpers import call, lang, me

KIND_LABELS = {
    "approval_requested": _l("Approval requested"),
    "approved": _l("Your post was approved"),
    "rejected": _l("Your post was rejected"),
    "published": _l("Published"),
    "failed": _l("Publication failed"),
    "unconfirmed": _l("Publication unconfirmed"),
    "missed": _l("Publication missed"),
    "needs_reauth": _l("A channel needs reconnecting"),
    "comment_forwarded": _l("A citizen's comment was forwarded to your unit"),
    "comment_overdue": _l("A citizen's comment is past its deadline"),
    "fanout_received": _l("A campaign message from Diskominfo arrived for your unit"),
    "worker_stopped": _l("No worker is running (admins)"),
    "token_expiring": _l("A channel's access expires within 7 days (admins)"),
    "quota_exhausted": _l("A platform's limit holds a channel (admins)"),
}
CHANNEL_LABELS = {"inapp": _l("In Warta only"), "email": _l("E-mail"),
                  "telegram": _l("Telegram")}


def notify_context(form: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None,
                   telegram_link: str | None = None) -> dict[str, Any]:
    """What the template needs: the saved preferences, or the refused form as typed."""
    saved = prefs.load(db(), me())
    linked = prefs.telegram_linked(db(), me())
    sep = "." if lang() == "id" else ":"
    start, end = saved.quiet_text(sep)
    values = {f"kind-{k}": v for k, v in saved.channels.items()}
    values |= {"quiet-start": start, "quiet-end": end, "digest-at": saved.digest_text(sep),
               "weekly-report": "1" if saved.weekly_report else ""}
    if form is not None:
        values |= form
    return {"notify_kinds": [(k, KIND_LABELS[k], k in URGENT) for k in kinds_for(me())],
            "notify_channels": [(c, CHANNEL_LABELS[c])
                                for c in prefs.offered(get_core(), linked)],
            "notify_values": values, "notify_errors": errors or {},
            "weekly_on": prefs.weekly_offered(get_core(), me()),
            "weekly_region": me().role == "admin",
            "telegram_on": bool(get_core().settings.notify_telegram_token),
            "telegram_linked": linked, "telegram_link": telegram_link}


@bp.route("/profil/notifikasi", methods=["GET", "POST"])
@login_required
def notify_settings() -> Response | tuple[str, int]:
    """Save the section (``GET`` is the e-mails' List-Unsubscribe link: open it)."""
    if request.method == "GET":
        return redirect(url_for("auth.profile") + "#notifikasi")
    form = {k: v for k, v in request.form.items() if k != "csrf_token"}
    result = call(prefs.save, get_core(), db(), me(), form,
                  ok=_("Your notification settings are saved."))
    if isinstance(result, ServiceError):
        page = _render_profile(PasswordForm(prefix="pw"),
                               LocaleForm(prefix="loc", locale=me().locale), form,
                               result.fields)
        return page, 400
    return redirect(url_for("auth.profile") + "#notifikasi")


@bp.route("/profil/telegram/tautkan", methods=["POST"])
@login_required
def telegram_link_start() -> Response | str:
    """A one-time deep link to the bot; opening it and pressing Start links the chat."""
    core = get_core()
    if not core.settings.notify_telegram_token:
        abort(404)
    try:
        username = telegram_link.bot_username(core)
    except DeliveryError as exc:
        flash(exc.message_en if lang() == "en" else exc.message_id, "error")
        return redirect(url_for("auth.profile") + "#telegram")
    token = call(telegram_link.start_link, core, db(), me())
    link = telegram_link.deep_link(username, str(token))
    return _render_profile(PasswordForm(prefix="pw"), LocaleForm(prefix="loc",
                                                                  locale=me().locale),
                           telegram_link=link)


@bp.route("/profil/telegram/lepas", methods=["POST"])
@login_required
def telegram_unlink() -> Response:
    call(telegram_link.unlink, get_core(), db(), me(),
         ok=_("Telegram is unlinked: notifications that went there stay in Warta only."))
    return redirect(url_for("auth.profile") + "#telegram")
