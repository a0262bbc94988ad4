"""Deadlines in working days, as an Indonesian office counts them (SP4N-LAPOR! expects a
follow-up within five): Saturdays, Sundays, the national public holidays (from the
maintained ``holidays`` package, not a list kept here) and the regional days off an admin
sets (``DayOff``: cuti bersama, a regional holiday) are skipped, in the unit's own zone.

A comment that arrives on a day counts from the next working day; it is due at the end of
the N-th one (the unit's local midnight after it), whatever hour it came in.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import DayOff

#: The inbox's default deadline (SP4N-LAPOR!'s follow-up time).
DEFAULT_DUE_DAYS = 5


@lru_cache(maxsize=16)
def _national(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("ID", years=year))


def is_working_day(day: date, extra_off: Collection[date] = ()) -> bool:
    return day.weekday() < 5 and day not in _national(day.year) and day not in extra_off


def add_working_days(arrived: datetime, days: int, zone: str,
                     extra_off: Collection[date] = ()) -> datetime:
    """The end (local midnight) of the ``days``-th working day after ``arrived``'s local day,
    as an aware UTC-comparable datetime."""
    tz = ZoneInfo(zone)
    day = arrived.astimezone(tz).date()
    left = max(1, days)
    for _ in range(days * 7 + 60):  # bounded: weeks of holidays cannot stop the count
        day += timedelta(days=1)
        if is_working_day(day, extra_off):
            left -= 1
            if left == 0:
                break
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def days_off(session: Session, unit_id: int, start: date, end: date) -> set[date]:
    """The admin-set days off of the unit and of every unit, between two dates."""
    rows = session.execute(select(DayOff.day).where(
        (DayOff.unit_id == unit_id) | DayOff.unit_id.is_(None),
        DayOff.day >= start, DayOff.day <= end)).scalars()
    return set(rows)


def due_at(session: Session, unit_id: int, zone: str, arrived: datetime,
           days: int = DEFAULT_DUE_DAYS) -> datetime:
    """When a comment that arrived at ``arrived`` must have been answered by the unit."""
    start = arrived.date() - timedelta(days=1)
    extra = days_off(session, unit_id, start, start + timedelta(days=days * 7 + 62))
    return add_working_days(arrived, days, zone, extra)
