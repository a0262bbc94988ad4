"""The fan-out of one audit event: who hears of it outside the bell, by which channel, when.

One transaction: the deliveries (unique per recipient, event and channel), their send jobs
(due when the recipient's quiet hours end, unless the kind is urgent) and the fan-out job's
completion. Run twice (a lease expired, a worker died), it adds nothing the second time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import postqueue
from publisher.core import Core
from publisher.jobs import NOTIFY_SEND
from publisher.models import (
    AuditEvent,
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
    NotifyPreference,
    NotifyProfile,
    Post,
    Publication,
    User,
)
from publisher.notify import digest, webhooks
from publisher.notify.kinds import KIND_OF, URGENT, concerns
from publisher.notify.quiet import quiet_until
from publisher.timeutil import home_zone


def sendable(core: Core) -> set[str]:
    """The channels this installation can deliver by."""
    out: set[str] = set()
    if core.settings.smtp is not None:
        out.add(NotifyChannel.EMAIL)
    if core.settings.notify_telegram_token:
        out.add(NotifyChannel.TELEGRAM)
    return out


def author_of(session: Session, event: AuditEvent) -> int | None:
    if event.object_id is None:
        return None
    if event.object_type == "post":
        return session.execute(select(Post.author_id).where(Post.id == event.object_id)
                               ).scalar_one_or_none()
    if event.object_type == "publication":
        return session.execute(select(Post.author_id).join(
            Publication, Publication.post_id == Post.id).where(
                Publication.id == event.object_id)).scalar_one_or_none()
    return None


def not_before(session: Session, user: User, kind: str, now: datetime, zone: str) -> datetime:
    """Now, or the end of the recipient's quiet hours for a kind that can wait."""
    if kind in URGENT:
        return now
    profile = session.get(NotifyProfile, user.id)
    if profile is None:
        return now
    return quiet_until(now, home_zone(user, zone), profile.quiet_start,
                       profile.quiet_end) or now


def fan_out(core: Core, session: Session, event: AuditEvent, now: datetime) -> list[int]:
    """Create the deliveries of ``event`` (in the caller's transaction); returns their ids."""
    kind = KIND_OF.get(event.action)
    channels = sendable(core)
    if kind is None:
        return []
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = _to_webhooks(session, event, kind, now, insert)
    if not channels:
        return created
    rows = session.execute(
        select(User, NotifyPreference.channel)
        .join(NotifyPreference, NotifyPreference.user_id == User.id)
        .where(NotifyPreference.kind == kind, NotifyPreference.channel.in_(channels),
               User.active.is_(True))
        .order_by(User.id)).all()
    author_id = author_of(session, event) if rows else None
    for user, channel in rows:
        if not concerns(user, event, author_id):
            continue
        held = digest.held_until(session, user, kind, channel, now, core.settings.timezone)
        due = held or not_before(session, user, kind, now, core.settings.timezone)
        delivery_id = session.execute(
            insert(NotifyDelivery).values(
                user_id=user.id, event_id=event.id, channel=channel, kind=kind,
                status=DeliveryStatus.PENDING, not_before=due, attempts=0, created_at=now,
                updated_at=now)
            .on_conflict_do_nothing(index_elements=["user_id", "event_id", "channel"])
            .returning(NotifyDelivery.id)).scalar_one_or_none()
        if delivery_id is None:
            continue  # this fan-out ran before: that delivery and its job exist
        if held is not None:  # goes out with the day's digest, not on its own
            digest.enqueue(session, user.id, held, now, channel)
            created.append(delivery_id)
            continue
        postqueue.enqueue(session, NOTIFY_SEND, {"delivery_id": delivery_id}, run_at=due,
                          dedupe_key=f"notify-send:{delivery_id}", now=now)
        created.append(delivery_id)
    return created


def _to_webhooks(session: Session, event: AuditEvent, kind: str, now: datetime,
                 insert: Any) -> list[int]:
    """One delivery per webhook that receives ``event`` (no user; unique per event and
    webhook address), sent at once: a webhook has no quiet hours and no digest."""
    created: list[int] = []
    for hook in webhooks.listening(session, event):
        delivery_id = session.execute(
            insert(NotifyDelivery).values(
                user_id=None, event_id=event.id, channel=NotifyChannel.WEBHOOK, kind=kind,
                status=DeliveryStatus.PENDING, not_before=now, attempts=0,
                address=webhooks.address(hook.id), created_at=now, updated_at=now)
            .on_conflict_do_nothing(
                index_elements=["event_id", "channel", "address"],
                index_where=text("user_id IS NULL"))
            .returning(NotifyDelivery.id)).scalar_one_or_none()
        if delivery_id is None:
            continue
        postqueue.enqueue(session, NOTIFY_SEND, {"delivery_id": delivery_id}, run_at=now,
                          dedupe_key=f"notify-send:{delivery_id}", now=now)
        created.append(delivery_id)
    return created
