"""The notification bot's updates, however they arrive: polled by the worker
(``WARTA_NOTIFY_TELEGRAM_UPDATES=poll``, the default: no public URL needed) or posted by
Telegram to ``<WARTA_PUBLIC_URL>/telegram/pembaruan`` (``webhook``).

Both paths go through ``take``: it inserts the update's id into ``notify_telegram_updates``
in the same transaction that acts on the update, so an update is acted on once even when
Telegram re-sends it (a slow or non-2xx webhook answer) or two processes receive it. The
Bot API calls an update asks for (a reply, a button's answer) are made after the commit.

Telegram allows one of the two at a time: ``getUpdates`` answers 409 while a webhook is set.
The worker registers the webhook (``setWebhook``, with a secret Telegram sends back in
``X-Telegram-Bot-Api-Secret-Token``) in webhook mode, and deletes it in poll mode.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from publisher.config import Settings
from publisher.core import Core
from publisher.models import TelegramPoll, TelegramUpdate
from publisher.notify.errors import DeliveryError
from publisher.notify.telegram import TelegramBot
from publisher.notify.telegram_approve import Call
from publisher.notify.telegram_link import bot, handle_update

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/pembaruan"
ALLOWED_UPDATES = ["message", "callback_query"]
#: claims older than this are pruned (Telegram keeps an unconfirmed update for 24 hours).
KEEP_CLAIMS = timedelta(days=3)
#: webhooks this process registered: (token, url, secret digest) — at most one setWebhook
#: per process start unless Telegram's answer shows it changed.
_registered: set[tuple[str, str, str]] = set()


_conflict: list[bool] = [False]  # a 409 was logged and getUpdates has not worked since

def webhook_secret(settings: Settings) -> str:
    """The ``secret_token`` of the webhook: derived from WARTA_SECRET_KEY and the bot token,
    so every web process and worker knows it without storing it (64 hex digits: within
    Telegram's 1-256 characters of ``A-Za-z0-9_-``)."""
    return hmac.new(settings.secret_key.encode(),
                    b"telegram-webhook\x00" + settings.notify_telegram_token.encode(),
                    hashlib.sha256).hexdigest()


def webhook_url(settings: Settings) -> str:
    return settings.public_url + WEBHOOK_PATH


def secret_matches(settings: Settings, given: str) -> bool:
    """A constant-time comparison of the header Telegram sent."""
    return bool(given) and hmac.compare_digest(given.encode(), webhook_secret(settings).encode())


def take(s: Session, core: Core, update_: dict[str, Any]) -> list[Call] | None:
    """Claim ``update_`` and act on it in ``s``; ``None``: it was already taken (the claim
    waits for a concurrent claimer's commit on PostgreSQL, and is undone with a rollback)."""
    update_id = int(update_["update_id"])
    now = core.now()
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING, not rowcount: psycopg reports -1 for an ORM-executed INSERT … ON CONFLICT.
    claimed = s.execute(insert(TelegramUpdate).values(update_id=update_id, received_at=now)
                        .on_conflict_do_nothing(index_elements=["update_id"])
                        .returning(TelegramUpdate.update_id)).scalar_one_or_none()
    if claimed is None:
        return None
    return handle_update(core, s, update_, now)


def answer(b: TelegramBot, calls: list[Call]) -> None:
    """The Bot API calls updates asked for, after their transaction committed."""
    for method, body in calls:
        try:
            b.call(method, body)
        except DeliveryError as exc:
            log.warning("telegram %s after an update failed: %s", method, exc.message_en)


def receive(core: Core, update_: dict[str, Any]) -> bool:
    """One update from the webhook; ``False``: already taken. Database errors propagate (the
    route tells transient ones from the rest)."""
    b = bot(core)
    if b is None:
        return False
    with core.sessions.begin() as s:
        calls = take(s, core, update_)
    if calls is None:
        return False
    answer(b, calls)
    return True


def poll(core: Core) -> int:
    """Read and act on the bot's new updates once; returns how many this run took.

    The offset lives in the database and advances with a conditional update, so when two
    workers read the same updates only one of them acts on them (and the claims of ``take``
    would stop a second one anyway)."""
    b = bot(core)
    if b is None:
        return 0
    with core.sessions.begin() as s:
        insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
        s.execute(insert(TelegramPoll).values(id=1, update_offset=0, updated_at=core.now())
                  .on_conflict_do_nothing(index_elements=["id"]))
    with core.sessions() as s:
        offset = s.execute(select(TelegramPoll.update_offset).where(TelegramPoll.id == 1)
                           ).scalar_one()
    try:
        updates = b.updates(offset)
    except DeliveryError as exc:
        if not exc.detail.startswith("409"):
            raise
        if not _conflict[0]:  # once, not every 3 seconds
            log.error("telegram: getUpdates refused (%s): a webhook is set for the "
                      "notification bot, by another installation or by this one in webhook "
                      "mode. Restarting the worker in poll mode deletes it; or set "
                      "WARTA_NOTIFY_TELEGRAM_UPDATES=webhook here.", exc.detail)
        _conflict[0] = True
        return 0
    _conflict[0] = False
    if not updates:
        return 0
    calls: list[Call] = []
    with core.sessions.begin() as s:
        moved = s.execute(update(TelegramPoll).where(
            TelegramPoll.id == 1, TelegramPoll.update_offset == offset).values(
                update_offset=max(int(u["update_id"]) for u in updates) + 1,
                updated_at=core.now()))
        if not isinstance(moved, CursorResult) or moved.rowcount != 1:
            return 0  # another worker took these updates
        for u in updates:
            calls += take(s, core, u) or []
        s.execute(delete(TelegramUpdate).where(
            TelegramUpdate.received_at < core.now() - KEEP_CLAIMS))
    answer(b, calls)
    return len(updates)


def prune(core: Core) -> None:
    with core.sessions.begin() as s:
        s.execute(delete(TelegramUpdate).where(
            TelegramUpdate.received_at < core.now() - KEEP_CLAIMS))


def ensure_mode(core: Core) -> str:
    """At worker start (and every few minutes after): make Telegram's side match the
    setting. Webhook mode: ``setWebhook`` once per process, again only when
    ``getWebhookInfo`` shows another URL; poll mode: ``deleteWebhook`` if one is set (it
    would make every ``getUpdates`` a 409). Returns what it did, for the log and tests."""
    b = bot(core)
    if b is None:
        return "off"
    prune(core)
    settings = core.settings
    info = b.call("getWebhookInfo", {}) or {}
    if settings.notify_telegram_updates != "webhook":
        if not info.get("url"):
            return "poll"
        b.call("deleteWebhook", {"drop_pending_updates": False})
        log.info("telegram: deleted the notification bot's webhook (polling getUpdates now)")
        return "deleted"
    url, secret = webhook_url(settings), webhook_secret(settings)
    key = (b.token, url, hashlib.sha256(secret.encode()).hexdigest())
    if key in _registered and info.get("url") == url:
        if info.get("last_error_message"):
            log.warning("telegram: the webhook's last delivery failed: %s",
                        str(info["last_error_message"])[:200])
        return "kept"
    b.call("setWebhook", {"url": url, "secret_token": secret,
                          "allowed_updates": ALLOWED_UPDATES, "max_connections": 10})
    _registered.add(key)
    log.info("telegram: webhook set to %s", url)
    return "set"
