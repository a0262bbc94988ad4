"""Telegram direct messages from the office's bot: the few Bot API calls notifications need
(``getMe``, ``getUpdates``, ``sendMessage``) and the one place that classifies their answers.

The token sits in the URL path, so nothing here puts a URL or a requests exception's text in
an error (``publisher/logs.py`` also redacts ``/bot<token>`` from every log line).

``sendMessage`` is the irreversible call: ``begin()`` commits "sending" just before it. No
answer (a read timeout, a broken connection after the request went out) or a 5xx is
``Unknown`` — Telegram may have delivered it — and at most once means it is not sent again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from publisher.notify.errors import Gone, Lost, TryLater, Unknown

TIMEOUT = 20.0
MAX_TEXT = 4096
#: 400/403 descriptions meaning this chat will never take the bot's messages again.
_GONE = ("bot was blocked by the user", "user is deactivated", "chat not found",
         "bot can't initiate conversation", "peer_id_invalid")
_TOKEN = re.compile(r"bot\d+:[A-Za-z0-9_-]+")


def _scrub(text: str) -> str:
    return _TOKEN.sub("bot<token>", text)[:300]


class TelegramBot:
    def __init__(self, token: str, base_url: str, http: requests.Session | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.http = http or requests.Session()
        self.timeout = timeout

    def call(self, method: str, body: dict[str, Any], *, sends: bool = False) -> Any:
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            resp = self.http.post(url, json=body, timeout=self.timeout)
        except requests.ConnectionError as exc:
            if sends and not isinstance(exc, requests.ConnectTimeout) and _after_send(exc):
                raise _unknown(f"{type(exc).__name__}") from None
            raise TryLater("Telegram tidak dapat dihubungi; dicoba lagi nanti.",
                           "Telegram could not be reached; trying again later.",
                           type(exc).__name__) from None
        except requests.RequestException as exc:  # a read timeout: the request went out
            if sends:
                raise _unknown(type(exc).__name__) from None
            raise TryLater("Telegram tidak menjawab; dicoba lagi nanti.",
                           "Telegram did not answer; trying again later.",
                           type(exc).__name__) from None
        return self._classify(resp, sends=sends)

    def _classify(self, resp: requests.Response, *, sends: bool) -> Any:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.ok and body.get("ok"):
            return body.get("result")
        code = int(body.get("error_code") or resp.status_code)
        description = str(body.get("description") or resp.reason or "")
        detail = _scrub(f"{code} {description}")
        if code == 429:
            wait = float((body.get("parameters") or {}).get("retry_after") or 30)
            raise TryLater(f"Telegram membatasi pengiriman; dicoba lagi dalam {int(wait)} detik.",
                           f"Telegram is rate limiting; trying again in {int(wait)} seconds.",
                           detail, retry_after=wait)
        if code in (400, 403) and any(m in description.lower() for m in _GONE):
            raise Gone("Telegram menolak: bot diblokir atau obrolan tidak ada lagi. Tautkan "
                       "ulang Telegram di halaman profil.",
                       "Telegram refused: the bot was blocked or the chat is gone. Link "
                       "Telegram again on the profile page.", detail)
        if code >= 500 and sends:
            raise _unknown(detail)
        raise TryLater("Telegram menolak permintaan; dicoba lagi nanti.",
                       "Telegram refused the request; trying again later.", detail)

    def username(self) -> str:
        return str((self.call("getMe", {}) or {}).get("username") or "")

    def updates(self, offset: int, limit: int = 100) -> list[dict[str, Any]]:
        result = self.call("getUpdates", {"offset": offset, "limit": limit, "timeout": 0,
                                          "allowed_updates": ["message", "callback_query"]})
        return list(result or [])

    def send(self, chat_id: int, text: str, begin: Callable[[], bool] | None = None,
             reply_markup: dict[str, Any] | None = None) -> None:
        if begin is not None and not begin():
            raise Lost()
        body: dict[str, Any] = {"chat_id": chat_id, "text": text[:MAX_TEXT],
                                "disable_web_page_preview": True}
        if reply_markup:
            body["reply_markup"] = reply_markup
        self.call("sendMessage", body, sends=True)


def _after_send(exc: requests.ConnectionError) -> bool:
    """A connection that broke after the request was written (not a refused connect)."""
    text = str(exc).lower()
    return "remotedisconnected" in text or "connection aborted" in text


def _unknown(detail: str) -> Unknown:
    return Unknown("Telegram tidak menjawab setelah pesan dikirim; mungkin sudah sampai dan "
                   "tidak dikirim ulang.",
                   "Telegram did not answer after the message was sent; it may have arrived "
                   "and is not sent again.", _scrub(detail))


def plain_text(subject: str, lines: list[str], facts: list[tuple[str, str]],
               action_label: str, action_url: str, after_facts: str = "") -> str:
    """A notification as a Telegram message (plain text: nothing to escape, nothing to
    misrender)."""
    parts = [subject, ""] + [line for line in lines if line]
    if facts:
        parts += [""] + [f"{label}: {value}" for label, value in facts]
    if after_facts:
        parts.append(after_facts)
    parts += ["", f"{action_label}: {action_url}"]
    return "\n".join(parts)
