"""Quiet hours: a daily window, in the recipient's own zone, when non-urgent messages wait.

The window is two wall-clock times (minutes after local midnight). ``start > end`` crosses
midnight (22.00-06.00), the usual case, so the arithmetic is done on local dates, never on
UTC hours: 22.00 WIT is 13.00 UTC, and "after 06.00" means tomorrow's 06.00 in that zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def in_window(minute: int, start: int, end: int) -> bool:
    """Whether a local minute of the day falls in [start, end) (wrapping past midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= minute < end
    return minute >= start or minute < end


def quiet_until(now: datetime, zone: str, start: int | None, end: int | None) -> datetime | None:
    """When the quiet hours around ``now`` end (UTC), or ``None`` if ``now`` is not in them."""
    if start is None or end is None:
        return None
    local = now.astimezone(ZoneInfo(zone))
    minute = local.hour * 60 + local.minute
    if not in_window(minute, start, end):
        return None
    day = local.date() if minute < end else local.date() + timedelta(days=1)
    wall = datetime.combine(day, time(end // 60, end % 60), tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def parse_hhmm(text: str) -> int | None:
    """``"22:00"`` or ``"22.00"`` (the Indonesian way) to minutes; ``None`` if it is not a
    time of day."""
    raw = text.strip().replace(".", ":")
    hours, sep, minutes = raw.partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        return None
    h, m = int(hours), int(minutes)
    if h > 23 or m > 59:
        return None
    return h * 60 + m


def format_hhmm(minutes: int | None, sep: str = ":") -> str:
    if minutes is None:
        return ""
    return f"{minutes // 60:02d}{sep}{minutes % 60:02d}"
