"""The TOTP second factor in the browser: the code step after the password, setting it up
and turning it off on the profile, and ``WARTA_REQUIRE_TOTP`` (a user of a required role sees
only the set-up page until the factor is on)."""

from __future__ import annotations

from typing import Any

from flask import flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from publisher.models import User
from publisher.services import throttle, totp
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.auth.routes import _safe_next, _start_session, bp
from web.ui.helpers import call, me

#: Session key of a login waiting for its code: user id, when the password was right, next.
PENDING = "_2fa"
PENDING_SECONDS = 5 * 60
#: Pages a user who must still set up the factor may open.
OPEN_ENDPOINTS = {"auth.totp_setup", "auth.logout", "auth.login", "auth.login_code", "static"}


def begin_second_step(user: User) -> Response:
    """The password was right and the user has a second factor: ask for the code."""
    nxt = request.args.get("next")
    session.clear()
    session[PENDING] = {"user": user.id, "at": get_core().now().timestamp(), "next": nxt}
    return redirect(url_for("auth.login_code"))


def _pending_user() -> User | None:
    pending: Any = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if get_core().now().timestamp() - float(pending.get("at", 0)) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None
    user = db().get(User, int(pending.get("user", 0)))
    return user if user is not None and user.active and totp.enabled(user) else None


@bp.route("/masuk/kode", methods=["GET", "POST"])
def login_code() -> str | Response | tuple[str, int]:
    user = _pending_user()
    if user is None:
        flash(_("Log in again."), "error")
        return redirect(url_for("auth.login"))
    if request.method == "POST":
        s, core = db(), get_core()
        refusal = throttle.check_login(core, s, request.remote_addr, user.email)
        if refusal is not None:
            s.commit()
            flash(_("Too many sign-in attempts. Try again in %(minutes)s minutes.",
                    minutes=max(1, -(-refusal.retry_after // 60))), "error")
            resp = make_response(render_template("auth/login_code.html"), 429)
            resp.headers["Retry-After"] = str(refusal.retry_after)
            return resp
        ok = totp.verify(core, s, user, request.form.get("code", ""))
        s.commit()
        if ok:
            nxt = session.get(PENDING, {}).get("next")
            _start_session(user)
            return redirect(_safe_next(nxt))
        flash(_("Wrong or expired code."), "error")
        return render_template("auth/login_code.html"), 401
    return render_template("auth/login_code.html")


@bp.route("/profil/dua-langkah", methods=["GET", "POST"])
@login_required
def totp_setup() -> str | Response:
    s, core, user = db(), get_core(), me()
    codes: list[str] | None = None
    action = request.form.get("action")
    if request.method == "POST" and action == "begin":
        call(totp.begin, core, s, user)
    elif request.method == "POST" and action == "confirm":
        result = call(totp.confirm, core, s, user, request.form.get("code", ""),
                      ok=_("Two-step sign-in is on. Keep the recovery codes somewhere safe."))
        if not isinstance(result, ServiceError):
            codes = result
    elif request.method == "POST" and action == "disable":
        result = call(totp.disable, core, s, user, request.form.get("code", ""),
                      ok=_("Two-step sign-in is off."))
    pending = user.totp_secret_encrypted is not None and not totp.enabled(user)
    return render_template("auth/totp.html", enabled=totp.enabled(user), codes=codes,
                           required=totp.required(core, user),
                           secret=totp._secret(core, user) if pending else None,
                           uri=totp.provisioning_uri(core, user) if pending else None,
                           left=len(user.totp_recovery or []))


@bp.before_app_request
def _require_second_factor() -> Response | None:
    if request.path.startswith("/api/") or not getattr(current_user, "is_authenticated", False):
        return None
    if request.endpoint in OPEN_ENDPOINTS or request.endpoint is None:
        return None
    user = me()
    if totp.required(get_core(), user) and not totp.enabled(user):
        flash(_("Your office requires two-step sign-in for your role: set it up to continue."),
              "error")
        return redirect(url_for("auth.totp_setup"))
    return None
