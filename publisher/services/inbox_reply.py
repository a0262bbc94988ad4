"""Replying to a citizen from Warta, and hiding an abusive comment (issue 19).

A reply follows the posts' rules: when its unit asks for approval (the default), a second
person of that unit approves the exact text — the writer and the last editor never approve
their own — and the approval is bound to ``reply_hash`` (text, the comment answered, the
channel), which the worker recomputes before sending; any edit voids it. Only the unit that
holds the comment now (``inbox.comment_to_act_on``: else 403, 404 to units that cannot see
it) writes, approves or hides. One reply in progress per comment, so two officers answering
at once do not post twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import postqueue
from adapters import get_adapter_class
from adapters.errors import AdapterError
from publisher.core import Core
from publisher.jobs import SEND_REPLY, channel_lock
from publisher.models import (
    EDITABLE_REPLY_STATES,
    Channel,
    CitizenComment,
    CommentEvent,
    CommentReply,
    ReplyStatus,
    Role,
    Unit,
    User,
)
from publisher.services import audit
from publisher.services.errors import Conflict, Forbidden, Invalid, NotFound, Text
from publisher.services.inbox import comment_to_act_on, get_comment

R = ReplyStatus
MAX_REPLY = 2000
#: A reply in one of these states blocks a second one on the same comment.
IN_PROGRESS = (R.DRAFT, R.AWAITING, R.APPROVED, R.SENDING, R.UNCONFIRMED)


def reply_hash(text: str, parent_external_id: str, channel_id: int) -> str:
    """Everything that decides what goes out and where; the worker checks it before sending."""
    blob = json.dumps({"text": text, "parent": parent_external_id, "channel": channel_id},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def hash_of(reply: CommentReply) -> str:
    return reply_hash(reply.text, reply.parent_external_id, reply.channel_id)


def can_reply(platform: str) -> bool:
    try:
        return bool(get_adapter_class(platform).caps.replies_to_comments)
    except Exception:  # noqa: BLE001 - an adapter whose optional library is missing
        return False


def can_hide(platform: str) -> bool:
    try:
        return bool(get_adapter_class(platform).caps.hides_comments)
    except Exception:  # noqa: BLE001 - an adapter whose optional library is missing
        return False


def replies_of(session: Session, user: User, comment_id: int) -> list[CommentReply]:
    """The replies of a comment ``user`` may see (404 otherwise), oldest first."""
    get_comment(session, user, comment_id)
    return list(session.execute(select(CommentReply).where(
        CommentReply.comment_id == comment_id).order_by(CommentReply.id).limit(100)).scalars())


def write_reply(session: Session, user: User, comment_id: int, text: str, *,
                now: datetime) -> CommentReply:
    comment = comment_to_act_on(session, user, comment_id)
    if not can_reply(comment.platform):
        raise _bad("text", "Platform ini tidak dapat dibalas dari Warta.",
                   "This platform cannot be replied to from Warta.")
    if comment.deleted_at is not None:
        raise _bad("text", "Komentar ini sudah dihapus dari platform.",
                   "This comment was deleted from the platform.")
    clean = _text(text)
    _refuse_if_busy(session, comment.id)
    reply = CommentReply(comment_id=comment.id, unit_id=comment.unit_id,
                         channel_id=comment.channel_id,
                         parent_external_id=comment.external_id, text=clean,
                         status=R.AWAITING, written_by=user.id, edited_by=user.id,
                         attempts=0, created_at=now, updated_at=now)
    session.add(reply)
    session.flush()
    audit.record(session, "reply.write", "comment_reply", reply.id, actor=user,
                 unit_id=reply.unit_id, data={"comment": comment.id, "hash": hash_of(reply)},
                 at=now)
    _maybe_auto_approve(session, reply, now)
    return reply


def edit_reply(session: Session, user: User, comment_id: int, reply_id: int, text: str, *,
               now: datetime) -> CommentReply:
    """A new text: whatever was approved is void, and it waits for approval again."""
    reply = _reply_to_act_on(session, user, comment_id, reply_id)
    if reply.status not in EDITABLE_REPLY_STATES:
        raise Conflict("Balasan ini sudah dikirim atau sedang dikirim; tidak dapat diubah.",
                       "This reply was sent or is being sent; it cannot be changed.",
                       code="bad_status")
    clean = _text(text)
    if clean == reply.text and reply.status not in (R.REJECTED, R.FAILED):
        return reply
    if reply.status in (R.REJECTED, R.FAILED):
        # brought back to life: only while no other reply to the comment is under way or was
        # written since (a failed first reply, then a second one sent, must stay one reply)
        _refuse_if_busy(session, reply.comment_id, after=reply.id)
    reply.text = clean
    reply.status = R.AWAITING
    reply.edited_by = user.id
    reply.approved_by = reply.approved_at = reply.approval_hash = None
    reply.error = reply.error_en = reply.error_code = None
    reply.updated_at = now
    audit.record(session, "reply.edit", "comment_reply", reply.id, actor=user,
                 unit_id=reply.unit_id, data={"hash": hash_of(reply)}, at=now)
    _maybe_auto_approve(session, reply, now)
    return reply


def approve_reply(session: Session, user: User, comment_id: int, reply_id: int,
                  seen_hash: str | None = None, *, now: datetime) -> CommentReply:
    _approver(user)
    reply = _reply_to_act_on(session, user, comment_id, reply_id)
    if reply.status != R.AWAITING:
        raise Conflict("Hanya balasan yang menunggu persetujuan yang dapat disetujui.",
                       "Only a reply awaiting approval can be approved.", code="bad_status")
    if user.id in (reply.written_by, reply.edited_by):
        raise Forbidden("Anda tidak dapat menyetujui balasan yang Anda tulis atau ubah sendiri; "
                        "persetujuan harus dari orang kedua.",
                        "You cannot approve a reply you wrote or changed yourself; a second "
                        "person must approve it.", code="self_approval")
    current = hash_of(reply)
    if seen_hash is not None and seen_hash != current:
        raise Conflict("Balasan berubah sejak Anda membukanya; periksa lagi sebelum menyetujui.",
                       "The reply changed since you opened it; check it again before "
                       "approving.", code="changed")
    reply.status = R.APPROVED
    reply.approved_by = user.id
    reply.approved_at = now
    reply.approval_hash = current
    reply.updated_at = now
    audit.record(session, "reply.approve", "comment_reply", reply.id, actor=user,
                 unit_id=reply.unit_id, data={"hash": current, "approver": user.id}, at=now)
    _enqueue(session, reply, now)
    return reply


def reject_reply(session: Session, user: User, comment_id: int, reply_id: int,
                 note: str | None, *, now: datetime) -> CommentReply:
    _approver(user)
    reply = _reply_to_act_on(session, user, comment_id, reply_id)
    if reply.status != R.AWAITING:
        raise Conflict("Hanya balasan yang menunggu persetujuan yang dapat ditolak.",
                       "Only a reply awaiting approval can be rejected.", code="bad_status")
    clean = (note or "").strip()
    if not clean or len(clean) > MAX_REPLY:
        raise _bad("note", "Alasan penolakan wajib diisi (paling banyak 2000 karakter).",
                   "A reason for rejection is required (at most 2000 characters).")
    reply.status = R.REJECTED
    reply.note = clean
    reply.updated_at = now
    audit.record(session, "reply.reject", "comment_reply", reply.id, actor=user,
                 unit_id=reply.unit_id, data={"note": clean[:300]}, at=now)
    return reply


def hide_comment(core: Core, session: Session, user: User, comment_id: int, *,
                 now: datetime) -> CitizenComment:
    """Hide the comment on the platform, as the office's account, then record it. The call
    is idempotent on every platform, so a request repeated after an error is harmless."""
    from publisher.runtime import build_adapter, channel_credentials

    comment = comment_to_act_on(session, user, comment_id)
    if not can_hide(comment.platform):
        raise _bad("hide", "Platform ini tidak dapat menyembunyikan komentar dari Warta.",
                   "This platform cannot hide comments from Warta.")
    if comment.hidden:
        raise Conflict("Komentar ini sudah disembunyikan.", "This comment is already hidden.",
                       code="already_hidden")
    if comment.deleted_at is not None:
        raise _bad("hide", "Komentar ini sudah dihapus dari platform.",
                   "This comment was deleted from the platform.")
    channel = session.get_one(Channel, comment.channel_id)
    try:
        adapter = build_adapter(core, channel.platform, channel_credentials(core, channel),
                                state=dict(channel.state or {}))
        adapter.hide_comment(comment.external_id)
    except AdapterError as exc:
        raise Invalid(f"Platform menolak menyembunyikan komentar: {exc.message_id}",
                      f"The platform refused to hide the comment: {exc.message_en}",
                      fields={"hide": Text(exc.message_id, exc.message_en)}) from None
    comment.hidden = True
    comment.updated_at = now
    session.add(CommentEvent(comment_id=comment.id, kind="hide", from_value="visible",
                             to_value="hidden", user_id=user.id, at=now))
    audit.record(session, "comment.hide", "comment", comment.id, actor=user,
                 unit_id=comment.unit_id, data={"platform": comment.platform}, at=now)
    return comment


def _maybe_auto_approve(session: Session, reply: CommentReply, now: datetime) -> None:
    """A unit that does not ask for approval: the writer's text goes out as written (the hash
    still binds it, so a later edit is what goes out only if it is approved the same way)."""
    unit = session.get(Unit, reply.unit_id)
    if unit is not None and not unit.replies_need_approval:
        reply.status = R.APPROVED
        reply.approval_hash = hash_of(reply)
        reply.approved_at = now
        _enqueue(session, reply, now)


def _enqueue(session: Session, reply: CommentReply, now: datetime) -> None:
    reply.job_id = postqueue.enqueue(session, SEND_REPLY, {"reply_id": reply.id}, run_at=now,
                                     dedupe_key=f"reply:{reply.id}",
                                     lock_key=channel_lock(reply.channel_id),
                                     now=now) or reply.job_id


def _refuse_if_busy(session: Session, comment_id: int, *, after: int | None = None) -> None:
    """One reply in progress per comment. The comment's row is locked first (PostgreSQL;
    SQLite's write transaction is already exclusive), so two officers writing at once are
    served one after the other and the second sees the first's reply. ``after``: a reply
    being revived also yields to any reply written after it that was not rejected."""
    session.execute(select(CitizenComment.id).where(CitizenComment.id == comment_id)
                    .with_for_update())
    q = select(CommentReply.id).where(CommentReply.comment_id == comment_id)
    if after is None:
        q = q.where(CommentReply.status.in_(IN_PROGRESS))
    else:
        q = q.where(CommentReply.id != after, or_(
            CommentReply.status.in_(IN_PROGRESS),
            (CommentReply.id > after) & (CommentReply.status.not_in((R.REJECTED, R.FAILED)))))
    if session.execute(q.limit(1)).scalar_one_or_none() is not None:
        raise Conflict("Komentar ini sudah punya balasan lain yang sedang diproses atau sudah "
                       "terkirim; ubah balasan itu.", "This comment already has another reply "
                       "in progress or sent; edit that one.", code="reply_in_progress")


def _reply_to_act_on(session: Session, user: User, comment_id: int,
                     reply_id: int) -> CommentReply:
    """The comment first (404 when ``user`` cannot see it, 403 when another unit holds it),
    then its reply: a reply of another comment is not found."""
    comment_to_act_on(session, user, comment_id)
    reply = session.get(CommentReply, reply_id) if reply_id else None
    if reply is None or reply.comment_id != comment_id:
        raise NotFound(f"Balasan #{reply_id} tidak ditemukan.", f"Reply #{reply_id} not found.")
    return reply


def _approver(user: User) -> None:
    if user.role not in (Role.APPROVER, Role.ADMIN):
        raise Forbidden("Hanya penyetuju unit yang dapat menyetujui atau menolak balasan.",
                        "Only the unit's approvers can approve or reject a reply.",
                        code="not_approver")


def _text(text: str) -> str:
    clean = (text or "").strip()
    if not clean:
        raise _bad("text", "Tulis balasannya.", "Write the reply.")
    if len(clean) > MAX_REPLY:
        raise _bad("text", f"Balasan paling banyak {MAX_REPLY} karakter.",
                   f"A reply has at most {MAX_REPLY} characters.")
    return clean


def _bad(field: str, message: str, en: str) -> Invalid:
    return Invalid(message, en, fields={field: Text(message, en)})
