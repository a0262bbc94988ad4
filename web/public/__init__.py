"""The public transparency page, ``/publik``: no login, only opted-in units, only published
publications, no staff names; the same data as open-data CSV and JSON."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.public.routes import bp
    from web.reports.format import register_filters

    if "rp_number" not in app.jinja_env.filters:
        register_filters(app)
    app.register_blueprint(bp, url_prefix="/publik")
