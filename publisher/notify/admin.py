"""Events for administrators: no worker ticking, a channel's token about to expire, a
platform's quota or limit holding a whole channel.

Both are audit events like any other (the bell shows them to admins, the fan-out sends them
by each admin's preference), recorded by checks rather than by a user's action, so each check
dedupes itself: one outage is one event (keyed by the last heartbeat it saw), one channel's
expiry date is one event. A check holds a transaction-scoped lock while it looks and records
(PostgreSQL advisory lock; SQLite serialises writers anyway), so two checkers running at once
— two workers, a worker and ``warta check`` — record it once.

**Where the worker check runs.** Not in the worker: it is the worker that stopped. It runs in
``warta check`` (meant for cron, e.g. every minute, on a machine that is not the
worker's). Its messages cannot wait for the queue either (nobody claims
jobs while workers are down), so the checker fans the event out and sends it itself; the
queued fan-out and send jobs it also leaves behind find the work done when a worker returns.

**Quota exhausted** is recorded by the worker itself, in the transaction that starts a
channel's pause (``worker/reconcile.pause_channel``): the conditional update that moves
``paused_until`` from "not paused" to a time is the window's start, and only the one run that
wins it records the event, so two calls hitting the same quota (a publish and a metrics read,
two workers) make one event per pause window. An extension of a running pause is no news.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import AuditEvent, Channel, WorkerHeartbeat
from publisher.models.enums import ChannelStatus
from publisher.notify.deliver import _rows, send_delivery
from publisher.notify.fanout import fan_out
from publisher.services import audit
from publisher.services.workers import ALIVE_WITHIN

log = logging.getLogger(__name__)
WORKER_STOPPED = "system.worker_stopped"
TOKEN_EXPIRING = "channel.token_expiring"
QUOTA_EXHAUSTED = "channel.quota_exhausted"
#: A channel-wide wait shorter than this is a throttle that is over before anyone could act
#: on an e-mail (Meta's "regain in 3 minutes"): the channel still pauses, nobody is told.
QUOTA_NOTICE_MIN = timedelta(minutes=15)
#: Waits that are Warta's own pacing of an account, not a platform's limit.
NOT_A_QUOTA = frozenset({"min_gap"})
#: A window that starts this soon after the end of the last one told continues it: a limit
#: that refills slower than the platform said (Graph's rolling 24-hour publishing limit
#: answers "in an hour" again and again) is one event, not one an hour.
QUOTA_SAME_EPISODE = timedelta(hours=6)
#: A token is announced this long before it expires.
EXPIRY_NOTICE = timedelta(days=7)
_LOCK_KEY = 0x57415254  # "WART": the advisory lock of the admin checks


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def _recorded(session: Session, action: str, object_id: int) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == object_id)).scalars())


def check_workers(core: Core) -> int | None:
    """Record (and deliver at once) "no worker is running" if no worker ticked within
    ``ALIVE_WITHIN``; the event's id, or ``None`` when all is well or already told. An
    installation where no worker ever ran has nothing to report."""
    now = core.now()
    with core.sessions.begin() as s:
        _lock(s)
        last = s.execute(select(func.max(WorkerHeartbeat.last_tick_at))).scalar()
        if last is None or now - _aware(last) <= ALIVE_WITHIN:
            return None
        outage = int(_aware(last).timestamp())  # the outage's identity: its last heartbeat
        if _recorded(s, WORKER_STOPPED, outage):
            return None
        audit.record(s, WORKER_STOPPED, "worker", outage, at=now,
                     data={"last_tick_at": _aware(last).isoformat()})
        s.flush()
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == WORKER_STOPPED, AuditEvent.object_id == outage)).scalar_one()
        event_id = event.id
        deliveries = fan_out(core, s, event, now)
    log.warning("no worker has ticked since %s: admins notified", _aware(last).isoformat())
    for delivery_id in deliveries:
        send_delivery(core, delivery_id)
    return event_id


def check_tokens(core: Core) -> list[int]:
    """Record "this channel's token expires on <date>" for every active channel whose token
    expires within ``EXPIRY_NOTICE``, once per channel and expiry date (a reconnect that
    brings a new expiry date is news again). Delivered by the queue like any event."""
    now = core.now()
    created: list[int] = []
    with core.sessions.begin() as s:
        _lock(s)
        channels = s.execute(select(Channel).where(
            Channel.token_expires_at.is_not(None),
            Channel.token_expires_at > now, Channel.token_expires_at <= now + EXPIRY_NOTICE,
            Channel.status != ChannelStatus.DISABLED).order_by(Channel.id)).scalars()
        for ch in list(channels):
            assert ch.token_expires_at is not None
            expires = _aware(ch.token_expires_at).date().isoformat()
            if any((e.data or {}).get("expires") == expires
                   for e in _recorded(s, TOKEN_EXPIRING, ch.id)):
                continue
            audit.record(s, TOKEN_EXPIRING, "channel", ch.id, unit_id=ch.unit_id, at=now,
                         data={"expires": expires,
                               "expires_at": _aware(ch.token_expires_at).isoformat(),
                               "channel": ch.name})
            created.append(ch.id)
    return created


def start_pause(session: Session, channel_id: int, until: datetime, now: datetime, *,
                code: str = "", message_id: str = "", message_en: str = "") -> bool:
    """Pause a channel until ``until`` (in the caller's transaction), or extend its pause;
    record ``channel.quota_exhausted`` when this call starts a new pause window of at least
    ``QUOTA_NOTICE_MIN`` (see the module docstring). Returns whether it started one.

    Both steps are conditional updates: of two runs starting the same window at once, one
    updates the row and the other finds it already paused (PostgreSQL re-reads the row after
    the first commits; SQLite serialises the writers), so only one records the event."""
    started = _rows(session.execute(update(Channel).where(
        Channel.id == channel_id,
        or_(Channel.paused_until.is_(None), Channel.paused_until <= now))
        .values(paused_until=until, pause_reason=message_id)
        .execution_options(synchronize_session=False))) == 1
    if not started:
        session.execute(update(Channel).where(
            Channel.id == channel_id, Channel.paused_until < until)
            .values(paused_until=until, pause_reason=message_id)
            .execution_options(synchronize_session=False))
        return False
    if until - now < QUOTA_NOTICE_MIN or code in NOT_A_QUOTA:
        return True
    ch = session.get(Channel, channel_id)
    if ch is None:
        return True
    told = [e for e in _recorded(session, QUOTA_EXHAUSTED, ch.id)
            if _told_until(e) + QUOTA_SAME_EPISODE > now]
    if told:
        return True
    audit.record(session, QUOTA_EXHAUSTED, "channel", ch.id, unit_id=ch.unit_id, at=now,
                 data={"channel": ch.name, "platform": ch.platform, "until": until.isoformat(),
                       "code": code, "message": message_id, "message_en": message_en})
    log.warning("channel %s is held by its platform until %s (%s): admins told", ch.id,
                until.isoformat(), code)
    return True



def _told_until(event: AuditEvent) -> datetime:
    raw = (event.data or {}).get("until")
    try:
        return _aware(datetime.fromisoformat(str(raw)))
    except ValueError:
        return _aware(event.at)
