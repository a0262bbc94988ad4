"""The profile page's notification section: one channel per kind of event, quiet hours.

A refused form is the profile page again with status 400, what was typed kept and a message
under each wrong field (in the user's language).
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from publisher.notify import prefs
from publisher.notify.kinds import KINDS, URGENT
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
}
CHANNEL_LABELS = {"inapp": _l("In Warta only"), "email": _l("E-mail"),
                  "telegram": _l("Telegram")}


def notify_context(form: dict[str, str] | None = None,
                   errors: dict[str, str] | None = None) -> dict[str, Any]:
    """What the template needs: the saved preferences, or the refused form as typed."""
    saved = prefs.load(db(), me())
    sep = "." if lang() == "id" else ":"
    start, end = saved.quiet_text(sep)
    values = {f"kind-{k}": v for k, v in saved.channels.items()}
    values |= {"quiet-start": start, "quiet-end": end}
    if form is not None:
        values |= form
    return {"notify_kinds": [(k, KIND_LABELS[k], k in URGENT) for k in KINDS],
            "notify_channels": [(c, CHANNEL_LABELS[c]) for c in prefs.offered(get_core())],
            "notify_values": values, "notify_errors": errors or {}}


@bp.route("/profil/notifikasi", methods=["GET", "POST"])
@login_required
def notify_settings() -> Response | tuple[str, int]:
    if request.method == "GET":  # the e-mails' List-Unsubscribe link
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
