"""Every user action and every publication state change leaves an audit event; the ones the
bell shows also start their notifications' fan-out (``publisher/notify/hook.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from publisher.db import utcnow
from publisher.models import AuditEvent, User
from publisher.notify.hook import after_event


def record(session: Session, action: str, object_type: str, object_id: int | None, *,
           actor: User | None = None, unit_id: int | None = None,
           data: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    event = AuditEvent(at=at or utcnow(), actor_id=actor.id if actor else None,
                       unit_id=unit_id, action=action, object_type=object_type,
                       object_id=object_id, data=data or {})
    session.add(event)
    # What the bell shows may also go out by e-mail: its fan-out job commits with the event.
    after_event(session, event)


def keep_audit(session: Session, exc: Exception) -> None:
    """After a refused use case was rolled back, record the refusal it asked to keep (a
    ``ServiceError`` with ``audit``) in its own transaction on the same session."""
    note = getattr(exc, "audit", None)
    if not note:
        return
    record(session, **note)
    session.commit()
