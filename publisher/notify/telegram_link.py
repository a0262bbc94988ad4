"""Linking a person's Telegram to their Warta account, and reading the bot's updates.

The profile page makes a one-time token (only its SHA-256 is stored, for 15 minutes) and shows
``https://t.me/<bot>?start=<token>``; Telegram opens the chat with the bot, and the person's
"Start" arrives as ``/start <token>`` in an update, polled by the worker or posted to the
webhook (``telegram_updates.py``, which calls ``handle_update`` here once per update).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import NotifyChannel, NotifyPreference, NotifyProfile, User
from publisher.notify import telegram_approve
from publisher.notify.i18n import translations
from publisher.notify.telegram import TelegramBot
from publisher.notify.telegram_approve import Call
from publisher.services import audit

log = logging.getLogger(__name__)
LINK_TTL = timedelta(minutes=15)
_usernames: dict[str, str] = {}


def bot(core: Core) -> TelegramBot | None:
    token = core.settings.notify_telegram_token
    return TelegramBot(token, core.settings.notify_telegram_api_url) if token else None


def bot_username(core: Core) -> str:
    """The bot's @name for deep links (asked once per process)."""
    b = bot(core)
    if b is None:
        return ""
    if b.token not in _usernames:
        _usernames[b.token] = b.username()
    return _usernames[b.token]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def profile_of(session: Session, user: User, now: datetime) -> NotifyProfile:
    profile = session.get(NotifyProfile, user.id)
    if profile is None:
        profile = NotifyProfile(user_id=user.id, updated_at=now)
        session.add(profile)
    return profile


def start_link(core: Core, session: Session, user: User) -> str:
    """A fresh one-time token for ``user`` (an older one stops working)."""
    now = core.now()
    token = secrets.token_urlsafe(24)  # 32 characters of [A-Za-z0-9_-]: a valid start value
    profile = profile_of(session, user, now)
    profile.telegram_link_hash = _hash(token)
    profile.telegram_link_expires_at = now + LINK_TTL
    profile.updated_at = now
    return token


def deep_link(username: str, token: str) -> str:
    return f"https://t.me/{username}?start={token}"


def unlink(core: Core, session: Session, user: User) -> None:
    """Forget the chat; kinds that went by Telegram go back to the bell only."""
    profile = session.get(NotifyProfile, user.id)
    if profile is not None and profile.telegram_chat_id is not None:
        profile.telegram_chat_id, profile.telegram_linked_at = None, None
        profile.updated_at = core.now()
        audit.record(session, "user.telegram_unlink", "user", user.id, actor=user,
                     unit_id=user.unit_id)
    session.execute(delete(NotifyPreference).where(
        NotifyPreference.user_id == user.id, NotifyPreference.channel == NotifyChannel.TELEGRAM))


def unlink_chat(session: Session, user: User, now: datetime) -> None:
    """The chat is gone (the bot was blocked): forget it, and stop choosing it."""
    profile = session.get(NotifyProfile, user.id)
    if profile is not None:
        profile.telegram_chat_id, profile.telegram_linked_at = None, None
        profile.updated_at = now
    session.execute(delete(NotifyPreference).where(
        NotifyPreference.user_id == user.id, NotifyPreference.channel == NotifyChannel.TELEGRAM))


def handle_update(core: Core, s: Session, update_: dict[str, Any],
                  now: datetime) -> list[Call]:
    """One update: a ``/start <token>`` in a private chat links it; a button press or a
    rejection reason goes to ``telegram_approve``; anything else is ignored."""
    if update_.get("callback_query"):
        return telegram_approve.on_callback(core, s, update_["callback_query"], now)
    msg = update_.get("message") or {}
    chat = msg.get("chat") or {}
    text = str(msg.get("text") or "").strip()
    if chat.get("type") != "private" or not text:
        return []
    chat_id = int(chat["id"])
    if not text.startswith("/start"):
        return telegram_approve.on_text(core, s, chat_id, text, now)
    reply = _start(s, chat_id, text, now)
    return [("sendMessage", {"chat_id": chat_id, "text": reply})]


def _start(s: Session, chat_id: int, text: str, now: datetime) -> str:
    """``/start <token>``: link the chat to the token's user, if the token is valid."""
    parts = text.split()
    profile = None
    if len(parts) == 2:
        profile = s.execute(select(NotifyProfile).where(
            NotifyProfile.telegram_link_hash == _hash(parts[1]))).scalar_one_or_none()
    user = s.get(User, profile.user_id) if profile is not None else None
    if (profile is None or user is None or not user.active
            or profile.telegram_link_expires_at is None
            or profile.telegram_link_expires_at <= now):
        t = translations("id")
        return (t.gettext("This link is not valid (any more). Open your Warta profile "
                                   "page and link Telegram again.") + "\n\n"
                         "This link is not valid (any more). Open your Warta profile page and "
                         "link Telegram again.")
    profile.telegram_chat_id, profile.telegram_linked_at = chat_id, now
    profile.telegram_link_hash, profile.telegram_link_expires_at = None, None
    profile.updated_at = now
    audit.record(s, "user.telegram_link", "user", user.id, actor=user, unit_id=user.unit_id,
                 at=now)
    t = translations(user.locale)
    return t.gettext("Linked: Warta will send your notifications here, %(name)s. "
                              "Choose which ones on your profile page.") % {"name": user.name}
