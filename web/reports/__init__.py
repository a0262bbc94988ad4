"""The reports area of the browser UI, ``/laporan``: engagement reports, exports, the printable
monthly report, per-post detail and campaign compliance."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from web.reports.format import register_filters
    from web.reports.routes import bp

    register_filters(app)
    app.register_blueprint(bp, url_prefix="/laporan")
