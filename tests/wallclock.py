"""Fake the wall clock for a whole run, to show the suite does not depend on it.

``WARTA_FAKE_WALL_CLOCK`` is an instant (ISO 8601 with an offset) or a time of day ``HH:MM``
(today's UTC date at that UTC time, e.g. ``23:30``, when WIB's date is already tomorrow). The
root conftest starts ``time_machine.travel(..., tick=True)`` for the session, so every
``datetime.now()``, ``date.today()`` and ``time.time()`` in the test process reads the fake time
(``time.monotonic`` is untouched, so bounded waits still work). The worker processes the tests
start (tests/worker/procs.py) read the same fake clock: the first traveller records its shift
from the real time in ``WARTA_WALL_CLOCK_SHIFT``, which they inherit.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

FAKE_ENV = "WARTA_FAKE_WALL_CLOCK"
SHIFT_ENV = "WARTA_WALL_CLOCK_SHIFT"


def target_instant(raw: str, real_now: datetime) -> datetime:
    """The instant ``raw`` names: ``HH:MM`` is that UTC time on ``real_now``'s UTC date."""
    raw = raw.strip()
    if len(raw) <= 5 and ":" in raw:
        hours, minutes = (int(part) for part in raw.split(":"))
        return real_now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    instant = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if instant.tzinfo is None:
        raise RuntimeError(f"{FAKE_ENV} needs an offset (…Z or +07:00) or HH:MM (UTC)")
    return instant.astimezone(UTC)


def start_from_env() -> Any | None:
    """Start travelling if the environment asks for a fake wall clock; return the traveller
    (``.stop()`` it at the end) or ``None``."""
    shift = os.environ.get(SHIFT_ENV, "").strip()
    raw = os.environ.get(FAKE_ENV, "").strip()
    if not shift and not raw:
        return None
    import time_machine

    real_now = datetime.fromtimestamp(time.time(), UTC)
    if shift:
        target = real_now + timedelta(seconds=float(shift))
    else:
        target = target_instant(raw, real_now)
        os.environ[SHIFT_ENV] = repr((target - real_now).total_seconds())
    # A timestamp, not an aware datetime: time-machine would also set the process's local zone
    # to the datetime's (UTC) and hide the TZ the run is meant to be in.
    traveller = time_machine.travel(target.timestamp(), tick=True)
    traveller.start()
    return traveller
