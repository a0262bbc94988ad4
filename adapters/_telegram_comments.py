"""Citizens' comments on a Telegram channel's posts (platform-apis-2.md §1.6).

A channel's comments live in its linked **discussion group**: Telegram forwards every channel
post there automatically (``is_automatic_forward``, ``forward_origin.message_id`` = the
channel post's id) and a comment is a group message replying to that copy, or to another
comment. A bot sees them only as a member of the group (an admin, or with privacy mode off),
only through its updates (``getUpdates``: no history method, updates kept about 24 hours),
and is never shown deletions. So Telegram comments are a stream per bot, read from a saved
``offset`` (an update below it is confirmed and forgotten by Telegram), not a listing per
post; the worker stores the new offset with the comments it brought.

A comment's id is ``<group chat id>:<message id>`` (message ids are per chat; the reply needs
both). Its post is known from the forwarded copy it answers; a reply to another comment (or
to the office's own reply) carries only that message, so ``post_id`` is None and the worker
files it under the publication of the message it answers. The bot's own messages are not
delivered to it; the channel commenting as itself (``sender_chat``) and the group's
anonymous admins (``sender_chat`` = the group) are the office's, left out by the worker, which
knows every group the bot serves (``OWN_AUTHORS``).

The stream is the bot's, not the channel's: one bot in several channels has one offset. The
position therefore has a part that belongs to the bot (``SHARED``: the offset and the map of
the group copies of posts) — the worker keeps it the same on every channel of that bot — and
a part that belongs to the channel (its group, its chat id, its problem). Comments of every
group the bot is in are returned; the worker files each under its group's channel.

``threads`` maps ``<group>:<message id>`` of the automatic copy of a post to the channel
post's id (learned from the copies themselves and from the comments answering them, at most
``MAX_THREADS``): a reply to a message Warta never stored (the office answering as the
channel, a comment from before reading began) is still filed under its post through the
thread it belongs to (``message_thread_id``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.base import CommentUpdates, IncomingComment
from adapters.errors import AdapterError, RetryLater

Call = Callable[..., Any]

#: Updates per read (the Bot API's maximum).
LIMIT = 100
#: How often the group, the bot's rights and its privacy mode are looked at again: daily,
#: or hourly while a problem stands (so a group linked since is found within the hour).
RECHECK = timedelta(hours=24)
RECHECK_PROBLEM = timedelta(hours=1)
#: Problem codes the channel page explains (``web/templates/channels/_notices.html``).
NO_GROUP = "tg_no_discussion"
NOT_IN_GROUP = "tg_not_in_group"
CANNOT_READ = "tg_cannot_read"
CONFLICT = "tg_updates_conflict"
#: Set by the worker: the channel's bot is Warta's notification bot, whose updates are the
#: notifications' own (``publisher/notify/telegram_updates.py``).
NOTIFY_BOT = "tg_notify_bot"
PROBLEMS = (NO_GROUP, NOT_IN_GROUP, CANNOT_READ, CONFLICT, NOTIFY_BOT)
#: The position's keys that belong to the bot's stream (the same on all its channels).
SHARED = ("offset", "threads")
#: Thread copies remembered (the newest; a post gets most comments in its first days).
MAX_THREADS = 2000


def comment_id(chat_id: int | str, message_id: int | str) -> str:
    return f"{chat_id}:{message_id}"


def split_id(external_id: str) -> tuple[str, int]:
    """``<chat>:<message>`` → (chat, message id); ValueError for anything else."""
    chat, _, message = external_id.rpartition(":")
    if not chat or not message.isdigit():
        raise ValueError(f"not a Telegram comment id: {external_id!r}")
    return chat, int(message)


def bot_id(token: str) -> str:
    """Which bot reads: the digits before the token's colon are the bot's user id (public, no
    secret; the same after a ``/revoke``), so channels sharing one bot share its stream."""
    return token.strip().partition(":")[0]


def read(call: Call, channel: str, token: str, position: Mapping[str, Any] | None,
         now: datetime, *, consume: bool = True) -> CommentUpdates:
    """One read of the bot's updates from the saved position (discovering the group first).
    ``consume`` False: only look at the group and the bot's rights (no update is taken)."""
    pos: dict[str, Any] = dict(position or {})
    bot = bot_id(token)
    if pos.get("bot") != bot or pos.get("channel") != channel:
        # Another bot (its update ids are unrelated: an old offset would confirm and lose
        # its updates) or another channel (another group): nothing known still holds.
        pos = {"bot": bot, "channel": channel}
    if _due_for_check(pos, now):
        _check(call, channel, pos, now)
    problem = pos.get("problem")
    if not consume or not pos.get("group") or problem in (NO_GROUP, NOT_IN_GROUP):
        return CommentUpdates((), pos, problem=problem)
    try:
        updates = call("getUpdates", creates=False, json_body={
            "offset": int(pos.get("offset") or 0), "timeout": 0, "limit": LIMIT,
            "allowed_updates": ["message", "edited_message"]})
    except AdapterError as exc:
        if exc.http_status == 409:  # a webhook is set on this bot, or another program polls it
            pos["problem"] = CONFLICT
            return CommentUpdates((), pos, problem=CONFLICT)
        raise
    if problem == CONFLICT:
        pos.pop("problem", None)
    updates = [u for u in updates or [] if isinstance(u, dict) and "update_id" in u]
    threads: dict[str, str] = dict(pos.get("threads") or {})
    out = [c for c in (parse(u, threads) for u in updates) if c is not None]
    if updates:
        pos["offset"] = max(int(u["update_id"]) for u in updates) + 1
    if len(threads) > MAX_THREADS:
        newest = sorted(threads, key=lambda k: int(k.rpartition(":")[2]))[-MAX_THREADS:]
        threads = {k: threads[k] for k in newest}
    pos["threads"] = threads
    return CommentUpdates(tuple(out), pos, more=len(updates) >= LIMIT,
                          problem=pos.get("problem"))


