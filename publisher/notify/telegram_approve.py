"""Approving from the phone: the buttons on an approval request in Telegram, and what
pressing them does.

A button acts through the same services as the approval page, as the Warta user the chat is
linked to, with the same rules (role, unit, not their own post) and the content hash the
message showed: the button carries its first 16 hex digits, and a post that changed since
answers "open it in Warta" instead. "Tolak" asks for the reason in the chat; the next text
there rejects. The audit events say ``via: telegram``. A chat whose Warta user is deactivated,
or that is not linked, can do nothing.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import NotifyProfile, Post, PostStatus, User
from publisher.notify.i18n import translations
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash
from publisher.services.errors import ServiceError

#: (method, body) of a Bot API call to make once the transaction has committed.
Call = tuple[str, dict[str, Any]]
CALLBACK = re.compile(r"^(ok|no):(\d{1,10}):([0-9a-f]{16})$")


def buttons(locale: str, post: Post) -> dict[str, Any]:
    """The inline keyboard of an approval request (callback data stays under 64 bytes)."""
    t = translations(locale)
    h = content_hash(post)[:16]
    return {"inline_keyboard": [[
        {"text": t.gettext("Approve"), "callback_data": f"ok:{post.id}:{h}"},
        {"text": t.gettext("Reject"), "callback_data": f"no:{post.id}:{h}"}]]}


def linked_user(s: Session, chat_id: int) -> tuple[User, NotifyProfile] | None:
    """The active Warta user this chat is linked to."""
    row = s.execute(select(User, NotifyProfile).join(
        NotifyProfile, NotifyProfile.user_id == User.id).where(
            NotifyProfile.telegram_chat_id == chat_id)).first()
    if row is None or not row[0].active:
        return None
    return row[0], row[1]


def _say(user: User | None, exc: ServiceError) -> str:
    return exc.message_en if user is not None and user.locale == "en" else exc.message


def on_callback(core: Core, s: Session, cq: dict[str, Any], now: datetime) -> list[Call]:
    chat_id = int((cq.get("from") or {}).get("id") or 0)
    msg = cq.get("message") or {}
    answer: dict[str, Any] = {"callback_query_id": cq.get("id")}
    calls: list[Call] = [("answerCallbackQuery", answer)]
    found = linked_user(s, chat_id)
    m = CALLBACK.match(str(cq.get("data") or ""))
    if found is None or m is None:
        answer["text"] = translations("id").gettext(
            "This Telegram is not linked to an active Warta account.")
        answer["show_alert"] = True
        return calls
    user, profile = found
    t = translations(user.locale)
    action, post_id, shown = m.group(1), int(m.group(2)), m.group(3)
    post = s.get(Post, post_id)
    current = content_hash(post) if post is not None else ""
    done: list[Call] = [("editMessageReplyMarkup", {
        "chat_id": chat_id, "message_id": msg.get("message_id"),
        "reply_markup": {"inline_keyboard": []}})]
    if post is None or not current.startswith(shown):
        answer["text"] = t.gettext("This post changed since this message; open it in Warta: "
                                   "%(url)s") % {"url": f"{core.settings.public_url}"
                                                  f"/unggahan/{post_id}"}
        answer["show_alert"] = True
        return calls + done
    if action == "no":
        profile.telegram_reject_post_id, profile.telegram_reject_hash = post_id, shown
        profile.updated_at = now
        return calls + [("sendMessage", {"chat_id": chat_id, "reply_markup": {
            "force_reply": True}, "text": t.gettext(
                "Write the reason for rejecting post #%(id)s as your reply.") % {"id": post_id}})]
    try:
        with s.begin_nested():
            approved = post_svc.approve_post(core, s, user, post_id, seen_hash=current,
                                             via="telegram")
    except ServiceError as exc:
        answer["text"], answer["show_alert"] = _say(user, exc), True
        return calls
    if approved.status == PostStatus.SUBMITTED:  # a stage of several (review_stages)
        answer["text"] = t.gettext("Stage approved: post #%(id)s now waits for its next "
                                   "stage.") % {"id": post_id}
        return calls + done
    answer["text"] = t.gettext("Approved: post #%(id)s is scheduled.") % {"id": post_id}
    return calls + done


def on_text(core: Core, s: Session, chat_id: int, text: str, now: datetime) -> list[Call]:
    """A text in a chat waiting for a rejection reason rejects; other text gets nothing."""
    found = linked_user(s, chat_id)
    if found is None or found[1].telegram_reject_post_id is None or text.startswith("/"):
        return []
    user, profile = found
    t = translations(user.locale)
    post_id = int(profile.telegram_reject_post_id or 0)
    shown = profile.telegram_reject_hash or ""
    profile.telegram_reject_post_id, profile.telegram_reject_hash = None, None
    profile.updated_at = now
    post = s.get(Post, post_id)
    current = content_hash(post) if post is not None else ""
    if post is None or not current.startswith(shown):
        reply = t.gettext("This post changed since this message; open it in Warta: "
                          "%(url)s") % {"url": f"{core.settings.public_url}/unggahan/{post_id}"}
        return [("sendMessage", {"chat_id": chat_id, "text": reply})]
    try:
        with s.begin_nested():
            post_svc.reject_post(core, s, user, post_id, text, seen_hash=current,
                                 via="telegram")
    except ServiceError as exc:
        return [("sendMessage", {"chat_id": chat_id, "text": _say(user, exc)})]
    return [("sendMessage", {"chat_id": chat_id, "text": t.gettext(
        "Rejected: post #%(id)s goes back to its author with your reason.") % {"id": post_id}})]
