"""Pauses and freeze windows: whether a channel may publish now, and until when it must wait."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import postqueue.queue
from publisher.models import Channel, Pause, PauseScope, Publication, PublicationStatus, User
from publisher.models.enums import Role
from publisher.services import audit
from publisher.services.access import require_role
from publisher.services.errors import Invalid


def active_pause(session: Session, channel: Channel, now: datetime) -> Pause | None:
    """The pause that holds this channel now, if any (the one ending last wins)."""
    return active_pause_for(session, channel.unit_id, channel.id, now)


def active_pause_for(session: Session, unit_id: int, channel_id: int,
                     now: datetime) -> Pause | None:
    return holding_pause(current_pauses(session, now), unit_id, channel_id, now)


def holding_pause(pauses: list[Pause], unit_id: int, channel_id: int,
                  now: datetime) -> Pause | None:
    """``active_pause_for`` over pauses already loaded (a worker's batch reads them once)."""
    rows = [p for p in pauses
            if not p.lifted and p.starts_at <= now and (p.ends_at is None or p.ends_at > now)
            and (p.scope == PauseScope.GLOBAL
                 or (p.scope == PauseScope.UNIT and p.unit_id == unit_id)
                 or (p.scope == PauseScope.CHANNEL and p.channel_id == channel_id))]
    if not rows:
        return None
    return max(rows, key=lambda p: (p.ends_at is None, p.ends_at or now))


def create_pause(session: Session, actor: User, *, scope: str, starts_at: datetime,
                 ends_at: datetime | None = None, unit_id: int | None = None,
                 channel_id: int | None = None, reason: str = "") -> Pause:
    require_role(actor, Role.ADMIN)
    if scope not in set(PauseScope):
        raise Invalid("Cakupan jeda tidak dikenal.", "Unknown pause scope.",
                      fields={"scope": "global | unit | channel"})
    if scope == PauseScope.UNIT and unit_id is None:
        raise Invalid("Pilih unit yang dijeda.", "Choose the unit to pause.",
                      fields={"unit": "required"})
    if scope == PauseScope.CHANNEL and channel_id is None:
        raise Invalid("Pilih akun yang dijeda.", "Choose the channel to pause.",
                      fields={"channel": "required"})
    if ends_at is not None and ends_at <= starts_at:
        raise Invalid("Akhir masa tenang harus setelah awalnya.",
                      "A freeze window must end after it starts.", fields={"ends_at": "order"})
    pause = Pause(scope=scope, unit_id=unit_id if scope == PauseScope.UNIT else None,
                  channel_id=channel_id if scope == PauseScope.CHANNEL else None,
                  starts_at=starts_at, ends_at=ends_at, reason=reason, created_by=actor.id)
    session.add(pause)
    session.flush()
    audit.record(session, "pause.create", "pause", pause.id, actor=actor, unit_id=unit_id,
                 data={"scope": scope, "reason": reason})
    return pause


def lift_pause(session: Session, actor: User, pause_id: int,
               now: datetime | None = None) -> int:
    """Lift a pause, and make what it held due at once: an open-ended pause holds its
    publications in one-minute steps, so without this they went out up to a minute after the
    lift. Publications still waiting for their own (future) time keep it. Returns how many
    publications were released; the worker's next tick (a second) takes them."""
    require_role(actor, Role.ADMIN)
    pause = session.get(Pause, pause_id)
    if pause is None:
        raise Invalid("Jeda tidak ditemukan.", "Pause not found.")
    pause.lifted = True
    now = now or datetime.now(UTC)
    held = select(Publication.job_id).join(Channel, Channel.id == Publication.channel_id).where(
        Publication.status == PublicationStatus.QUEUED, Publication.job_id.is_not(None),
        Publication.scheduled_at <= now)
    if pause.scope == PauseScope.UNIT:
        held = held.where(Channel.unit_id == pause.unit_id)
    elif pause.scope == PauseScope.CHANNEL:
        held = held.where(Channel.id == pause.channel_id)
    released = sum(postqueue.queue.reschedule(session, job_id, now, now=now)
                   for job_id in session.execute(held).scalars() if job_id is not None)
    audit.record(session, "pause.lift", "pause", pause.id, actor=actor,
                 data={"released": released})
    return released


def current_pauses(session: Session, now: datetime) -> list[Pause]:
    return list(session.execute(
        select(Pause).where(Pause.lifted.is_(False),
                            or_(Pause.ends_at.is_(None), Pause.ends_at > now))
        .order_by(Pause.starts_at)).scalars())
