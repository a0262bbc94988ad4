"""The JSON API, ``/api/v1``: bearer tokens, JSON errors, one schema for validation and docs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)

from web.api import routes  # noqa: E402,F401  (registers the routes on bp)
from web.api import reports  # noqa: E402,F401  (GET /reports/engagement)
