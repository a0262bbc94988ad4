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

Discussion group (citizens' comments, platform-apis-2.md §1.6): ``fake.link_group()`` links
one to the channel (``getChat`` of the channel then gives ``linked_chat_id``);
``fake.group_status`` is the bot's membership there and ``fake.privacy_off`` its privacy
mode (``getMe.can_read_all_group_messages``); as in Telegram, a bot that is neither an admin
there nor without privacy mode gets only the group messages that reply to its own.
``fake.forward(post_id)`` makes the automatic forward of a channel post into the group,
``fake.comment(reply_to, text, ...)`` a citizen's message replying to a group message (the
forward: a comment; another comment: a reply), ``fake.edit_comment`` an ``edited_message``;
deletions are never delivered. ``sendMessage`` into the group with ``reply_parameters``
answers a comment (``fake.group_replies``); ``getUpdates`` honours ``allowed_updates``
(remembered between calls, as Telegram does).

Webhooks: ``setWebhook`` / ``deleteWebhook`` / ``getWebhookInfo`` as documented (``fake.webhook``
holds what was set, secret included; ``fake.webhook_calls`` the methods in order); while one is
set, ``getUpdates`` answers 409 "Conflict: can't use getUpdates method while webhook is active".
``fake.deliver(post)`` sends the queued updates to the webhook the way Telegram does: each
as a JSON POST with the ``X-Telegram-Bot-Api-Secret-Token`` header, through
``post(url, json, headers) -> status`` (a test client or ``requests``); an update answered
other than 2xx stays queued (re-sent by the next ``deliver``) and sets ``last_error_message``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
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
GROUP_ID = -1009876543210


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
        self.webhook: dict[str, Any] = {}
        self.webhook_calls: list[str] = []
        self.webhook_error = ""
        self.group_id: int | None = None
        self.group_status = "administrator"
        self.privacy_off = False
        #: group messages by id (what a reply quotes as ``reply_to_message``)
        self.group_messages: dict[int, dict[str, Any]] = {}
        self.group_replies: list[dict[str, Any]] = []
        self.allowed_updates: list[str] | None = None

    # -- the discussion group ----------------------------------------------------------
    def link_group(self, group_id: int = GROUP_ID) -> None:
        self.group_id = group_id

    def _group_update(self, kind: str, msg: dict[str, Any]) -> None:
        sees_all = self.group_status in ("administrator", "creator") or self.privacy_off
        quoted = msg.get("reply_to_message") or {}
        to_bot = (quoted.get("from") or {}).get("id") == BOT_ID
        if self.group_status in ("left", "kicked") or not (sees_all or to_bot):
            return
        self.next_update += 1
        self.updates.append({"update_id": self.next_update, kind: msg})

    def _group_message(self, **fields: Any) -> dict[str, Any]:
        assert self.group_id is not None, "link_group() first"
        self.next_id += 1
        msg = {"message_id": self.next_id, "date": 1760000000 + self.next_id,
               "chat": {"id": self.group_id, "type": "supergroup", "title": "Diskusi Uji"},
               **fields}
        self.group_messages[self.next_id] = msg
        return msg

    def forward(self, post_id: int) -> int:
        """Telegram's automatic copy of channel post ``post_id`` in the group."""
        with self.lock:
            msg = self._group_message(
                is_automatic_forward=True, sender_chat=self._chat(), text="(salinan)",
                forward_origin={"type": "channel", "chat": self._chat(),
                                "message_id": post_id, "date": 1760000000},
                forward_from_chat=self._chat(), forward_from_message_id=post_id)
            msg["message_thread_id"] = msg["message_id"]
            self._group_update("message", msg)
            return int(msg["message_id"])

    def comment(self, reply_to: int, text: str, *,
                person: tuple[int, str | None, str | None] | None = (555, "Budi", "budi_w"),
                sender_chat: dict[str, Any] | None = None, caption: bool = False) -> int:
        """A message in the group replying to ``reply_to``; ``person`` (id, first name,
        username; None parts are left out as Telegram does), or ``sender_chat`` speaking."""
        with self.lock:
            target = dict(self.group_messages[reply_to])
            target.pop("reply_to_message", None)  # Telegram nests one level only
            fields: dict[str, Any] = {("caption" if caption else "text"): text,
                                      "reply_to_message": target,
                                      "message_thread_id": target.get("message_thread_id",
                                                                      reply_to)}
            if sender_chat is not None:
                fields["sender_chat"] = sender_chat
                fields["from"] = {"id": 1087968824, "is_bot": True, "first_name": "Group",
                                  "username": "GroupAnonymousBot"}
            elif person is not None:
                who: dict[str, Any] = {"id": person[0], "is_bot": False}
                if person[1]:
                    who["first_name"] = person[1]
                if person[2]:
                    who["username"] = person[2]
                fields["from"] = who
            msg = self._group_message(**fields)
            self._group_update("message", msg)
            return int(msg["message_id"])

    def edit_comment(self, message_id: int, text: str) -> None:
        with self.lock:
            msg = self.group_messages[message_id]
            msg["text"] = text
            msg["edit_date"] = int(msg["date"]) + 60
            self._group_update("edited_message", dict(msg))

    def _group_call(self, method: str, args: dict[str, Any]) -> Any:
        """Calls on the group's chat id (None: not the group)."""
        if self.group_id is None or str(args.get("chat_id")) != str(self.group_id):
            return None
        if method == "getChatMember":
            if self.group_status in ("left", "kicked"):
                return error(400, "Bad Request: user not found")
            return {"status": self.group_status, "user": {"id": BOT_ID, "is_bot": True}}
        if method == "sendMessage":
            target = int((args.get("reply_parameters") or {}).get("message_id") or 0)
            if target not in self.group_messages:
                return error(400, "Bad Request: message to be replied not found")
            if self.group_status in ("left", "kicked"):
                return error(403, "Forbidden: bot is not a member of the supergroup chat")
            with self.lock:
                msg = self._group_message(text=str(args.get("text", "")),
                                          reply_to_message=dict(self.group_messages[target]),
                                          **{"from": {"id": BOT_ID, "is_bot": True,
                                                      "first_name": "Warta"}})
                self.group_replies.append(msg)
            return msg
        return error(400, "Bad Request: method not handled for the group by the fake")

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

    def deliver(self, post: Callable[[str, dict[str, Any], dict[str, str]], int]) -> list[int]:
        """Post each queued update to the webhook; 2xx confirms it (statuses returned)."""
        with self.lock:
            url, secret = self.webhook["url"], self.webhook.get("secret_token", "")
            allowed = self.webhook.get("allowed_updates") or ["message", "callback_query"]
            pending = [u for u in self.updates if any(k in u for k in allowed)]
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        statuses = []
        for u in pending:
            status = post(url, dict(u), headers)
            statuses.append(status)
            with self.lock:
                if 200 <= status < 300:
                    self.updates = [x for x in self.updates if x is not u]
                else:
                    self.webhook_error = f"Wrong response from the webhook: {status}"
        return statuses

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
        if method in ("setWebhook", "deleteWebhook", "getWebhookInfo"):
            return self._webhook_call(method, args)
        if method == "getUpdates" and self.webhook:
            return error(409, "Conflict: can't use getUpdates method while webhook is active; "
                         "use deleteWebhook to delete the webhook first")
        if method == "getUpdates":
            offset = int(args.get("offset") or 0)
            with self.lock:
                self.offsets.append(offset)
                if args.get("allowed_updates") is not None:
                    self.allowed_updates = list(args["allowed_updates"])
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                kinds = self.allowed_updates
                wanted = [u for u in self.updates
                          if kinds is None or any(k in u for k in kinds)]
                return wanted[:int(args.get("limit") or 100)]
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

    def _webhook_call(self, method: str, args: dict[str, Any]) -> Any:
        with self.lock:
            self.webhook_calls.append(method)
            if method == "setWebhook":
                url = str(args.get("url") or "")
                secret = str(args.get("secret_token") or "")
                if not url.startswith("https://"):
                    return error(400, "Bad Request: bad webhook: An HTTPS URL must be provided "
                                 "for webhook")
                if secret and (len(secret) > 256 or not all(
                        c.isalnum() or c in "_-" for c in secret)):
                    return error(400, "Bad Request: secret token contains unallowed characters")
                self.webhook = {"url": url, "secret_token": secret,
                                "allowed_updates": args.get("allowed_updates")}
                self.webhook_error = ""
                return True
            if method == "deleteWebhook":
                self.webhook = {}
                if args.get("drop_pending_updates"):
                    self.updates = []
                return True
            info: dict[str, Any] = {"url": self.webhook.get("url", ""),
                                    "has_custom_certificate": False,
                                    "pending_update_count": len(self.updates)}
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
            if self.webhook_error:
                info["last_error_date"] = 1760000000
                info["last_error_message"] = self.webhook_error
            return info  # the secret is never returned

    def _dispatch(self, method: str, args: dict[str, Any], rec: Recorded) -> Any:
        chat_ok = str(args.get("chat_id")) in (f"@{self.username}", str(CHAT_ID))
        if method == "getMe":
            prefix = self.token.partition(":")[0]  # a bot's id is its token's digits
            return {"id": int(prefix) if prefix.isdigit() else BOT_ID, "is_bot": True,
                    "first_name": "Warta", "username": "warta_bot",
                    "can_read_all_group_messages": self.privacy_off}
        group = self._group_call(method, args)
        if group is not None:
            return group
        direct = self._direct(method, args)
        if direct is not None:
            return direct
        if not chat_ok:
            return error(400, "Bad Request: chat not found")
        if method == "getChat":
            chat = self._chat()
            if self.group_id is not None:
                chat["linked_chat_id"] = self.group_id
            return chat
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
