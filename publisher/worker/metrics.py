"""Engagement collection: a periodic sweep enqueues one job per channel, and that job fetches
every due publication of the channel in as few adapter calls as the platform's batch allows."""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import postqueue
from adapters.errors import AdapterError, AuthExpired, RetryLater
from postqueue import ClaimedJob
from publisher.core import Core
from publisher.jobs import COLLECT_METRICS
from publisher.models import Channel, MetricSnapshot, Publication, PublicationStatus
from publisher.runtime import build_adapter, channel_credentials
from publisher.services import channels as channel_service
from publisher.services.channel_state import save_changes
from publisher.worker.outcome import STORY_LIFETIME, next_metrics_time, schedule_of
from publisher.worker.reconcile import platform_wait
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)
MAX_PER_JOB = 2000


def sweep_metrics(core: Core) -> int:
    """Enqueue a collection job for each channel with publications due; idempotent across
    workers thanks to the dedupe key."""
    now = core.now()
    with core.sessions.begin() as s:
        channel_ids = s.execute(
            select(Publication.channel_id).where(Publication.next_metrics_at <= now,
                                                 Publication.status == PublicationStatus.PUBLISHED)
            .distinct()).scalars().all()
        return enqueue_per_channel(s, COLLECT_METRICS, "metrics", channel_ids, now)


def enqueue_per_channel(session: Session, kind: str, key: str, channel_ids: Iterable[int],
                        now: datetime) -> int:
    """One job of ``kind`` per channel with work due (metrics, comments): a channel's reads
    share its rate limit, so they run in one job; the dedupe key ``<key>:<channel>`` keeps a
    sweep on every worker from queueing a second one. How many were new."""
    n = 0
    for cid in channel_ids:
        if postqueue.enqueue(session, kind, {"channel_id": cid}, run_at=now,
                             dedupe_key=f"{key}:{cid}", now=now) is not None:
            n += 1
    return n


def handle_collect(core: Core, job: ClaimedJob) -> JobResult:
    channel_id = int(job.payload["channel_id"])
    now = core.now()
    with core.sessions() as s:
        channel = s.get(Channel, channel_id)
        if channel is None:
            return DONE
        if channel.paused_until is not None and channel.paused_until > now:
            # A channel-wide platform wait (quota, throttle) holds metrics reads too.
            return RetryAt(channel.paused_until, "paused by the platform")
        pubs = s.execute(
            select(Publication.id, Publication.external_id, Publication.published_at,
                   Publication.metrics_stage)
            .where(Publication.channel_id == channel_id,
                   Publication.status == PublicationStatus.PUBLISHED,
                   Publication.next_metrics_at <= now)
            .order_by(Publication.next_metrics_at).limit(MAX_PER_JOB)).all()
        # A Story's insights are gone 24 h after it went up (a worker that was down past
        # the +23 h read): asking would only fetch nothing, so its schedule simply ends.
        expired = [p for p in pubs if schedule_of(p[3]) == "story"
                   and (p[2] is None or _aware(p[2]) + STORY_LIFETIME <= now)]
        if expired:
            s.execute(update(Publication).where(Publication.id.in_([p[0] for p in expired]))
                      .values(next_metrics_at=None))
            s.commit()
        pubs = [p for p in pubs if p not in expired]
        if not pubs:
            return DONE
        before = copy.deepcopy(dict(channel.state or {}))
        state = copy.deepcopy(before)
        try:
            # A token refreshed while reading metrics is saved like one refreshed while
            # publishing: X's refresh tokens are single-use, and dropping the new one would
            # leave the channel with a spent token (needs_reauth at the next publish).
            adapter = build_adapter(core, channel.platform, channel_credentials(core, channel),
                                    state=state, save_credentials=partial(
                                        channel_service.save_credentials, core, channel_id))
        except AdapterError:
            return DONE
    caps = type(adapter).caps
    if not caps.metrics:
        with core.sessions.begin() as s:
            for pub_id, _ext, _at, _stage in pubs:
                s.get(Publication, pub_id).next_metrics_at = None
        return DONE
    size = max(1, caps.metrics_batch_size)
    by_ext = {ext: (pid, at, stage) for pid, ext, at, stage in pubs if ext}
    ids = list(by_ext)
    for start in range(0, len(ids), size):
        chunk = ids[start:start + size]
        try:
            found = adapter.fetch_metrics(chunk)
        except RetryLater as exc:
            if not exc.retry_after:
                return RetryAt(now + timedelta(seconds=300), exc.message_en)
            # the platform's own time; a channel-scoped limit pauses the whole channel
            return RetryAt(now + timedelta(seconds=platform_wait(core, channel_id, exc)),
                           exc.message_en)
        except (AuthExpired, AdapterError) as exc:
            log.warning("metrics for channel %s failed: %s", channel_id, exc.message_en)
            with core.sessions.begin() as s:
                for ext in chunk:
                    s.get(Publication, by_ext[ext][0]).next_metrics_at = now + timedelta(hours=1)
            continue
        with core.sessions.begin() as s:
            for ext in chunk:
                pub_id, published_at, stage = by_ext[ext]
                metrics = found.get(ext)
                if metrics is not None:
                    s.add(MetricSnapshot(publication_id=pub_id, collected_at=now,
                                         **metrics.as_dict()))
                pub = s.get(Publication, pub_id)
                pub.next_metrics_at, pub.metrics_stage = next_metrics_time(
                    published_at or now, now, schedule_of(stage))
    with core.sessions.begin() as s:  # only this job's changes: publishing runs alongside
        save_changes(s, channel_id, before, state)
    return DONE


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are stored UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
