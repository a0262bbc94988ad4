"""The data the per-post growth chart draws, with its time axis computed here.

Chart.js's linear scale, given one instant (or several at the same second), widens the range by
5 % of the value on each side; for milliseconds since 1970 that is almost three years, so a
post with one snapshot showed an axis from 2023 to 2030. The page therefore sends the axis: the
span of the snapshots, at least ``MIN_SPAN`` wide, on round local steps (quarter hours, hours,
days) so that the ticks read as times.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

#: The narrowest axis: one snapshot sits in the middle of two hours.
MIN_SPAN = timedelta(hours=2)
#: Tick steps, smallest first; the first that gives at most ``MAX_TICKS`` ticks is used (weeks
#: beyond that: more ticks, still whole weeks).
STEPS = [timedelta(minutes=m) for m in (15, 30)] + [timedelta(hours=h) for h in
                                                      (1, 2, 3, 6, 12, 24, 48, 24 * 7)]
MAX_TICKS = 8


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def time_axis(instants: Iterable[datetime], zone: str) -> dict[str, int] | None:
    """``{"min", "max", "step"}`` in milliseconds since 1970 for the given UTC instants, or
    None without any. The bounds are whole steps of the local clock in ``zone``."""
    points = sorted(instants)
    if not points:
        return None
    lo, hi = points[0], points[-1]
    if hi - lo < MIN_SPAN:
        mid = lo + (hi - lo) / 2
        lo, hi = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
    step = next((s for s in STEPS if (hi - lo) / s <= MAX_TICKS), STEPS[-1])
    offset = int((lo.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()).total_seconds()
                 * 1000)
    step_ms = int(step.total_seconds() * 1000)
    start = (_ms(lo) + offset) // step_ms * step_ms - offset
    end = -((-(_ms(hi) + offset)) // step_ms) * step_ms - offset
    return {"min": start, "max": end, "step": step_ms}


def history_chart(labels: Sequence[str], histories: Sequence[Sequence[dict[str, Any]]],
                  zone: str) -> dict[str, Any]:
    """One series per publication (its label, its snapshots' engagements over time), the time
    axis that spans them, and the zone the ticks are written in (the page's zone)."""
    series = [{"label": label, "points": [{"x": _ms(h["collected_at"]), "y": h["engagements"]}
                                          for h in history]}
              for label, history in zip(labels, histories, strict=True)]
    instants = [h["collected_at"] for history in histories for h in history]
    return {"series": series, "x": time_axis(instants, zone), "zone": zone}
