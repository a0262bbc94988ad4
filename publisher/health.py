"""Is this installation able to do its work right now? The checks behind ``/readyz``.

A load balancer or systemd asks often and reads only the status code, so each check is one
cheap question (one connection, one small query, one tiny file) and says in a few safe words
what failed: the body is public, so it never carries a URL, a path or an exception's text
(those go to the log, which is redacted).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from publisher.core import Core
from publisher.db import read_only_connection
from publisher.models import WorkerHeartbeat
from publisher.readiness import current_revision, migration_heads
from publisher.storage import storage_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One named check: passed or not, with details that are safe to show anyone."""

    name: str
    ok: bool
    detail: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.detail}


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def database_checks(core: Core) -> list[Check]:
    """Database reachable, schema at this code's head, and (unless switched off) a worker
    heartbeat within ``WARTA_READY_WORKER_WITHIN``: one read-only connection for all three."""
    within = core.settings.ready_worker_within
    try:
        with read_only_connection(core.engine) as conn:
            current = current_revision(conn)
            last = None
            if within is not None and current is not None:
                last = conn.execute(select(func.max(WorkerHeartbeat.last_tick_at))).scalar()
    except Exception:  # noqa: BLE001 - any failure here means "not ready", said in the log
        log.warning("readiness: the database cannot be reached", exc_info=True)
        down = {"error": "database unreachable"}
        checks = [Check("database", False, down), Check("migrations", False, down)]
        return checks + ([Check("worker", False, down)] if within is not None else [])
    heads = migration_heads()
    checks = [Check("database", True),
              Check("migrations", current in heads,
                    {"current": current, "head": heads[0] if len(heads) == 1 else list(heads)})]
    if within is None:
        return checks
    if last is None:
        checks.append(Check("worker", False, {"error": "no worker has ever run",
                                              "within_seconds": within.total_seconds()}))
    else:
        age = (core.now() - _aware(last)).total_seconds()
        checks.append(Check("worker", age <= within.total_seconds(),
                            {"last_beat_seconds_ago": round(max(age, 0.0), 1),
                             "within_seconds": within.total_seconds()}))
    return checks


def media_check(core: Core) -> Check:
    """The media storage accepts a write now (``MediaStorage.check``)."""
    try:
        storage_for(core.settings).check()
    except OSError:
        log.warning("readiness: the media storage is not writable", exc_info=True)
        return Check("media", False, {"error": "media storage not writable"})
    return Check("media", True)


def readiness(core: Core) -> tuple[bool, list[Check]]:
    """Every check, and whether all of them passed."""
    checks = [*database_checks(core), media_check(core)]
    return all(c.ok for c in checks), checks
