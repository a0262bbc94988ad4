"""``POST /telegram/pembaruan``: the notification bot's updates, posted by Telegram when
``WARTA_NOTIFY_TELEGRAM_UPDATES=webhook`` (``publisher/notify/telegram_updates.py``).

No login and no CSRF token (Telegram has neither): the ``X-Telegram-Bot-Api-Secret-Token``
header set with ``setWebhook`` is the guard, compared in constant time before the body is
read. Telegram re-sends an update until it gets a 2xx, so the answer is 200 for everything
done or not worth retrying (a duplicate, an update that failed for good, which is logged);
503 only when the database is away, so the update comes again later.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from publisher.notify import telegram_updates

bp = Blueprint("telegram_hook", __name__)
log = logging.getLogger(__name__)


def _transient(exc: Exception) -> bool:
    """The database could not be reached or dropped the connection: worth Telegram's retry."""
    if isinstance(exc, OperationalError | DisconnectionError | PoolTimeout):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


@bp.post(telegram_updates.WEBHOOK_PATH)
def receive() -> tuple[Response, int]:
    from web.app import get_core

    core = get_core()
    settings = core.settings
    if settings.notify_telegram_updates != "webhook" or not settings.notify_telegram_token:
        abort(404)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not telegram_updates.secret_matches(settings, given):
        abort(403)
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("update_id"), int) \
            or isinstance(body.get("update_id"), bool):
        return jsonify(ok=False, error="not an update"), 400
    update_id = body["update_id"]
    try:
        done = telegram_updates.receive(core, body)
    except Exception as exc:  # noqa: BLE001 - Telegram must get an answer either way
        if _transient(exc):
            log.warning("telegram update %s: database unavailable (%s); Telegram will retry",
                        update_id, type(exc).__name__)
            return jsonify(ok=False), 503
        # The type and the place only: an exception's text may quote the update or a query.
        log.error("telegram update %s failed (%s); not retried", update_id,
                  type(exc).__name__, exc_info=False)
        return jsonify(ok=True), 200
    return jsonify(ok=True, duplicate=not done), 200
