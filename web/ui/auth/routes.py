"""Session login with lockout after repeated wrong passwords, logout, profile."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.wrappers import Response

from publisher.models import User
from publisher.services import accounts, throttle, tokens
from publisher.services.errors import ServiceError
from web.app import SESSION_VERSION, db, get_core
from web.security import safe_next
from web.ui.auth.forms import LocaleForm, LoginForm, PasswordForm
from web.ui.helpers import call, me, message

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site paths (as a browser reads them): an open redirect after login would
    help phishing."""
    return safe_next(target) or url_for("dashboard.index")


@bp.route("/masuk", methods=["GET", "POST"])
def login() -> str | Response:
    form = LoginForm()
    if form.validate_on_submit():
        s = db()
        refusal = throttle.check_login(get_core(), s, request.remote_addr, form.email.data or "")
        s.commit()
        if refusal is not None:
            minutes = max(1, -(-refusal.retry_after // 60))
            flash(_("Too many sign-in attempts. Try again in %(minutes)s minutes.",
                    minutes=minutes), "error")
            resp = make_response(render_template("auth/login.html", form=form), 429)
            resp.headers["Retry-After"] = str(refusal.retry_after)
            return resp
        try:
            user = accounts.authenticate(get_core(), s, form.email.data or "",
                                         form.password.data or "")
        except ServiceError as exc:
            s.commit()  # keep the failure count
            flash(message(exc), "error")
            return render_template("auth/login.html", form=form), 401
        s.commit()
        from publisher.services import totp
        from web.ui.auth.second_factor import begin_second_step

        if totp.enabled(user):
            return begin_second_step(user)
        _start_session(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


def _start_session(user: User) -> None:
    """Log in with a fresh session cookie bound to the user's current session version."""
    session.clear()
    login_user(user)
    session[SESSION_VERSION] = user.session_version or 0


@bp.route("/keluar", methods=["POST"])
def logout() -> Response:
    if current_user.is_authenticated:
        s = db()
        accounts.log_out(s, me())
        s.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/profil", methods=["GET", "POST"])
@login_required
def profile() -> str | Response:
    pw = PasswordForm(prefix="pw")
    loc = LocaleForm(prefix="loc", locale=me().locale)
    if request.method == "POST":
        if "pw-new" in request.form and pw.validate_on_submit():
            result = call(accounts.change_password, db(), me(), pw.current.data, pw.new.data,
                          ok=_("Your password has been changed; your other sessions have "
                               "ended."))
            if not isinstance(result, ServiceError):
                session[SESSION_VERSION] = me().session_version  # this browser stays in
                return redirect(url_for("auth.profile"))
        elif "loc-locale" in request.form and loc.validate_on_submit():
            call(accounts.set_locale, db(), me(), loc.locale.data or "id")
            return redirect(url_for("auth.profile"))
        elif pw.errors:
            flash(_("Check the password fields below."), "error")
    return _render_profile(pw, loc)


def _render_profile(pw: PasswordForm, loc: LocaleForm, notify_form: dict[str, str] | None = None,
                    notify_errors: dict[str, str] | None = None,
                    telegram_link: str | None = None) -> str:
    """The profile page; after a refused notification form it shows what was typed."""
    from web.ui.auth.notify import notify_context

    return render_template("auth/profile.html", pw=pw, loc=loc, now=get_core().now(),
                           tokens=tokens.list_tokens(db(), me()),
                           **notify_context(notify_form, notify_errors, telegram_link))


@bp.route("/profil/token/<int:token_id>/cabut", methods=["POST"])
@login_required
def revoke_token(token_id: int) -> Response:
    call(tokens.revoke_token, get_core(), db(), me(), token_id, ok=_("The token is revoked."))
    return redirect(url_for("auth.profile") + "#tokens")


from web.ui.auth import notify, second_factor  # noqa: E402,F401  (routes on this blueprint)
