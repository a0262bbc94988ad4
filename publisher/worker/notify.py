"""The notification jobs as the worker runs them; the work itself is ``publisher/notify/``."""

from __future__ import annotations

from postqueue import ClaimedJob
from postqueue.queue import complete_in
from publisher.core import Core
from publisher.models import AuditEvent, NotifyChannel
from publisher.notify.deliver import send_delivery
from publisher.notify.digest import send_digest
from publisher.notify.fanout import fan_out
from publisher.notify.weekly import prepare
from publisher.worker.results import DONE, SETTLED, JobResult, RetryAt


def handle_fanout(core: Core, job: ClaimedJob) -> JobResult:
    """The event's deliveries and the job's completion in one transaction."""
    now = core.now()
    with core.sessions.begin() as s:
        event = s.get(AuditEvent, int(job.payload["event_id"]))
        if event is not None:
            fan_out(core, s, event, now)
        complete_in(s, job.id, job.lease_owner, now)
    return SETTLED


def handle_send(core: Core, job: ClaimedJob) -> JobResult:
    again = send_delivery(core, int(job.payload["delivery_id"]))
    return DONE if again is None else RetryAt(again.when, again.error)


def handle_digest(core: Core, job: ClaimedJob) -> JobResult:
    again = send_digest(core, int(job.payload["user_id"]),
                        str(job.payload.get("channel") or NotifyChannel.EMAIL))
    return DONE if again is None else RetryAt(again.when, again.error)


def handle_weekly(core: Core, job: ClaimedJob) -> JobResult:
    """One scope's weekly report: its event and deliveries (their send jobs are queued)."""
    unit_id = job.payload.get("unit_id")
    prepare(core, int(unit_id) if unit_id is not None else None, str(job.payload["week"]))
    return DONE
