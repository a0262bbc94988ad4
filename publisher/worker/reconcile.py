"""One reconcile step for "the platform may or may not have it", on every path.

A create call that timed out, lost its connection or got a 5xx, a worker that died during the
call (lease recovery), a poll whose irreversible call (Instagram's ``media_publish``, X's tweet
after video processing) ended the same way, and X's "duplicate content" refusal all come here.
The rule (docs/ARCHITECTURE.md, "Reconcile"):

1. Look (``adapter.lookup``) from this publication's own first submit time, never matching a
   platform post already linked to another publication of the channel.
2. Found: published ("reconciled"). The lookup failed or the platform cannot look (Telegram):
   ``unconfirmed``. The platform throttled the lookup: wait as it says (the whole channel if
   its scope is the channel) and look again.
3. Clearly absent: look once more, the platform's ``recheck_seconds`` later (Meta and X may
   create asynchronously after a 5xx; search indexes lag). Absent again: publish again —
   once per publication, never more; after that it is ``unconfirmed``. A platform that said
   the post exists (an Instagram container already ``PUBLISHED``) is never published again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from adapters.base import BaseAdapter, OutgoingPost, Published
from adapters.errors import AdapterError, RetryLater
from postqueue import ClaimedJob
from publisher.core import Core
from publisher.models import Post, Publication, PublicationStatus, PublishAttempt
from publisher.models.org import Unit
from publisher.notify.admin import start_pause
from publisher.timeutil import zone_label
from publisher.worker.outcome import finish_attempt, record_published, record_state
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)
S = PublicationStatus
#: How far back ``lookup`` searches before the submit time (platform clocks differ).
LOOKUP_MARGIN = timedelta(minutes=10)
#: Platform-given waits end at the platform's time plus at most this (clock skew).
PLATFORM_SLACK = 3.0
#: Codes of an ``OutcomeUnknown`` that mean "the platform has it, we just lack its id".
SURELY_OUT = frozenset({"already_published"})


@dataclass(frozen=True)
class Facts:
    since: datetime
    taken: frozenset[str]
    looks: int
    republished: bool
    channel_id: int


def facts(core: Core, pub_id: int) -> Facts | None:
    """What a reconcile needs: the first submit time of this publication (its earliest
    attempt), the platform ids other publications of the channel already hold, and the
    bookkeeping of earlier looks."""
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        if pub is None:
            return None
        first = s.execute(select(func.min(PublishAttempt.started_at))
                          .where(PublishAttempt.publication_id == pub_id)).scalar()
        since = min(t for t in (first, pub.submitted_at, core.now()) if t is not None)
        taken = set(s.execute(
            select(Publication.external_id).where(
                Publication.channel_id == pub.channel_id, Publication.id != pub_id,
                Publication.status == S.PUBLISHED, Publication.external_id.is_not(None),
                Publication.published_at >= since - LOOKUP_MARGIN - timedelta(days=1))
        ).scalars())
        return Facts(since, frozenset(str(t) for t in taken), int(pub.absent_looks or 0),
                     pub.republished_at is not None, pub.channel_id)


def recheck_seconds(adapter: BaseAdapter) -> float:
    """The platform's interval between the two looks (knob ``WARTA_<P>_RECHECK_SECONDS``)."""
    raw = adapter.ctx.settings.get("recheck_seconds")
    return float(raw) if raw else float(type(adapter).recheck_seconds)


def look(adapter: BaseAdapter, post: OutgoingPost, f: Facts) -> Published | None | RetryLater | str:
    """``Published``, ``None`` (clearly absent), a ``RetryLater`` (throttled with a time the
    platform named: look then) or ``"unknown"`` (cannot look, or the look failed: a 5xx or a
    timeout without a time, any other error)."""
    if not type(adapter).caps.supports_lookup:
        return "unknown"
    try:
        found = cast(Any, adapter).lookup(replace(post, taken_ids=f.taken),
                                          f.since - LOOKUP_MARGIN)
    except RetryLater as exc:
        if exc.retry_after:  # throttled, and the platform said until when: look again then
            return exc
        # A 5xx or a timeout while looking says nothing about the post: the look failed.
        log.warning("lookup failed for %s: %s", post.key, exc.code)
        return "unknown"
    except Exception:  # noqa: BLE001 - any failure to look means we do not know
        log.warning("lookup failed for %s", post.key, exc_info=True)
        return "unknown"
    if found is not None and found.external_id in f.taken:  # an adapter that ignored taken_ids
        return None
    return found


