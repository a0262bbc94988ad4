"""Local wall-clock parts of a UTC timestamp, in SQL, on PostgreSQL and SQLite.

PostgreSQL converts with ``timezone(zone, ts)``, per row if need be. SQLite has no time zones, so
each zone becomes its UTC offset as a ``strftime`` modifier; that is exact for the Indonesian
zones (WIB, WITA, WIT have no daylight saving time) and for any other zone without DST; for a DST
zone the offset at ``reference`` is used.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from publisher.models import Unit


def _modifier(zone: str, reference: datetime | None = None) -> str:
    ref = reference or datetime.now(UTC)
    offset = ref.astimezone(ZoneInfo(zone)).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    return f"{minutes:+d} minutes"


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
                self.mod: Any = literal(_modifier(zone))
            else:
                names = session.execute(select(Unit.timezone).distinct()).scalars().all()
                self.mod = case({n: _modifier(n) for n in names} or {"": "+0 minutes"},
                                value=zone, else_="+0 minutes")

    def _pg_local(self) -> ColumnElement[Any]:
        return func.timezone(self.zone, self.column)

    def day(self) -> ColumnElement[Any]:
        """'YYYY-MM-DD' text."""
        if self.pg:
            return func.to_char(self._pg_local(), "YYYY-MM-DD")
        return func.strftime("%Y-%m-%d", self.column, self.mod)

    def weekday(self) -> ColumnElement[Any]:
        if self.pg:
            return cast(func.extract("isodow", self._pg_local()), Integer) - 1
        return (cast(func.strftime("%w", self.column, self.mod), Integer) + 6) % 7

    def hour(self) -> ColumnElement[Any]:
        if self.pg:
            return cast(func.extract("hour", self._pg_local()), Integer)
        return cast(func.strftime("%H", self.column, self.mod), Integer)
