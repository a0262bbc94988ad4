"""Report periods: named periods (this week, this month, last month) and custom date ranges.

A period is a half-open UTC interval [start, end) computed from whole days in the viewer's zone,
plus the previous period of equal length for the "change versus before" figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from publisher.services.errors import Invalid

PERIODS = ("this_week", "this_month", "last_month", "custom")
#: A bound on custom ranges, so one request cannot ask for a decade of day rows.
MAX_DAYS = 400


@dataclass(frozen=True)
class Period:
    kind: str
    first_day: date  # inclusive, in ``zone``
    last_day: date   # inclusive, in ``zone``
    zone: str

    @property
    def start(self) -> datetime:
        return _utc(self.first_day, self.zone)

    @property
    def end(self) -> datetime:
        return _utc(self.last_day + timedelta(days=1), self.zone)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def previous(self) -> Period:
        """The period of equal length just before this one."""
        last = self.first_day - timedelta(days=1)
        return Period("custom", last - timedelta(days=self.days - 1), last, self.zone)

    def day_list(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]

    @property
    def iso_week(self) -> str:
        """``2026-W23``: the ISO week the period starts in (a week's identity in the weekly
        report's dedupe keys and audit log)."""
        year, week, _ = self.first_day.isocalendar()
        return f"{year}-W{week:02d}"

    @classmethod
    def of_iso_week(cls, iso: str, zone: str) -> Period:
        year, week = iso.split("-W")
        return week_of(date.fromisocalendar(int(year), int(week), 1), zone)


def week_of(monday: date, zone: str) -> Period:
    """Monday to Sunday in ``zone``, as a custom period (what the weekly report reads)."""
    return Period("custom", monday, monday + timedelta(days=6), zone)


def _utc(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


#: Years a period may fall in: far beyond any report, and far enough from date's own limits
#: (1..9999) that a period's previous one, or its end in another zone, can still be computed.
MIN_YEAR, MAX_YEAR = 1900, 9000


def in_range(day: date, field: str) -> date:
    """``day`` itself, or an ``Invalid`` naming ``field`` when it is outside the years a
    period can have (9999-12-31 would overflow once turned into UTC or followed by a day)."""
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise Invalid(f"Tanggal '{day.isoformat()}' di luar rentang {MIN_YEAR}–{MAX_YEAR}.",
                      f"'{day.isoformat()}' is outside the years {MIN_YEAR}-{MAX_YEAR}.",
                      fields={field: f"a date in {MIN_YEAR}..{MAX_YEAR}"})
    return day


def _parse_day(text: str, field: str) -> date:
    try:
        day = date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise Invalid(f"Tanggal '{text}' tidak dikenal (gunakan TTTT-BB-HH, mis. 2026-11-01).",
                      f"'{text}' is not a date (use YYYY-MM-DD, e.g. 2026-11-01).",
                      fields={field: "YYYY-MM-DD"}) from None
    return in_range(day, field)


def resolve_period(kind: str | None, zone: str, now: datetime, first: str | None = None,
                   last: str | None = None) -> Period:
    """The period a picker or an API call asks for; ``first``/``last`` imply "custom"."""
    today = now.astimezone(ZoneInfo(zone)).date()
    if first or last:
        kind = "custom"
    kind = kind or "this_month"
    if kind == "this_week":
        monday = today - timedelta(days=today.weekday())
        return Period(kind, monday, monday + timedelta(days=6), zone)
    if kind == "this_month":
        start = today.replace(day=1)
        return Period(kind, start, _month_end(start), zone)
    if kind == "last_month":
        start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        return Period(kind, start, _month_end(start), zone)
    if kind != "custom":
        raise Invalid("Periode tidak dikenal.", "Unknown period.",
                      fields={"period": " | ".join(PERIODS)})
    if not first or not last:
        raise Invalid("Isi tanggal awal dan akhir periode.",
                      "Give both the first and the last day of the period.",
                      fields={"from": "required", "to": "required"})
    a, b = _parse_day(first, "from"), _parse_day(last, "to")
    if b < a:
        raise Invalid("Tanggal akhir sebelum tanggal awal.", "The last day is before the first.",
                      fields={"to": "before from"})
    if (b - a).days + 1 > MAX_DAYS:
        raise Invalid(f"Periode paling panjang {MAX_DAYS} hari.",
                      f"A period is at most {MAX_DAYS} days long.", fields={"to": "too long"})
    return Period("custom", a, b, zone)


def month_period(month: str | None, zone: str, now: datetime) -> Period:
    """A calendar month from 'YYYY-MM' (default: the current month)."""
    if not month:
        start = now.astimezone(ZoneInfo(zone)).date().replace(day=1)
    else:
        try:
            start = date.fromisoformat(month.strip()[:7] + "-01")
        except ValueError:
            raise Invalid(f"Bulan '{month}' tidak dikenal (gunakan TTTT-BB).",
                          f"'{month}' is not a month (use YYYY-MM).",
                          fields={"month": "YYYY-MM"}) from None
        in_range(start, "month")
    return Period("month", start, _month_end(start), zone)


def _month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)
