"""The weekly report to leaders: who receives it, when it is due, and once per week.

**Recipients**, per *scope* (one unit, or the whole region):

- Warta users who chose it on their profile (a ``notify_preferences`` row of the pseudo-kind
  ``weekly_report``, channel ``email``): an approver receives their unit's report, an admin
  the whole region's;
- addresses that are no Warta users (``notify_report_recipients``: a unit's, or the region's
  with no unit), kept by admins with ``warta report recipients``. An address that is also an
  opted-in user's of the same scope gets one message.

**When**: Monday 07.00 in the scope's zone (the unit's; ``WARTA_TIMEZONE`` for the region), for
the week Monday–Sunday before. A worker that was down on Monday sends it when it is back,
until the week is over; a report that is a week late is not sent any more.

**Once per recipient and week**, with any number of workers and crashes:

1. The sweep (each worker's scheduler every few minutes, and ``run_once``) enqueues one
   ``notify_weekly`` job per due scope whose report is not yet recorded, with the dedupe key
   ``weekly-report:<unit id | region>:<ISO week>``.
2. The job (``prepare``), under a transaction-scoped lock: the scope's ``report.weekly`` audit
   event for that ISO week, recorded once (looked up first); then one ``notify_deliveries`` row
   per current recipient, unique per (user, event, channel) or, for an address, per (event,
   channel, address); each with its ``notify_send`` job (``notify-send:<id>``). Event,
   deliveries and jobs commit together; a second run adds only recipients that had none.
3. The send is the ordinary delivery (``deliver.py``: ``sending`` committed before ``DATA``, at
   most once), rendering ``weekly_mail``: the figures and the workbook as the reader sees them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import postqueue
from publisher.core import Core
from publisher.jobs import NOTIFY_SEND, NOTIFY_WEEKLY
from publisher.models import (
    AuditEvent,
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
    NotifyPreference,
    ReportRecipient,
    Role,
    Unit,
    User,
)
from publisher.notify.kinds import WEEKLY_REPORT
from publisher.notify.weekly_report import due_at, last_week
from publisher.reports.period import Period
from publisher.services import audit
from publisher.services.errors import Invalid, NotFound

log = logging.getLogger(__name__)
WEEKLY_ACTION = "report.weekly"
_LOCK_KEY = 0x5745454B  # "WEEK": the advisory lock of the weekly report's preparation
#: How often each worker looks for due reports (a report goes out within this of 07.00).
SWEEP_MINUTES = 5


@dataclass(frozen=True)
class Scope:
    unit_id: int | None
    zone: str

    @property
    def key(self) -> str:
        return "region" if self.unit_id is None else str(self.unit_id)


def _opted_in(session: Session) -> list[User]:
    return list(session.execute(
        select(User).join(NotifyPreference, NotifyPreference.user_id == User.id)
        .where(NotifyPreference.kind == WEEKLY_REPORT,
               NotifyPreference.channel == NotifyChannel.EMAIL, User.active.is_(True))
        .order_by(User.id)).scalars())


def receives(user: User) -> bool:
    """Whether ``user``'s choice of the report counts: admins (the region) and approvers of a
    unit (theirs); an operator's or a unit-less approver's row is ignored."""
    return user.role == Role.ADMIN or (user.role == Role.APPROVER and user.unit_id is not None)


def user_scope(user: User) -> int | None:
    """The unit whose report ``user`` receives; ``None``: the region's (admins)."""
    return None if user.role == Role.ADMIN else user.unit_id


def recipients(session: Session, unit_id: int | None) -> tuple[list[User], list[ReportRecipient]]:
    """The scope's opted-in users and its listed addresses (those of an opted-in user's
    address left out: one message each)."""
    users = [u for u in _opted_in(session) if receives(u) and user_scope(u) == unit_id]
    q = select(ReportRecipient).order_by(ReportRecipient.id)
    q = q.where(ReportRecipient.unit_id.is_(None) if unit_id is None
                else ReportRecipient.unit_id == unit_id)
    taken = {(u.email or "").strip().lower() for u in users}
    addresses: list[ReportRecipient] = []
    for r in session.execute(q).scalars():
        if r.email.lower() not in taken:
            taken.add(r.email.lower())
            addresses.append(r)
    return users, addresses


def scopes_with_recipients(session: Session, default_zone: str) -> list[Scope]:
    wanted: set[int | None] = {user_scope(u) for u in _opted_in(session) if receives(u)}
    wanted |= set(session.execute(select(ReportRecipient.unit_id).distinct()).scalars())
    zones = dict(session.execute(select(Unit.id, Unit.timezone)).all())
    out = [Scope(None, default_zone)] if None in wanted else []
    out += [Scope(u, zones[u]) for u in sorted(x for x in wanted if x is not None) if u in zones]
    return out


def recorded(session: Session, scope: Scope, week: Period, now: datetime) -> AuditEvent | None:
    """The scope's event for ``week``, if recorded (events of the last weeks are few)."""
    rows = session.execute(select(AuditEvent).where(
        AuditEvent.action == WEEKLY_ACTION, AuditEvent.at >= now - timedelta(days=15))
        .order_by(AuditEvent.id)).scalars()
    return next((e for e in rows if e.unit_id == scope.unit_id
                 and (e.data or {}).get("week") == week.iso_week), None)


