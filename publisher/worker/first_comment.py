"""The first comment job: one crash-safe platform call after the post is out (issue 21).

The same rule as publishing (``publish.py``, ``reconcile.py``), on a ``FirstComment`` row:

1. ``sending`` is committed just before the create call. A job that finds the row
   ``sending`` (its worker died during or after the call, or the answer was lost: a timeout,
   a 5xx, a dropped connection, X's "duplicate") never calls again before it looked.
2. Look (``adapter.find_comment``): the account's own comment with this text on the post.
   Found: ``posted``. The platform cannot be asked (an error, no permission): ``unconfirmed``
   — a person checks; Warta never sends it blindly. A throttled look waits and looks again.
3. Clearly absent: look once more ``recheck_seconds`` later; absent again: send once more —
   once per comment, never more; after that ``unconfirmed``.

Its failure never touches the publication (the post is out); the publication's page shows it
with what to do, and the audit log records it.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, update

from adapters.base import BaseAdapter
from adapters.errors import (
    AdapterError,
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    RetryLater,
)
from postqueue import ClaimedJob, backoff_seconds
from publisher.core import Core
from publisher.models import FirstComment, Publication
from publisher.models.first_comment import FINAL_STATES
from publisher.models.first_comment import FirstCommentStatus as F
from publisher.runtime import build_adapter, channel_credentials
from publisher.services import audit
from publisher.services import channels as channel_service
from publisher.services.channel_state import save_changes
from publisher.worker.reconcile import LOOKUP_MARGIN, platform_wait, recheck_seconds
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)


@dataclass
class _Step:
    core: Core
    job: ClaimedJob
    pub_id: int
    channel_id: int
    unit_id: int
    post_id: int
    adapter: BaseAdapter
    external_id: str
    text: str
    since: datetime
    looks: int
    resent: bool
    attempts: int


def handle_first_comment(core: Core, job: ClaimedJob) -> JobResult:
    pub_id = int(job.payload["publication_id"])
    now = core.now()
    with core.sessions() as s:
        row = s.get(FirstComment, pub_id)
        pub = s.get(Publication, pub_id)
        if row is None or pub is None or row.status in FINAL_STATES or not pub.external_id:
            return DONE
        if row.job_id is not None and row.job_id != job.id:
            return DONE  # stale: another job holds this comment
        channel = pub.channel
        if channel.paused_until is not None and _aware(channel.paused_until) > now:
            return RetryAt(_aware(channel.paused_until), "paused by the platform")
        before = copy.deepcopy(dict(channel.state or {}))
        state = copy.deepcopy(before)
        status, unit_id, post_id = row.status, pub.post.unit_id, pub.post_id
        try:
            adapter = build_adapter(core, channel.platform, channel_credentials(core, channel),
                                    state=state, save_credentials=partial(
                                        channel_service.save_credentials, core, channel.id))
        except AdapterError as exc:
            broken: AdapterError | None = exc
        else:
            broken = None
            step = _Step(core, job, pub_id, channel.id, unit_id, post_id, adapter,
                         str(pub.external_id), row.text,
                         _aware(row.submitted_at or pub.published_at or now), row.absent_looks,
                         row.resent, row.attempts)
    if broken is not None:  # settled after the read session is closed (SQLite: one writer)
        _settle(core, pub_id, unit_id, post_id,
                F.UNCONFIRMED if status == F.SENDING else F.FAILED, broken)
        return DONE
    try:
        return _look(step) if status == F.SENDING else _send(step)
    finally:
        with core.sessions.begin() as s:  # quota counters spent are the channel's
            save_changes(s, step.channel_id, before, state)


def _send(step: _Step) -> JobResult:
    core = step.core
    now = core.now()
    if type(step.adapter).caps.max_first_comment is None:  # set behind the composer's back
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.FAILED, None,
                       code="not_supported")
    with core.sessions.begin() as s:
        done: Any = s.execute(update(FirstComment).where(
            FirstComment.publication_id == step.pub_id, FirstComment.status == F.QUEUED)
            .values(status=F.SENDING, attempts=FirstComment.attempts + 1, absent_looks=0,
                    # the first send's time stays: lookups search from there
                    submitted_at=func.coalesce(FirstComment.submitted_at, now),
                    updated_at=now))
        if done.rowcount != 1:
            return DONE
    step.attempts += 1
    step.looks = 0
    try:
        cid = step.adapter.post_comment(step.external_id, step.text)  # type: ignore[attr-defined]
    except RetryLater as exc:  # refused before acting (a limit, the quota): nothing went out
        return _wait(step, exc)
    except Rejected as exc:
        if exc.code == "duplicate":  # X: the same text again: our earlier reply may be out
            return _look(step)
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.FAILED, exc)
    except (NotSupported, AuthExpired) as exc:
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.FAILED, exc)
    except OutcomeUnknown:
        return _look(step)
    except Exception:  # noqa: BLE001 - an adapter bug after the call was sent: look first
        log.exception("first comment of publication %s raised unexpectedly", step.pub_id)
        return _look(step)
    return _posted(step, cid, "posted")


def _look(step: _Step) -> JobResult:
    core = step.core
    try:
        found = step.adapter.find_comment(  # type: ignore[attr-defined]
            step.external_id, step.text, step.since - LOOKUP_MARGIN)
    except RetryLater as exc:  # throttled: stays ``sending``, the job looks again later
        wait = platform_wait(core, step.channel_id, exc)
        return RetryAt(core.now() + timedelta(seconds=wait), exc.message_en)
    except Exception as exc:  # noqa: BLE001 - cannot tell: a person checks, never re-sent
        if not isinstance(exc, AdapterError):
            log.exception("first comment lookup of publication %s raised", step.pub_id)
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.UNCONFIRMED,
                       exc if isinstance(exc, AdapterError) else None, code="lookup_failed")
    if found:
        return _posted(step, str(found), "reconciled")
    now = core.now()
    if step.looks == 0:  # the platform may show it late: one more look before anything else
        with core.sessions.begin() as s:
            s.execute(update(FirstComment).where(FirstComment.publication_id == step.pub_id)
                      .values(absent_looks=1, updated_at=now))
        return RetryAt(now + timedelta(seconds=recheck_seconds(step.adapter)), "look again")
    if step.resent:
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.UNCONFIRMED, None,
                       code="still_absent")
    with core.sessions.begin() as s:  # absent twice: the one re-send the rule allows
        s.execute(update(FirstComment).where(FirstComment.publication_id == step.pub_id,
                                             FirstComment.status == F.SENDING)
                  .values(status=F.QUEUED, resent=True, updated_at=now))
    step.resent = True
    return _send(step)


def _wait(step: _Step, exc: RetryLater) -> JobResult:
    core = step.core
    if step.attempts >= max(core.settings.max_attempts, 3):
        return _settle(core, step.pub_id, step.unit_id, step.post_id, F.FAILED, exc)
    now = core.now()
    with core.sessions.begin() as s:
        s.execute(update(FirstComment).where(FirstComment.publication_id == step.pub_id,
                                             FirstComment.status == F.SENDING)
                  .values(status=F.QUEUED, error=exc.message_id, error_en=exc.message_en,
                          error_code=exc.code, updated_at=now))
    wait = (platform_wait(core, step.channel_id, exc) if exc.retry_after
            else backoff_seconds(step.attempts))
    return RetryAt(now + timedelta(seconds=wait), exc.message_en)


def _posted(step: _Step, cid: str, via: str) -> JobResult:
    now = step.core.now()
    with step.core.sessions.begin() as s:
        s.execute(update(FirstComment).where(FirstComment.publication_id == step.pub_id)
                  .values(status=F.POSTED, external_id=cid, posted_at=now, error=None,
                          error_en=None, error_code=None, updated_at=now))
        audit.record(s, "first_comment.posted", "publication", step.pub_id,
                     unit_id=step.unit_id, at=now,
                     data={"external_id": cid, "via": via, "post_id": step.post_id})
    return DONE


#: What the operator reads for each way a first comment can end badly (the platform's own
#: words, when it gave some, come first).
ADVICE = {
    F.UNCONFIRMED: ("Warta tidak dapat memastikan apakah komentar pertama sudah ada. Buka "
                    "unggahan di platform: bila komentarnya belum ada, tambahkan sendiri; "
                    "Warta tidak akan mengirimnya lagi.",
                    "Warta cannot tell whether the first comment exists. Open the post on the "
                    "platform: if the comment is not there, add it yourself; Warta will not "
                    "send it again."),
    F.FAILED: ("Komentar pertama tidak terkirim; unggahannya sendiri sudah terbit. Tambahkan "
               "komentarnya sendiri di platform bila masih perlu.",
               "The first comment was not sent; the post itself is published. Add the comment "
               "on the platform yourself if it is still needed."),
}


def _settle(core: Core, pub_id: int, unit_id: int, post_id: int, status: str,
            error: AdapterError | None, code: str = "") -> JobResult:
    advice_id, advice_en = ADVICE[status]
    message_id = f"{error.message_id} {advice_id}" if error else advice_id
    message_en = f"{error.message_en} {advice_en}" if error else advice_en
    now = core.now()
    with core.sessions.begin() as s:
        s.execute(update(FirstComment).where(FirstComment.publication_id == pub_id,
                                             FirstComment.status.not_in(FINAL_STATES))
                  .values(status=status, error=message_id, error_en=message_en,
                          error_code=code or (error.code if error else status)[:40],
                          updated_at=now))
        audit.record(s, "first_comment.unconfirmed" if status == F.UNCONFIRMED
                     else "first_comment.failed", "publication", pub_id, unit_id=unit_id,
                     at=now, data={"message": message_id, "message_en": message_en,
                                   "code": code or (error.code if error else ""),
                                   "post_id": post_id})
    return DONE


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
