"""The way in: an audit event the bell shows also enqueues its fan-out, in the event's own
transaction (the audit log is the outbox, and the job commits or rolls back with it).

Nothing is enqueued while nobody wants more than the bell (the default): an installation
without e-mail pays two small ``EXISTS`` per such event (preferences, then webhooks) and no
queue work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import exists, insert, select
from sqlalchemy.orm import Session

from postqueue import Job, JobStatus
from publisher.jobs import NOTIFY_FANOUT
from publisher.models import AuditEvent, NotifyChannel, NotifyPreference, NotifyWebhook
from publisher.notify.kinds import KIND_OF, PSEUDO_KINDS


def wanted(session: Session) -> bool:
    """Whether anybody wants any kind by something other than the bell, or an office's
    webhook is on."""
    return bool(session.execute(select(exists().where(
        NotifyPreference.channel != NotifyChannel.INAPP,
        NotifyPreference.kind.not_in(PSEUDO_KINDS)))).scalar()) or bool(session.execute(
            select(exists().where(NotifyWebhook.active.is_(True)))).scalar())


def after_event(session: Session, event: AuditEvent) -> None:
    """Called by ``audit.record`` for every event it adds."""
    if event.action not in KIND_OF or not wanted(session):
        return
    session.flush()
    enqueue_fanouts(session, [event.id], event.at)


#: A fan-out is due as soon as any worker looks: it takes milliseconds, and it is what tells a
#: person that something failed. (An event's ``at`` is the wall clock for a person's action
#: and the worker's clock for its own; neither is the right "due" for the other's queue.)
ASAP = datetime(2000, 1, 1, tzinfo=UTC)


def enqueue_fanouts(session: Session, event_ids: Sequence[int], now: datetime) -> None:
    """One fan-out job per event, in one statement (the publish path's group commit records
    hundreds of events at once)."""
    if not event_ids:
        return
    session.execute(insert(Job), [
        {"kind": NOTIFY_FANOUT, "payload": {"event_id": event_id}, "status": JobStatus.QUEUED,
         "run_at": ASAP, "attempts": 0, "dedupe_key": f"notify-event:{event_id}",
         "created_at": now, "updated_at": now} for event_id in event_ids])
