"""Times are stored in UTC and shown in the unit's zone; input without an offset is local."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from publisher.models import User

ZONE_ABBREVIATIONS = {"Asia/Jakarta": "WIB", "Asia/Pontianak": "WIB", "Asia/Makassar": "WITA",
                      "Asia/Jayapura": "WIT"}


class BadTime(ValueError):
    pass


def parse_time(value: str | datetime, zone: str) -> datetime:
    """ISO-8601 text (or a datetime) to aware UTC; no offset means ``zone`` local time."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise BadTime(f"'{value}' is not a date and time (use e.g. 2026-12-01T09:00 or "
                          "2026-12-01T09:00+07:00).") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=ZoneInfo(zone))
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01 in WIB is before the first representable instant
        raise BadTime(f"'{value}' is outside the dates Warta can store.") from None


def home_zone(user: User | None, default: str) -> str:
    """The zone a person's local times are read and shown in: their unit's, or ``default``
    (the installation's ``WARTA_TIMEZONE``) for someone without a unit, such as the region's
    admins. The pages and the API's filters share this rule, so a date a person types means
    the same midnight wherever they type it."""
    unit = getattr(user, "unit", None)
    return str(unit.timezone) if unit is not None else default


def to_zone(dt: datetime | None, zone: str) -> datetime | None:
    return None if dt is None else dt.astimezone(ZoneInfo(zone))


def zone_label(zone: str) -> str:
    return ZONE_ABBREVIATIONS.get(zone, zone)
