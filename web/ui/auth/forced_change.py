"""A user whose password an admin reset must choose a new one before doing anything else."""

from __future__ import annotations

from flask import Flask, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

#: What such a user may still reach: the page to change it, logging out, and the assets.
ALLOWED = {"auth.profile", "auth.logout", "auth.login", "static", "favicon"}


def install(app: Flask) -> None:
    @app.before_request
    def _must_change_password() -> Response | None:
        if (getattr(current_user, "is_authenticated", False)
                and getattr(current_user, "must_change_password", False)
                and request.endpoint not in ALLOWED
                and not request.path.startswith("/api/")):
            flash(_("Choose a new password first: an admin gave you a temporary one."),
                  "error")
            return redirect(url_for("auth.profile"))
        return None