def parse(update: Mapping[str, Any],
          threads: dict[str, str]) -> tuple[str | None, IncomingComment] | None:
    """(channel post id or None, comment) for a comment in a group; None for the rest.
    ``threads`` learns the group copies of posts seen here."""
    msg = update.get("message") or update.get("edited_message")
    if not isinstance(msg, dict):
        return None
    chat = msg.get("chat") or {}
    group = chat.get("id")
    if group is None or chat.get("type") not in ("supergroup", "group"):
        return None
    if msg.get("is_automatic_forward"):
        origin = _origin(msg)
        if origin is not None:
            threads[comment_id(group, msg["message_id"])] = origin
        return None
    sender_chat = msg.get("sender_chat") if isinstance(msg.get("sender_chat"), dict) else None
    person = msg.get("from") if isinstance(msg.get("from"), dict) else None
    reply_to = msg.get("reply_to_message")
    if not isinstance(reply_to, dict) or not reply_to.get("message_id"):
        return None  # ordinary group talk, not a comment under a post
    post_id: str | None = None
    parent: str | None = None
    if reply_to.get("is_automatic_forward"):
        post_id = _origin(reply_to)
        if post_id is None:
            return None
        threads[comment_id(group, reply_to["message_id"])] = post_id
    else:
        parent = comment_id(group, reply_to["message_id"])
        if msg.get("message_thread_id"):
            post_id = threads.get(comment_id(group, msg["message_thread_id"]))
    name, handle, author_id = _author(sender_chat, person)
    edited = msg.get("edit_date")
    return post_id, IncomingComment(
        id=comment_id(group, msg["message_id"]),
        text=str(msg.get("text") or msg.get("caption") or ""),
        created_at=_time(msg.get("date")), parent_id=parent,
        author_name=name, author_handle=handle, author_id=author_id,
        updated_at=_time(edited) if edited else None, hidden=None)


def _origin(forward: Mapping[str, Any]) -> str | None:
    origin = forward.get("forward_origin")
    if isinstance(origin, dict) and origin.get("message_id"):
        return str(origin["message_id"])
    if forward.get("forward_from_message_id"):  # payloads before Bot API 7.0
        return str(forward["forward_from_message_id"])
    return None


def _author(sender_chat: Mapping[str, Any] | None,
            person: Mapping[str, Any] | None) -> tuple[str | None, str | None, str | None]:
    """Another channel or an anonymous admin speaks as ``sender_chat``; a person as ``from``
    (the "Group" placeholder user Telegram puts in ``from`` then is no person)."""
    if sender_chat:
        return (str(sender_chat.get("title") or "") or None,
                str(sender_chat.get("username") or "") or None,
                str(sender_chat["id"]) if sender_chat.get("id") is not None else None)
    if person:
        name = " ".join(str(person[k]) for k in ("first_name", "last_name")
                        if person.get(k)).strip()
        return (name or None, str(person.get("username") or "") or None,
                str(person["id"]) if person.get("id") is not None else None)
    return None, None, None


def _due_for_check(pos: Mapping[str, Any], now: datetime) -> bool:
    checked = parse_stamp(pos.get("checked_at"))
    if checked is None:
        return True
    wait = RECHECK_PROBLEM if pos.get("problem") else RECHECK
    return now - checked >= wait


def _check(call: Call, channel: str, pos: dict[str, Any], now: datetime) -> None:
    """The group linked to the channel, and whether the bot sees every message in it."""
    me = call("getMe", creates=False) or {}
    chat = call("getChat", creates=False, json_body={"chat_id": channel}) or {}
    pos["checked_at"] = now.astimezone(UTC).isoformat()
    pos["bot_id"] = me.get("id")
    pos["channel_chat"] = chat.get("id")
    group = chat.get("linked_chat_id")
    if group is None:
        pos["group"] = None
        pos["problem"] = NO_GROUP
        return
    if pos.get("group") not in (None, group):
        pos.pop("offset", None)  # another group: its updates start afresh
    pos["group"] = group
    try:
        member = call("getChatMember", creates=False,
                      json_body={"chat_id": group, "user_id": me.get("id")}) or {}
    except RetryLater:
        raise
    except AdapterError:  # "user not found", "chat not found": the bot is not in the group
        member = {}
    status = member.get("status")
    if status not in ("creator", "administrator", "member", "restricted"):
        pos["problem"] = NOT_IN_GROUP
    elif status in ("creator", "administrator") or me.get("can_read_all_group_messages"):
        pos.pop("problem", None)
    else:
        pos["problem"] = CANNOT_READ  # privacy mode on and not an admin: only some arrive


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC) if value else None
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def parse_stamp(value: Any) -> datetime | None:
    """A position's ISO time (``checked_at``, ``polled_at``), aware; None when unreadable."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
