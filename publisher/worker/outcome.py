"""Recording what happened at the platform: one function per outcome, each one transaction.

Every state change of a publication writes an audit event, and every attempt a PublishAttempt
row with the platform's response (already cut and redacted by the adapter's error).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import null, update
from sqlalchemy.orm import Session

from adapters.base import Published
from adapters.errors import AdapterError
from postqueue import ClaimedJob
from postqueue.queue import complete_in
from publisher.core import Core
from publisher.models import (
    Channel,
    ChannelStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
)
from publisher.services import audit, first_comment
from publisher.worker.snapshot import PubInfo, load_info

#: The decaying collection schedule after publishing. The first read comes minutes after, so
#: a fresh post shows its first numbers while people still look at it (it said "Tidak
#: tersedia" everywhere for an hour); one read more per post is far inside every platform's
#: limits (metrics are read in batches per channel).
log = logging.getLogger(__name__)

METRIC_OFFSETS = (timedelta(minutes=10), timedelta(hours=1), timedelta(hours=6),
                  timedelta(hours=24), timedelta(days=3), timedelta(days=7), timedelta(days=30))


#: Instagram Story insights exist only 24 hours (platform-apis-2.md §4.1): one read when
#: the first viewers are counted and a last one before they vanish. Its steps are stored as
#: ``metrics_stage`` STORY_STAGE + n, so the schedule survives without a column of its own.
STORY_METRIC_OFFSETS = (timedelta(hours=1), timedelta(hours=23))
STORY_STAGE = 100
STORY_LIFETIME = timedelta(hours=24)


def next_metrics_time(published_at: datetime, after: datetime, schedule: str = "default"
                      ) -> tuple[datetime | None, int]:
    """The next step of the collection schedule strictly after ``after``: the decaying one,
    or the Story one (``schedule="story"``)."""
    offsets, base = ((STORY_METRIC_OFFSETS, STORY_STAGE) if schedule == "story"
                     else (METRIC_OFFSETS, 0))
    for stage, offset in enumerate(offsets):
        when = published_at + offset
        if when > after:
            return when, base + stage
    return None, base + len(offsets)


def schedule_of(stage: int) -> str:
    """Which schedule a stored ``metrics_stage`` belongs to."""
    return "story" if stage >= STORY_STAGE else "default"


def finish_attempt(session: Session, attempt_id: int | None, outcome: str, now: datetime,
                   error: AdapterError | None = None, detail: str | None = None) -> None:
    if attempt_id is None:
        return
    values: dict[str, object] = {"ended_at": now, "outcome": outcome}
    if error is not None:
        values["http_status"] = error.http_status
        values["detail"] = (f"[{error.code}] {error.message_en}\n{error.detail}").strip()[:4000]
    elif detail:
        values["detail"] = detail[:4000]
    session.execute(update(PublishAttempt).where(PublishAttempt.id == attempt_id)
                    .values(**values))


def set_error(pub: Publication, error: AdapterError | None, message_id: str = "",
              message_en: str = "", code: str = "") -> None:
    """The operator's message: an explicit one (e.g. "failed after 8 attempts") wins over the
    adapter error's own, which only fills what was not given."""
    if error is not None:
        pub.error = message_id or error.message_id
        pub.error_en = message_en or error.message_en
        pub.error_code = code or error.code
    else:
        pub.error, pub.error_en, pub.error_code = message_id, message_en, code


def record_published(core: Core, pub: PubInfo | int, attempt_id: int | None,
                     result: Published, *, collects_metrics: bool, outcome: str = "published",
                     job: ClaimedJob | None = None) -> bool:
    """Record a published publication (Core statements only: this is the hot path).

    With ``job`` the job is completed in the same transaction; returns whether it was.
    """
    now = core.now()
    published_at = result.published_at or now
    next_at, stage = (next_metrics_time(published_at, now, result.metrics_schedule)
                      if collects_metrics
                      else (None, 0))
    with core.sessions.begin() as s:
        info = pub if isinstance(pub, PubInfo) else load_info(s, pub)
        if info is None:
            return False
        s.execute(update(Publication).where(Publication.id == info.pub_id).values(
            status=PublicationStatus.PUBLISHED, external_id=result.external_id,
            permalink=result.permalink, published_at=published_at, pending_state=null(),
            progress_done=Publication.progress_total, error=None, error_en=None,
            error_code=None, next_metrics_at=next_at, metrics_stage=stage, updated_at=now))
        s.execute(update(Channel).where(Channel.id == info.channel_id)
                  .values(last_published_at=now, last_error=None))
        finish_attempt(s, attempt_id, outcome, now, detail=result.permalink or "")
        first_comment.schedule(s, [(info.pub_id, info.post_id, info.channel_id)], now)
        log_outcome(info.pub_id, "published", f"channel {info.channel_id}", result.permalink
                    or result.external_id)
        audit.record(s, "publication.published", "publication", info.pub_id,
                     unit_id=info.unit_id, at=now,
                     data={"permalink": result.permalink, "external_id": result.external_id,
                           "post_id": info.post_id, "author_id": info.author_id,
                           "via": outcome})
        if job is not None:
            return complete_in(s, job.id, job.lease_owner, now)
    return False


def log_outcome(pub_id: int, status: str, where: str, detail: str | None) -> None:
    """One line per publication outcome on the console (the operator running ``warta serve``
    saw the scheduler's ticks and never a publication). ``detail`` is a permalink or a code:
    never a platform response, which may carry a token."""
    log.info("publication %s %s on %s%s", pub_id, status, where,
             f": {detail}" if detail else "")


def record_state(core: Core, pub_id: int, attempt_id: int | None, status: str,
                 error: AdapterError | None, *, outcome: str, message_id: str = "",
                 message_en: str = "", code: str = "", channel_status: str | None = None) -> None:
    """A terminal-for-now state: failed, unconfirmed, needs_reauth, missed, queued again."""
    now = core.now()
    with core.sessions.begin() as s:
        pub = s.get(Publication, pub_id)
        if pub is None:
            return
        if pub.status in (PublicationStatus.PUBLISHED, PublicationStatus.CANCELLED):
            # A person cancelled it, or it was found published, while the worker decided:
            # their word stands; the worker's later view must not overwrite it.
            return
        pub.status = status
        # A settled reconcile starts afresh: the next unknown outcome gets its two looks.
        pub.absent_looks, pub.polling_since = 0, None
        if status in (PublicationStatus.QUEUED, PublicationStatus.NEEDS_REAUTH,
                      PublicationStatus.MISSED):
            pub.submitted_at = None
        set_error(pub, error, message_id, message_en, code)
        pub.updated_at = now
        channel = s.get(Channel, pub.channel_id)
        if channel is not None and status != PublicationStatus.QUEUED:
            channel.last_error = pub.error
        if channel is not None and channel_status and channel.status != channel_status:
            channel.status = channel_status
            if channel_status == ChannelStatus.NEEDS_REAUTH:
                audit.record(s, "channel.needs_reauth", "channel", channel.id,
                             unit_id=channel.unit_id,
                             data={"message": pub.error, "message_en": pub.error_en})
        finish_attempt(s, attempt_id, outcome, now, error,
                       detail=None if error else f"{message_en}")
        log_outcome(pub.id, status, f"channel {pub.channel_id}", pub.error_code)
        audit.record(s, f"publication.{status}", "publication", pub.id,
                     unit_id=pub.post.unit_id,
                     data={"message": pub.error, "message_en": pub.error_en,
                           "code": pub.error_code, "post_id": pub.post_id,
                           "author_id": pub.post.author_id})
