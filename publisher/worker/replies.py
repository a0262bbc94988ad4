"""Sending one approved reply to a citizen's comment, once (issue 19).

The posts' crash safety, for a reply: the hash is recomputed first (a reply whose text,
comment or channel changed since approval is refused); ``sending`` is committed by a
conditional update just before the irreversible call; a reply found in ``sending`` (its worker
died after the platform took it, before Warta recorded it) or whose call had an unknown
outcome (a timeout, a dropped connection, a 5xx) is looked up among the parent comment's
replies for the office's own one with the same text. Found: it is recorded as sent. Absent:
looked at once more a minute later, and only when absent twice is it sent again (once).
A lookup that fails, or a second unknown outcome, leaves it ``unconfirmed`` for a person:
never a blind second send.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, update

from adapters.base import BaseAdapter
from adapters.errors import AdapterError, OutcomeUnknown, RetryLater
from postqueue import ClaimedJob, backoff_seconds
from publisher.core import Core
from publisher.models import Channel, ChannelStatus, CitizenComment, CommentReply, ReplyStatus
from publisher.runtime import build_adapter, channel_credentials
from publisher.services import audit
from publisher.services import channels as channel_service
from publisher.services.channel_state import save_changes
from publisher.services.inbox_reply import hash_of
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)
R = ReplyStatus
#: Platform calls that may create the reply: the first, and the one resend after two looks.
MAX_SENDS = 2
#: Between the two looks: Meta and Google show a new reply within seconds, rarely a minute.
RECHECK = timedelta(seconds=60)
#: ``error_code`` of a reply in ``sending`` whose first look found nothing.
ABSENT_ONCE = "absent_once"


class _Reply:
    """What the worker read of one reply, detached from the session."""

    def __init__(self, row: CommentReply, comment: CitizenComment | None) -> None:
        self.id = row.id
        self.status = row.status
        self.text = row.text
        self.parent = row.parent_external_id
        self.channel_id = row.channel_id
        self.attempts = row.attempts
        self.error_code = row.error_code
        self.hash_ok = (row.approval_hash is not None and row.approval_hash == hash_of(row)
                        and comment is not None and comment.external_id == row.parent_external_id
                        and comment.channel_id == row.channel_id)
        self.hash = row.approval_hash


def handle_send_reply(core: Core, job: ClaimedJob) -> JobResult:
    reply_id = int(job.payload["reply_id"])
    now = core.now()
    with core.sessions() as s:
        row = s.get(CommentReply, reply_id)
        if row is None or row.status not in (R.APPROVED, R.SENDING):
            return DONE
        r = _Reply(row, s.get(CitizenComment, row.comment_id))
        channel = s.get_one(Channel, row.channel_id)
        paused = channel.paused_until
        usable = channel.status == ChannelStatus.ACTIVE
        before = copy.deepcopy(dict(channel.state or {}))
        state = copy.deepcopy(before)
        adapter: BaseAdapter | None = None
        broken: AdapterError | None = None
        if usable:
            try:
                adapter = build_adapter(core, channel.platform,
                                        channel_credentials(core, channel), state=state,
                                        save_credentials=partial(
                                            channel_service.save_credentials, core, channel.id))
            except AdapterError as exc:
                broken = exc
    if r.status == R.APPROVED and not r.hash_ok:
        _finish(core, r, R.FAILED, "approval_mismatch",
                "Balasan berubah setelah disetujui; ajukan ulang.",
                "The reply changed after approval; submit it again.")
        return DONE
    if adapter is None:
        status = R.UNCONFIRMED if r.status == R.SENDING else R.FAILED
        _finish(core, r, status, broken.code if broken else "channel_unusable",
                broken.message_id if broken else "Akun tidak aktif atau perlu disambung ulang.",
                broken.message_en if broken else "The account is disabled or must be "
                                                 "reconnected.")
        return DONE
    if paused is not None and _aware(paused) > now:
        return RetryAt(_aware(paused), "paused by the platform")
    try:
        if r.status == R.SENDING:
            return _look(core, adapter, r)
        return _send(core, adapter, r)
    finally:
        with core.sessions.begin() as s:
            save_changes(s, r.channel_id, before, state)


def _send(core: Core, adapter: BaseAdapter, r: _Reply) -> JobResult:
    if not _mark_sending(core, r):
        return DONE  # edited, rejected or taken meanwhile: the conditional update refused
    try:
        external_id = adapter.reply_to_comment(r.parent, r.text)
    except RetryLater as exc:  # refused before acting (a throttle, a quota): send later
        return _wait(core, r, exc)
    except AdapterError as exc:
        if isinstance(exc, OutcomeUnknown):
            return _look(core, adapter, r, after=exc)
        _finish(core, r, R.FAILED, exc.code or exc.kind, exc.message_id, exc.message_en)
        return DONE
    except Exception as exc:  # noqa: BLE001 - an adapter bug after the call: outcome unknown
        log.exception("reply %s raised unexpectedly", r.id)
        return _look(core, adapter, r, after=OutcomeUnknown(
            adapter.platform, "Terjadi kesalahan tak terduga saat mengirim balasan.",
            "Unexpected error while sending the reply.", detail=repr(exc), code="unexpected"))
    _sent(core, r, external_id, found=False)
    return DONE


def _look(core: Core, adapter: BaseAdapter, r: _Reply,
          after: AdapterError | None = None) -> JobResult:
    """The reply may exist: find it before anything else is sent."""
    try:
        found = adapter.find_comment_reply(r.parent, r.text)
    except Exception as exc:  # noqa: BLE001 - nobody can tell: a person checks the platform
        detail = exc.message_en if isinstance(exc, AdapterError) else repr(exc)
        log.warning("lookup of reply %s failed: %s", r.id, detail)
        _finish(core, r, R.UNCONFIRMED, "lookup_failed",
                "Belum pasti balasan sudah tayang, dan platform tidak dapat diperiksa. Periksa "
                "komentar di platform; Warta tidak mengirim ulang.",
                "It is not certain the reply went out, and the platform could not be checked. "
                "Check the comment on the platform; Warta does not send it again.")
        return DONE
    if found:
        _sent(core, r, found, found=True)
        return DONE
    if after is not None or r.error_code != ABSENT_ONCE:
        # First look: too soon to call it absent (a new reply can take a moment to be listed).
        with core.sessions.begin() as s:
            s.execute(update(CommentReply).where(CommentReply.id == r.id,
                                                 CommentReply.status == R.SENDING)
                      .values(error_code=ABSENT_ONCE, updated_at=core.now()))
        return RetryAt(core.now() + RECHECK, "reply not found yet; looking again")
    if r.attempts >= MAX_SENDS:
        _finish(core, r, R.UNCONFIRMED, "not_found",
                "Balasan tidak ditemukan di platform setelah dikirim ulang; periksa komentar "
                "di platform. Warta tidak mengirim lagi.",
                "The reply was not found on the platform after it was sent again; check the "
                "comment on the platform. Warta does not send it again.")
        return DONE
    with core.sessions.begin() as s:  # clearly absent after two looks: the one resend
        s.execute(update(CommentReply).where(CommentReply.id == r.id,
                                             CommentReply.status == R.SENDING)
                  .values(status=R.APPROVED, error_code=None, submitted_at=None))
    r.status, r.error_code = R.APPROVED, None
    return _send(core, adapter, r)


def _mark_sending(core: Core, r: _Reply) -> bool:
    now = core.now()
    with core.sessions.begin() as s:
        done = cast(CursorResult[Any], s.execute(update(CommentReply).where(
            CommentReply.id == r.id, CommentReply.status == R.APPROVED,
            CommentReply.approval_hash == r.hash)
            .values(status=R.SENDING, submitted_at=now, attempts=CommentReply.attempts + 1,
                    error_code=None, updated_at=now)))
    if done.rowcount != 1:
        return False
    r.attempts += 1
    r.status = R.SENDING
    return True


def _sent(core: Core, r: _Reply, external_id: str, *, found: bool) -> None:
    now = core.now()
    with core.sessions.begin() as s:
        row = s.get_one(CommentReply, r.id)
        row.status = R.SENT
        row.external_id = external_id
        row.sent_at = now
        row.updated_at = now
        row.error = row.error_en = row.error_code = None
        comment = s.get(CitizenComment, row.comment_id)
        if comment is not None and comment.responded_at is None:
            comment.responded_at = now  # the response time reports count from
        audit.record(s, "reply.sent", "comment_reply", r.id, unit_id=row.unit_id, at=now,
                     data={"external_id": external_id, "found_by_lookup": found})


def _wait(core: Core, r: _Reply, exc: RetryLater) -> JobResult:
    now = core.now()
    delay = float(exc.retry_after) + 5 if exc.retry_after else backoff_seconds(r.attempts)
    with core.sessions.begin() as s:
        s.execute(update(CommentReply).where(CommentReply.id == r.id,
                                             CommentReply.status == R.SENDING)
                  .values(status=R.APPROVED, submitted_at=None, error=exc.message_id,
                          error_en=exc.message_en, error_code=exc.code, updated_at=now))
    return RetryAt(now + timedelta(seconds=delay), exc.message_en)


def _finish(core: Core, r: _Reply, status: str, code: str, message_id: str,
            message_en: str) -> None:
    now = core.now()
    with core.sessions.begin() as s:
        row = s.get_one(CommentReply, r.id)
        row.status = status
        row.error, row.error_en, row.error_code = message_id, message_en, code
        row.updated_at = now
        data = {"code": code, "message": message_id, "message_en": message_en}
        if status == R.UNCONFIRMED:
            audit.record(s, "reply.unconfirmed", "comment_reply", r.id, unit_id=row.unit_id,
                         at=now, data=data)
        else:
            audit.record(s, "reply.failed", "comment_reply", r.id, unit_id=row.unit_id,
                         at=now, data=data)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
