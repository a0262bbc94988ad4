"""The JSON API, ``/api/v1``: bearer tokens, JSON errors, one schema for validation and docs."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("api", __name__)

# Importing the route modules registers their routes on ``bp``.
from web.api import reports, routes  # noqa: E402,F401,I001
