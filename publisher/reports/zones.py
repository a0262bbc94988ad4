"""Local wall-clock parts of a UTC timestamp, in SQL, on PostgreSQL and SQLite.

PostgreSQL converts with ``timezone(zone, ts)``, per row if need be. SQLite has no time zones, so
each zone becomes its UTC offset in seconds, added to the Unix time; that is exact for the
Indonesian zones (WIB, WITA, WIT have no daylight saving time) and for any other zone without
DST; for a DST zone the offset now is used. Weekday and hour are then integer arithmetic on the
local Unix time: a third of the cost of ``strftime`` with a modifier, and the heatmap computes
them for every publication of the period (``bench/reports.py``).
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from publisher.models import Unit

#: ``unixepoch()`` came with SQLite 3.38; older libraries get the slower, equal ``strftime('%s')``.
HAS_UNIXEPOCH = sqlite3.sqlite_version_info >= (3, 38)
#: 1970-01-01 was a Thursday: weekday 3 with Monday = 0.
_EPOCH_WEEKDAY = 3


def offset_seconds(zone: str, reference: datetime | None = None) -> int:
    ref = reference or datetime.now(UTC)
    offset = ref.astimezone(ZoneInfo(zone)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _unix_seconds(column: Any) -> ColumnElement[int]:
    if HAS_UNIXEPOCH:
        return func.unixepoch(column, type_=Integer)
    return cast(func.strftime("%s", column), Integer)


class LocalTime:
    """Builds SQL for the local date, ISO weekday (0 = Monday) and hour of ``column``.

    ``zone`` is a zone name, or a SQL column holding each row's zone name (the unit's zone).
    """

    def __init__(self, session: Session, column: Any, zone: str | Any) -> None:
        self.pg = session.get_bind().dialect.name == "postgresql"
        self.column = column
        self.zone = zone
        if not self.pg:
            if isinstance(zone, str):
                offset: Any = literal(offset_seconds(zone), Integer)
            else:
                names = session.execute(select(Unit.timezone).distinct()).scalars().all()
                offset = case({n: offset_seconds(n) for n in names} or {"": 0},
                              value=zone, else_=0)
            #: Local wall-clock time as seconds since 1970-01-01 00:00 (published times are
            #: after 1970, so integer division rounds down).
            self.local_seconds = _unix_seconds(column) + offset

    def _pg_local(self) -> ColumnElement[Any]:
        return func.timezone(self.zone, self.column)

    def day(self) -> ColumnElement[Any]:
        """'YYYY-MM-DD' text."""
        if self.pg:
            return func.to_char(self._pg_local(), "YYYY-MM-DD")
        return func.date(self.local_seconds, "unixepoch")

    def weekday(self) -> ColumnElement[Any]:
        if self.pg:
            return cast(func.extract("isodow", self._pg_local()), Integer) - 1
        return (self.local_seconds // 86400 + _EPOCH_WEEKDAY) % 7

    def hour(self) -> ColumnElement[Any]:
        if self.pg:
            return cast(func.extract("hour", self._pg_local()), Integer)
        return self.local_seconds // 3600 % 24