def sweep(core: Core) -> int:
    """Enqueue the preparation of every report that is due and not yet recorded; idempotent
    across workers (the dedupe key), cheap when nothing is due. Returns the jobs enqueued."""
    if core.settings.smtp is None:
        return 0
    now = core.now()
    n = 0
    with core.sessions.begin() as s:
        for scope in scopes_with_recipients(s, core.settings.timezone):
            if now < due_at(now, scope.zone):
                continue
            week = last_week(now, scope.zone)
            if recorded(s, scope, week, now) is not None:
                continue
            iso = week.iso_week
            if postqueue.enqueue(s, NOTIFY_WEEKLY, {"unit_id": scope.unit_id, "week": iso},
                                 run_at=now, dedupe_key=f"weekly-report:{scope.key}:{iso}",
                                 now=now) is not None:
                n += 1
    return n


def _lock(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})


def prepare(core: Core, unit_id: int | None, week_iso: str) -> list[int]:
    """Record the scope's report of ``week_iso`` (once) and a delivery for each current
    recipient without one; returns the new deliveries' ids (their send jobs are queued)."""
    now = core.now()
    with core.sessions.begin() as s:
        _lock(s)
        unit = s.get(Unit, unit_id) if unit_id is not None else None
        if unit_id is not None and unit is None:
            return []
        scope = Scope(unit_id, unit.timezone if unit is not None else core.settings.timezone)
        week = Period.of_iso_week(week_iso, scope.zone)
        users, addresses = recipients(s, unit_id)
        event = recorded(s, scope, week, now)
        if event is None and not users and not addresses:
            return []
        if event is None:
            audit.record(s, WEEKLY_ACTION, "unit" if unit is not None else "region", unit_id,
                         unit_id=unit_id, at=now,
                         data={"week": week.iso_week, "zone": scope.zone,
                               "first_day": week.first_day.isoformat(),
                               "last_day": week.last_day.isoformat(),
                               "recipients": len(users) + len(addresses)})
            s.flush()
            event = recorded(s, scope, week, now)
            assert event is not None
        created = _deliveries(s, event.id, users, addresses, now)
    log.info("weekly report %s of %s: %d new deliveries", week_iso, scope.key, len(created))
    return created


def _deliveries(s: Session, event_id: int, users: list[User],
                addresses: list[ReportRecipient], now: datetime) -> list[int]:
    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {"event_id": event_id, "channel": NotifyChannel.EMAIL, "kind": WEEKLY_REPORT,
              "status": DeliveryStatus.PENDING, "not_before": now, "attempts": 0,
              "created_at": now, "updated_at": now}
    created: list[int] = []
    for u in users:
        created.append(s.execute(
            insert(NotifyDelivery).values(user_id=u.id, **values)
            .on_conflict_do_nothing(index_elements=["user_id", "event_id", "channel"])
            .returning(NotifyDelivery.id)).scalar_one_or_none() or 0)
    for r in addresses:
        created.append(s.execute(
            insert(NotifyDelivery).values(user_id=None, address=r.email.lower(), **values)
            .on_conflict_do_nothing(index_elements=["event_id", "channel", "address"],
                                    index_where=text("user_id IS NULL"))
            .returning(NotifyDelivery.id)).scalar_one_or_none() or 0)
    created = [i for i in created if i]
    for delivery_id in created:
        postqueue.enqueue(s, NOTIFY_SEND, {"delivery_id": delivery_id}, run_at=now,
                          dedupe_key=f"notify-send:{delivery_id}", now=now)
    return created


# -- for the admins' command ----------------------------------------------------------------

def unit_of(session: Session, ref: str) -> Unit:
    """A unit by id or slug (the command line's ``--unit``)."""
    unit = session.get(Unit, int(ref)) if ref.isdigit() else session.execute(
        select(Unit).where(Unit.slug == ref)).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"Unit '{ref}' tidak ditemukan.", f"Unit '{ref}' was not found.")
    return unit


def add_recipient(session: Session, unit_id: int | None, email: str, *, name: str = "",
                  locale: str = "id") -> ReportRecipient:
    address = email.strip().lower()
    if "@" not in address or any(c in address for c in "\r\n <>,;") or len(address) > 254:
        raise Invalid("Alamat e-mail tidak dapat dipakai.", "The e-mail address cannot be used.",
                      fields={"email": address[:60]})
    if locale not in ("id", "en"):
        raise Invalid("Bahasa harus id atau en.", "The language must be id or en.",
                      fields={"lang": locale[:8]})
    q = select(ReportRecipient).where(ReportRecipient.email == address)
    q = q.where(ReportRecipient.unit_id.is_(None) if unit_id is None
                else ReportRecipient.unit_id == unit_id)
    row = session.execute(q).scalar_one_or_none()
    if row is None:
        row = ReportRecipient(unit_id=unit_id, email=address)
        session.add(row)
    row.name, row.locale = name.strip(), locale
    session.flush()
    return row


def remove_recipient(session: Session, unit_id: int | None, email: str) -> bool:
    q = select(ReportRecipient).where(ReportRecipient.email == email.strip().lower())
    q = q.where(ReportRecipient.unit_id.is_(None) if unit_id is None
                else ReportRecipient.unit_id == unit_id)
    row = session.execute(q).scalar_one_or_none()
    if row is None:
        return False
    session.delete(row)
    return True
