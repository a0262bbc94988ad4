"""Renewing long-lived tokens before they expire, on channels that are not being used.

Threads' token lasts 60 days and dies if nobody refreshes it (platform-apis-2.md §3.2); the
adapter renews it whenever it publishes or reads statistics, but a channel the office leaves
quiet for a month would lose it and need a person to reconnect. A periodic sweep (daily in the
worker, each round of ``run_once``) enqueues one ``renew_token`` job per active channel whose
adapter declares ``renew_before_days`` and whose token expires within that many days. The job
carries the channel's lock key, so it never runs beside a publish of the same account (which
may be renewing the very same token), and a dedupe key, so workers do not queue it twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import select

import postqueue
from adapters import AdapterUnavailable, get_adapter_class, platforms
from adapters.errors import AdapterError, RetryLater
from postqueue import ClaimedJob
from publisher.core import Core
from publisher.jobs import RENEW_TOKEN, channel_lock
from publisher.models import Channel, ChannelStatus
from publisher.runtime import build_adapter, channel_credentials
from publisher.services import channels as channel_service
from publisher.worker.results import DONE, JobResult, RetryAt

log = logging.getLogger(__name__)
#: A renewal that could not reach the platform is tried again this much later.
RETRY_UNREACHABLE = timedelta(hours=1)


def renew_window(core: Core, platform: str) -> timedelta | None:
    """How long before expiry ``platform``'s tokens are renewed (the adapter's
    ``renew_before_days``, or ``WARTA_<PLATFORM>_REFRESH_BEFORE_DAYS``); None: never ahead."""
    try:
        days = get_adapter_class(platform).renew_before_days
    except AdapterUnavailable:
        return None
    if days is None:
        return None
    _base, knobs = core.settings.platform_settings(platform)
    try:
        days = float(knobs.get("refresh_before_days") or days)
    except ValueError:
        pass  # a malformed knob keeps the adapter's default
    return timedelta(days=days)


def sweep_token_renewals(core: Core) -> int:
    """Enqueue a renewal for every active channel whose token enters its renewal window;
    returns how many jobs were added (0 for a channel that already has one waiting)."""
    now = core.now()
    windows = {p: w for p in platforms() if (w := renew_window(core, p)) is not None}
    if not windows:
        return 0
    added = 0
    with core.sessions.begin() as s:
        for platform, window in windows.items():
            ids = s.execute(select(Channel.id).where(
                Channel.platform == platform, Channel.status == ChannelStatus.ACTIVE,
                Channel.token_expires_at.is_not(None), Channel.token_expires_at > now,
                Channel.token_expires_at <= now + window).order_by(Channel.id)).scalars().all()
            for cid in ids:
                if postqueue.enqueue(s, RENEW_TOKEN, {"channel_id": cid}, run_at=now,
                                     dedupe_key=f"renew:{cid}", lock_key=channel_lock(cid),
                                     now=now) is not None:
                    added += 1
    return added


def handle_renew(core: Core, job: ClaimedJob) -> JobResult:
    """Refresh one channel's token if it is still due (a publish may have renewed it since
    the sweep). A refusal is logged, not an error: the token works until it expires, the
    health board shows that date, and the next sweep tries again."""
    channel_id = int(job.payload["channel_id"])
    now = core.now()
    with core.sessions() as s:
        channel = s.get(Channel, channel_id)
        if channel is None or channel.status != ChannelStatus.ACTIVE:
            return DONE
        window = renew_window(core, channel.platform)
        expires = channel.token_expires_at
        if window is None or expires is None:
            return DONE
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        if expires <= now or expires > now + window:
            return DONE  # already renewed, or too late: only reconnecting helps then
        platform = channel.platform
        try:
            adapter = build_adapter(core, platform, channel_credentials(core, channel),
                                    state=dict(channel.state or {}),
                                    save_credentials=partial(channel_service.save_credentials,
                                                             core, channel_id))
        except AdapterError:
            return DONE
    refresh = getattr(adapter, "refresh", None)
    if refresh is None:
        return DONE
    try:
        renewed = refresh()
    except RetryLater as exc:
        return RetryAt(now + RETRY_UNREACHABLE, exc.message_en)
    except AdapterError as exc:
        log.warning("token renewal for channel %s failed: %s", channel_id, exc.message_en)
        return DONE
    if renewed is None:
        log.warning("%s refused to renew the token of channel %s (expires %s)", platform,
                    channel_id, _day(expires))
    else:
        log.info("renewed the %s token of channel %s", platform, channel_id)
    return DONE


def _day(at: datetime) -> str:
    return at.date().isoformat()
