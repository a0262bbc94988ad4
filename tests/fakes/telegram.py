"""A fake Telegram Bot API server: ``/bot<TOKEN>/<method>`` with the documented envelopes.

Switch it into a failure with ``fake.fail(method, mode, times=1)``; modes: ``throttle``
(429 + ``parameters.retry_after``), ``unauthorized`` (401), ``kicked`` (403), ``bad_request``
(400), ``server_error`` (502), ``drop`` (the post is stored, then the connection drops), and
the bare proxy statuses of ``_wsgi_fake.proxy_failure`` (``proxy-503``, ``proxy-429-120``,
``accept-proxy-502`` …: an HTML or text body, no JSON envelope).
``fake.member_status`` sets what getChatMember answers; ``fake.private`` hides the username.

Direct messages (notifications): ``fake.person(chat_id, name)`` makes a private chat with the
bot, ``fake.says(chat_id, text)`` queues what that person typed (``/start <token>`` from a deep
link) as an update for ``getUpdates`` (offsets as documented: updates below the offset are
confirmed and forgotten), ``fake.block(chat_id)`` makes sendMessage answer 403 "bot was
blocked by the user"; ``fake.dms`` records what the bot sent to people (with any
``reply_markup``: inline buttons, force_reply). ``fake.presses(chat_id, message_id, data)``
queues a callback query (an inline button pressed); ``answerCallbackQuery`` and
``editMessageReplyMarkup`` are recorded in ``fake.answers`` and ``fake.edits``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import (
    FakeServer,
    Recorded,
    broken_response,
    json_response,
    proxy_failure,
)

TOKEN = "123456789:AAFakeTokenValue_abcdefghijklmnopqrstu"
CHAT_ID = -1001234567890
BOT_ID = 123456789


def error(code: int, description: str, **params: Any) -> Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if params:
        body["parameters"] = params
    return json_response(body, status=code)


class FakeTelegram(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.token = TOKEN
        self.username: str | None = "diskominfo_test"
        self.member_status = "administrator"
        self.can_post = True
        self.failures: dict[str, list[str]] = {}
        #: what the ``throttle`` mode says to wait, in seconds
        self.retry_after = 35
        self.messages: list[dict[str, Any]] = []
        self.next_id = 100
        #: private chats with the bot: chat id -> first name
        self.people: dict[int, str] = {}
        self.blocked: set[int] = set()
        self.dms: list[dict[str, Any]] = []
        self.updates: list[dict[str, Any]] = []
        self.next_update = 5000
        self.offsets: list[int] = []
        self.answers: list[dict[str, Any]] = []
        self.edits: list[dict[str, Any]] = []

    def person(self, chat_id: int, name: str = "Siti") -> None:
        self.people[chat_id] = name

    def says(self, chat_id: int, text: str) -> int:
        with self.lock:
            self.next_update += 1
            self.next_id += 1
            chat = {"id": chat_id, "type": "private", "first_name": self.people[chat_id]}
            self.updates.append({"update_id": self.next_update, "message": {
                "message_id": self.next_id, "from": {"id": chat_id, "is_bot": False,
                                                     "first_name": self.people[chat_id]},
                "chat": chat, "date": 1760000000, "text": text}})
            return self.next_update

    def presses(self, chat_id: int, message_id: int, data: str) -> int:
        with self.lock:
            self.next_update += 1
            person = {"id": chat_id, "is_bot": False, "first_name": self.people[chat_id]}
            self.updates.append({"update_id": self.next_update, "callback_query": {
                "id": f"cq{self.next_update}", "from": person, "data": data,
                "chat_instance": "ci", "message": {
                    "message_id": message_id, "date": 1760000000,
                    "chat": {"id": chat_id, "type": "private"}}}})
            return self.next_update

    def block(self, chat_id: int) -> None:
        self.blocked.add(chat_id)

    def dms_to(self, chat_id: int) -> list[str]:
        return [str(m["text"]) for m in self.dms if m["chat_id"] == chat_id]

    def fail(self, method: str, mode: str, times: int = 1) -> None:
        self.failures.setdefault(method, []).extend([mode] * times)

    def _chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": CHAT_ID, "title": "Diskominfo Uji", "type": "channel"}
        if self.username:
            chat["username"] = self.username
        return chat

    def _message(self, **extra: Any) -> dict[str, Any]:
        with self.lock:
            self.next_id += 1
            msg = {"message_id": self.next_id, "chat": self._chat(), "sender_chat": self._chat(),
                   "date": 1760000000, **extra}
            self.messages.append(msg)
        return msg

    def handle(self, request: Request, rec: Recorded) -> Response:
        parts = request.path.strip("/").split("/")
        if len(parts) != 2 or not parts[0].startswith("bot"):
            return error(404, "Not Found")
        token, method = parts[0][3:], parts[1]
        if token != self.token:
            return error(401, "Unauthorized")
        pending = self.failures.get(method)
        mode = pending.pop(0) if pending else None
        proxy = proxy_failure(mode)
        if proxy is not None and not proxy.after_accept:
            return proxy.response()
        if mode == "throttle":
            return error(429, f"Too Many Requests: retry after {self.retry_after}",
                         retry_after=self.retry_after)
        if mode == "unauthorized":
            return error(401, "Unauthorized")
        if mode == "kicked":
            return error(403, "Forbidden: bot was kicked from the channel chat")
        if mode == "bad_request":
            return error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if mode == "server_error":
            return error(502, "Bad Gateway")
        args: dict[str, Any] = rec.json if rec.json is not None else dict(rec.form)
        result = self._dispatch(method, args, rec)
        if isinstance(result, Response):
            return result
        if mode == "drop":
            return broken_response()
        if proxy is not None:
            return proxy.response()
        return json_response({"ok": True, "result": result})

    def server_error(self) -> Response:
        return error(502, "Bad Gateway")

    def _direct(self, method: str, args: dict[str, Any]) -> Any:
        """getUpdates and sendMessage to a person (None: not a direct-message call)."""
        if method == "getUpdates":
            offset = int(args.get("offset") or 0)
            with self.lock:
                self.offsets.append(offset)
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                return list(self.updates[:int(args.get("limit") or 100)])
        if method == "answerCallbackQuery":
            with self.lock:
                self.answers.append(dict(args))
            return True
        raw = str(args.get("chat_id"))
        if method == "editMessageReplyMarkup" and raw.lstrip("-").isdigit():
            with self.lock:
                self.edits.append(dict(args))
            return True
        if method != "sendMessage" or not raw.lstrip("-").isdigit() or int(raw) == CHAT_ID:
            return None
        chat_id = int(raw)
        if chat_id not in self.people:
            return error(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            return error(403, "Forbidden: bot was blocked by the user")
        text = str(args.get("text", ""))
        if not text or len(text) > 4096:
            return error(400, "Bad Request: message is too long")
        with self.lock:
            self.next_id += 1
            self.dms.append({"chat_id": chat_id, "text": text, "message_id": self.next_id,
                             "reply_markup": args.get("reply_markup")})
        return {"message_id": self.next_id, "date": 1760000000,
                "chat": {"id": chat_id, "type": "private", "first_name": self.people[chat_id]},
                "text": text}

    def _dispatch(self, method: str, args: dict[str, Any], rec: Recorded) -> Any:
        chat_ok = str(args.get("chat_id")) in (f"@{self.username}", str(CHAT_ID))
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Warta", "username": "warta_bot"}
        direct = self._direct(method, args)
        if direct is not None:
            return direct
        if not chat_ok:
            return error(400, "Bad Request: chat not found")
        if method == "getChat":
            return self._chat()
        if method == "getChatMember":
            member: dict[str, Any] = {"status": self.member_status,
                                      "user": {"id": BOT_ID, "is_bot": True}}
            if self.member_status == "administrator":
                member["can_post_messages"] = self.can_post
            return member
        if method == "sendMessage":
            text = str(args.get("text", ""))
            if not text or len(text) > 4096:
                return error(400, "Bad Request: message is too long")
            return self._message(text=text)
        if method in ("sendPhoto", "sendVideo"):
            part = "photo" if method == "sendPhoto" else "video"
            if part not in rec.files:
                return error(400, f"Bad Request: there is no {part} in the request")
            if len(str(args.get("caption", ""))) > 1024:
                return error(400, "Bad Request: message caption is too long")
            return self._message(caption=args.get("caption"), **{part: {"size": rec.files[part]}})
        if method == "sendMediaGroup":
            items = json.loads(str(args.get("media", "[]")))
            if not 2 <= len(items) <= 10:
                return error(400, "Bad Request: wrong number of media in the group")
            for item in items:
                name = str(item["media"]).removeprefix("attach://")
                if name not in rec.files:
                    return error(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return [self._message(caption=item.get("caption")) for item in items]
        return error(404, "Not Found: method not found")


def serve() -> Iterator[FakeTelegram]:
    """Generator for a pytest fixture: ``yield from serve()``."""
    fake = FakeTelegram().start()
    try:
        yield fake
    finally:
        fake.stop()
