"""Session login with lockout after repeated wrong passwords, logout, profile."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required, login_user, logout_user
from werkzeug.wrappers import Response

from publisher.services import accounts
from publisher.services.errors import ServiceError
from web.app import db, get_core
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
        try:
            user = accounts.authenticate(get_core(), s, form.email.data or "",
                                         form.password.data or "")
        except ServiceError as exc:
            s.commit()  # keep the failure count
            flash(message(exc), "error")
            return render_template("auth/login.html", form=form), 401
        s.commit()
        login_user(user)
        return redirect(_safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/keluar", methods=["POST"])
def logout() -> Response:
    logout_user()
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
                          ok=_("Your password has been changed."))
            if not isinstance(result, ServiceError):
                return redirect(url_for("auth.profile"))
        elif "loc-locale" in request.form and loc.validate_on_submit():
            call(accounts.set_locale, db(), me(), loc.locale.data or "id")
            return redirect(url_for("auth.profile"))
        elif pw.errors:
            flash(_("Check the password fields below."), "error")
    return render_template("auth/profile.html", pw=pw, loc=loc)