def reconcile(core: Core, job: ClaimedJob, adapter: BaseAdapter, post: OutgoingPost,
              pub_id: int, attempt_id: int | None, error: AdapterError | None, *,
              republish: Callable[[], JobResult], crashed: bool = False) -> JobResult:
    """The one step (see the module docstring). ``republish`` sends it again (a new publish
    call, or the poll that makes the irreversible call); ``crashed`` says a worker died."""
    f = facts(core, pub_id)
    if f is None:
        return DONE
    collects = bool(type(adapter).caps.metrics)
    found = look(adapter, post, f)
    if isinstance(found, Published):
        return record_found(core, pub_id, attempt_id, found, collects)
    if isinstance(found, RetryLater):
        wait = platform_wait(core, f.channel_id, found)
        return RetryAt(core.now() + timedelta(seconds=wait), found.message_en)
    surely_out = error is not None and error.code in SURELY_OUT
    if found is None and f.looks == 0:
        when = core.now() + timedelta(seconds=recheck_seconds(adapter))
        at = local_time(core, pub_id, when)
        label = type(adapter).label or type(adapter).platform
        _note_absent(core, pub_id, attempt_id, error, looks=1,
                     message_id=f"Belum ditemukan di {label}; Warta memeriksa lagi pukul {at} "
                                "sebelum memutuskan menerbitkan ulang.",
                     message_en=f"Not found on {label} yet; Warta looks again at {at} before "
                                "deciding to publish again.")
        return RetryAt(when, "not found yet; looking again")
    if found is None and not f.republished and not surely_out:
        log.info("publication %s absent after two looks; publishing it again once", pub_id)
        _note_absent(core, pub_id, attempt_id, error, looks=0, republished=True)
        return republish()
    if found is None:
        msg_id = ("Sudah diterbitkan ulang sekali dan platform tetap tidak menunjukkannya. "
                  "Periksa akun sebelum menerbitkan ulang.")
        msg_en = ("It was already published again once and the platform still does not show "
                  "it. Check the account before publishing again.")
        code = "absent_after_republish"
    elif crashed:
        msg_id = ("Pekerja berhenti saat menerbitkan dan platform tidak dapat memastikan apakah "
                  "unggahan sudah terbit. Periksa akun sebelum menerbitkan ulang.")
        msg_en = ("The worker stopped while publishing and the platform cannot tell whether "
                  "the post went out. Check the account before publishing again.")
        code = "crash_unconfirmed"
    else:
        msg_id = (f"{error.message_id} " if error else "") + (
            "Belum terkonfirmasi: periksa akun sebelum menerbitkan ulang.")
        msg_en = (f"{error.message_en} " if error else "") + (
            "Unconfirmed: check the account before publishing again.")
        code = error.code if error else "unconfirmed"
    record_state(core, pub_id, attempt_id, S.UNCONFIRMED, None, outcome="unknown",
                 message_id=msg_id, message_en=msg_en, code=code)
    return DONE


def record_found(core: Core, pub_id: int, attempt_id: int | None, found: Published,
                 collects: bool, outcome: str = "reconciled") -> JobResult:
    """Published as found by a lookup; a post another publication holds (a race the
    lookup's exclusion could not see) is refused by the unique index and fails instead."""
    try:
        record_published(core, pub_id, attempt_id, found, collects_metrics=collects,
                         outcome=outcome)
    except IntegrityError:
        record_state(core, pub_id, attempt_id, S.FAILED, None, outcome="error",
                     message_id="Unggahan yang ditemukan di platform sudah tercatat untuk "
                                "publikasi lain; periksa akun.",
                     message_en="The post found on the platform already belongs to another "
                                "publication; check the account.", code="found_taken")
    return DONE


def _note_absent(core: Core, pub_id: int, attempt_id: int | None, error: AdapterError | None,
                 *, looks: int, republished: bool = False, message_id: str = "",
                 message_en: str = "") -> None:
    now = core.now()
    with core.sessions.begin() as s:
        values: dict[str, Any] = {"absent_looks": looks, "updated_at": now}
        if republished:
            values["republished_at"] = now
        if message_id:
            values.update(error=message_id, error_en=message_en, error_code="looking_again")
        s.execute(update(Publication).where(Publication.id == pub_id).values(**values))
        if attempt_id is None:  # lease recovery: the dead worker's attempt is the open one
            attempt_id = s.execute(select(func.max(PublishAttempt.id)).where(
                PublishAttempt.publication_id == pub_id, PublishAttempt.ended_at.is_(None))
            ).scalar()
        finish_attempt(s, attempt_id, "absent", now, error,
                       detail=None if error else "lookup found nothing")


def platform_wait(core: Core, channel_id: int, exc: RetryLater) -> float:
    """Seconds to wait for a throttle met outside the publish call (poll, lookup, metrics):
    the platform's own time plus a little, or Warta's backoff; a channel-scoped wait pauses
    the whole channel, as on the publish path."""
    from postqueue import backoff_seconds

    wait = (exc.retry_after + PLATFORM_SLACK if exc.retry_after
            else backoff_seconds(1, base=15))
    if exc.scope == "channel":
        pause_channel(core, channel_id, core.now() + timedelta(seconds=wait), exc)
    return wait


def pause_channel(core: Core, channel_id: int, until: datetime, exc: RetryLater) -> None:
    """Hold every publication (and read) of the channel until ``until``: a platform's quota
    or limit for the whole account. A new pause window of a real quota is also an admin event
    (``notify/admin.start_pause``: once per window, whoever hits the limit first)."""
    with core.sessions.begin() as s:
        start_pause(s, channel_id, until, core.now(), code=exc.code,
                    message_id=exc.message_id, message_en=exc.message_en)


def local_time(core: Core, pub_id: int, when: datetime) -> str:
    """``15.00 WIB``: a time as the publication's unit reads it (Indonesian style)."""
    with core.sessions() as s:
        zone = s.execute(select(Unit.timezone).join(Post, Post.unit_id == Unit.id)
                         .join(Publication, Publication.post_id == Post.id)
                         .where(Publication.id == pub_id)).scalar() or core.settings.timezone
    local = when.astimezone(ZoneInfo(zone))
    return f"{local:%H.%M} {zone_label(zone)}"
