"""Citizens' comments collection, shaped like metrics collection: a periodic sweep gives each
published post on a platform that reads comments a source (its saved position and decaying
schedule) and enqueues one job per channel with sources due; that job reads each due source
page by page, storing every page with its cursor in one transaction.

The schedule is the metrics one (``next_metrics_time``: 10 minutes, an hour, 6 hours, a day,
3 days, a week, a month after publishing): citizens write most right after a post goes up.
A platform's wait (Retry-After, quota, throttle) ends the job with the platform's own time;
the saved cursor makes the retry continue where it stopped.

Headroom (Meta): a throttled Page or Instagram token stops *publishing* too, so comment reads
stop before Meta throttles: while the usage the platform reported on the channel's last call
(``API_USAGE`` in the channel's state, kept by the Graph client on every call, publishing's
included) is at or above ``WARTA_COMMENTS_MAX_USAGE_PERCENT``, the job reads no further page and
comes back later (``_headroom``). That is not an error: the sources stay due with their cursors.
The decision is here, not in the adapter, because it is about which jobs may spend a budget
that publishing shares (an installation setting, like a channel's pause), while the adapter
only reports what the platform said; the publish path never looks at it. (YouTube's guard is
the adapter's own: it counts quota units against the upload cost, which only it knows.)
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from adapters import REGISTRY, get_adapter_class
from adapters.base import API_USAGE, COMMENTS_OPT_IN
from adapters.errors import AdapterError, RetryLater
from postqueue import ClaimedJob
from publisher.core import Core
from publisher.jobs import COLLECT_COMMENTS
from publisher.models import Channel, CommentSource, Publication, PublicationStatus
from publisher.runtime import build_adapter, channel_credentials
from publisher.services import channels as channel_service
from publisher.services.channel_state import save_changes
from publisher.services.inbox_collect import store_page
from publisher.worker.comment_updates import handle_updates, stream_platforms, sweep_updates
from publisher.worker.metrics import enqueue_per_channel
from publisher.worker.outcome import METRIC_OFFSETS, next_metrics_time
from publisher.worker.reconcile import platform_wait
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)
#: Bounds of one job, so one busy channel never holds a call slot for long: the rest is left
#: due and the next sweep continues it (from the saved cursor).
MAX_SOURCES_PER_JOB = 50
MAX_PAGES_PER_JOB = 40
#: New sources made per sweep (a fresh installation with a year of posts catches up in steps).
NEW_SOURCES_PER_SWEEP = 500
#: An error that is neither a wait nor a refusal to go on: look again in an hour.
ERROR_WAIT = timedelta(hours=1)
#: How long a usage figure at or above the threshold holds reads back: Meta's windows roll
#: (an hour for Page BUC), so after this one page is read again, which also renews the figure.
USAGE_HOLD = timedelta(minutes=30)


def comment_platforms() -> list[str]:
    """The platforms whose adapter declares ``reads_comments`` (their library may be absent)."""
    out = []
    for name in REGISTRY:
        try:
            if get_adapter_class(name).caps.reads_comments:
                out.append(name)
        except Exception:  # noqa: BLE001 - an adapter whose optional library is missing
            continue
    return out


def _opted_in(session: Session, platforms: list[str]) -> Any:
    """A condition on ``Channel``: its platform reads comments for free, or a person switched
    reading on for it (``comments_opt_in``: X charges per reply read). The opt-in channels
    are few and read in Python: JSON queries differ between the backends."""
    paid = [p for p in platforms if get_adapter_class(p).caps.comments_opt_in]
    if not paid:
        return Channel.platform.in_(platforms)
    on = [cid for cid, state in session.execute(
        select(Channel.id, Channel.state).where(Channel.platform.in_(paid)))
        if (state or {}).get(COMMENTS_OPT_IN) is True]
    free = [p for p in platforms if p not in paid]
    return or_(Channel.platform.in_(free), Channel.id.in_(on))


def sweep_comments(core: Core) -> int:
    """Make sources for newly published posts, then enqueue one job per channel with due
    sources; idempotent across workers (dedupe key, unique source per publication)."""
    now = core.now()
    platforms = comment_platforms()
    if not platforms:
        return 0
    with core.sessions.begin() as s:
        fresh = s.execute(
            select(Publication.id, Publication.channel_id, Publication.published_at)
            .join(Channel, Channel.id == Publication.channel_id)
            .where(Publication.status == PublicationStatus.PUBLISHED,
                   Publication.external_id.is_not(None), _opted_in(s, platforms),
                   ~exists().where(CommentSource.publication_id == Publication.id))
            .order_by(Publication.id).limit(NEW_SOURCES_PER_SWEEP)).all()
        for pub_id, channel_id, published_at in fresh:
            # The schedule's first step (10 minutes after publishing), or now for older posts.
            first = _aware(published_at or now) + METRIC_OFFSETS[0]
            s.add(CommentSource(channel_id=channel_id, publication_id=pub_id,
                                next_collect_at=max(first, now), stage=0))
    streams = stream_platforms(platforms)
    listed = [p for p in platforms if p not in streams]
    with core.sessions.begin() as s:
        n = sweep_updates(s, streams, now)
        if not listed:
            return n
        channel_ids = s.execute(select(CommentSource.channel_id)
                                .join(Channel, Channel.id == CommentSource.channel_id)
                                .where(CommentSource.next_collect_at <= now,
                                       _opted_in(s, listed)).distinct()
                                ).scalars().all()
        return n + enqueue_per_channel(s, COLLECT_COMMENTS, "comments", channel_ids, now)


def handle_collect_comments(core: Core, job: ClaimedJob) -> JobResult:
    channel_id = int(job.payload["channel_id"])
    now = core.now()
    with core.sessions() as s:
        channel = s.get(Channel, channel_id)
        if channel is None:
            return DONE
        if channel.paused_until is not None and _aware(channel.paused_until) > now:
            return RetryAt(_aware(channel.paused_until), "paused by the platform")
        stream = get_adapter_class(channel.platform).caps.comments_by_updates
        sources = [] if stream else s.execute(
            select(CommentSource.id, Publication.external_id)
            .join(Publication, Publication.id == CommentSource.publication_id)
            .where(CommentSource.channel_id == channel_id,
                   CommentSource.next_collect_at <= now)
            .order_by(CommentSource.next_collect_at).limit(MAX_SOURCES_PER_JOB)).all()
        if not sources and not stream:
            return DONE
        before = copy.deepcopy(dict(channel.state or {}))
        state = copy.deepcopy(before)
        platform = channel.platform
        if get_adapter_class(platform).caps.comments_opt_in and \
                before.get(COMMENTS_OPT_IN) is not True:
            return DONE  # switched off since the sweep: not one paid read
        credentials = channel_credentials(core, channel)
        try:
            adapter = build_adapter(core, platform, credentials,
                                    state=state, save_credentials=partial(
                                        channel_service.save_credentials, core, channel_id))
        except AdapterError:
            return DONE
    caps = type(adapter).caps
    if caps.comments_by_updates:
        try:
            return handle_updates(core, channel_id, adapter,
                                  str(credentials.get("bot_token") or ""), before, state)
        except RetryLater as exc:
            return _waiting(core, channel_id, exc, now)
        except AdapterError as exc:
            log.warning("comment updates of channel %s failed: %s", channel_id, exc.message_en)
            return RetryAt(now + ERROR_WAIT, exc.message_en)
    pages = 0
    try:
        for done, (source_id, external_id) in enumerate(sources):
            while pages < MAX_PAGES_PER_JOB:
                held = _headroom(core, state)
                if held is not None:
                    _save_state(core, channel_id, before, state)
                    return _held(channel_id, held, state, len(sources) - done)
                with core.sessions() as s:
                    cursor = s.get_one(CommentSource, source_id).cursor
                try:
                    page = adapter.list_comments(str(external_id), cursor)
                except RetryLater:
                    raise
                except AdapterError as exc:
                    log.warning("comments of source %s failed: %s", source_id, exc.message_en)
                    with core.sessions.begin() as s:
                        src = s.get_one(CommentSource, source_id)
                        pub = s.get_one(Publication, src.publication_id)
                        src.last_error = f"[{exc.code}] {exc.message_en}"[:1000]
                        # Not before an hour, and the schedule still ends (a Story has no
                        # comments to list: its source must not be retried for ever).
                        step, src.stage = next_metrics_time(
                            _aware(pub.published_at or now), now + ERROR_WAIT)
                        src.next_collect_at = step
                    break
                pages += 1
                with core.sessions.begin() as s:
                    src = s.get_one(CommentSource, source_id)
                    pub = s.get_one(Publication, src.publication_id)
                    if store_page(s, src, pub, platform, page, now=core.now(),
                                  newest_first=caps.comments_newest_first):
                        src.next_collect_at, src.stage = next_metrics_time(
                            _aware(pub.published_at or now), now)
                        break
    except RetryLater as exc:
        _save_state(core, channel_id, before, state)
        return _waiting(core, channel_id, exc, now)
    _save_state(core, channel_id, before, state)
    return DONE


def _headroom(core: Core, state: dict[str, Any]) -> datetime | None:
    """Until when comment reads must wait for the channel's API usage to fall (None: read
    on). The figure counts until the regain time Meta gave with it (already throttled: Meta's
    own time, like the throttle's wait), else while younger than ``USAGE_HOLD``; an older one
    lets one page through, whose answer renews it."""
    usage = state.get(API_USAGE)
    if not isinstance(usage, dict):
        return None
    try:
        pct = float(usage.get("pct") or 0)
        at = _aware(datetime.fromisoformat(str(usage.get("at"))))
        regain = float(usage.get("regain_s") or 0)
    except (TypeError, ValueError):
        return None  # an unreadable record never stops collection for good
    if pct < core.settings.comments_max_usage_percent:
        return None
    until = at + (timedelta(seconds=regain) if regain > 0 else USAGE_HOLD)
    return until if until > core.now() else None


def _held(channel_id: int, until: datetime, state: dict[str, Any], due: int) -> JobResult:
    """The job's end when usage leaves no room: its due sources keep their cursors."""
    pct = state[API_USAGE].get("pct")
    log.info("comments of channel %s held until %s: API usage %s%%, %d source(s) still due",
             channel_id, until.isoformat(), pct, due,
             extra={"comments_held": {"channel_id": channel_id, "due": due, "pct": pct}})
    return RetryAt(until, f"API usage at {pct}%: comment reads wait so publishing keeps room")


def _waiting(core: Core, channel_id: int, exc: RetryLater, now: datetime) -> JobResult:
    if not exc.retry_after:
        return RetryAt(now + timedelta(seconds=300), exc.message_en)
    return RetryAt(now + timedelta(seconds=platform_wait(core, channel_id, exc)),
                   exc.message_en)


def _save_state(core: Core, channel_id: int, before: dict[str, Any],
                after: dict[str, Any]) -> None:
    """Quota counters spent by the reads (YouTube) are the channel's, like publishing's.
    Only this job's changes are saved: a publish job on the channel (a Reel's upload
    record) may have saved the state since this job copied it."""
    with core.sessions.begin() as s:
        save_changes(s, channel_id, before, after)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)
