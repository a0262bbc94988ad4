"""Endpoints for machines, not people: ``/healthz``, ``/readyz`` and ``/metrics``.

None needs a login (a load balancer or Prometheus has none); ``/metrics`` is guarded by its own
token or address list instead, and answers 404 where neither is configured, so an office that
never set it up does not publish its queue to the internet.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Response, abort, jsonify, request

from publisher.health import readiness

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    """The process is up and answers; nothing else is asked (no database), so a restart is
    only ever triggered by the process itself being stuck."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """Ready to serve: database, schema, media storage and a recent worker, each named."""
    from web.app import get_core

    ok, checks = readiness(get_core())
    body = {"status": "ok" if ok else "fail", "checks": {c.name: c.as_json() for c in checks}}
    return jsonify(body), 200 if ok else 503


def _metrics_allowed() -> bool:
    """The Bearer token (``WARTA_METRICS_TOKEN``) or a client address in
    ``WARTA_METRICS_ALLOW``; neither configured: the endpoint does not exist."""
    from ipaddress import ip_address

    from web.app import get_core

    settings = get_core().settings
    if not settings.metrics_token and not settings.metrics_allow:
        abort(404)
    if settings.metrics_allow and request.remote_addr:
        try:
            addr = ip_address(request.remote_addr)
        except ValueError:
            addr = None
        if addr is not None and any(addr in net for net in settings.metrics_allow):
            return True
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if settings.metrics_token and given and hmac.compare_digest(
            given.encode(), settings.metrics_token.encode()):
        return True
    if not settings.metrics_token:
        abort(404)  # an address list only: do not even say it is here
    return False


@bp.get("/metrics")
def metrics() -> Response:
    """Prometheus exposition: the installation's gauges, read from the database now, and
    this process's own counters."""
    from web.app import get_core

    if not _metrics_allowed():
        return Response("unauthorized\n", 401, {"WWW-Authenticate": 'Bearer realm="metrics"',
                                                "Content-Type": "text/plain"})
    from publisher.observability.exposition import scrape

    body, content_type = scrape(get_core(), request.headers.get("Accept"))
    return Response(body, 200, {"Content-Type": content_type})
