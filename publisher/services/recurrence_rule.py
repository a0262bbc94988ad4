"""The rule of a recurring post, without the database: validate it, and list its occurrences.

Occurrences are wall-clock times in the rule's zone (the unit's when the rule was saved):
"every Monday at 09.00" stays 09.00 local across a daylight-saving change in zones that have
one, so each occurrence is expanded as a local time by ``dateutil.rrule`` (a maintained
RFC 5545 implementation) and only then converted to UTC, one by one. A monthly rule on the
31st skips the months without one, as RFC 5545 says (no silent move to the 30th).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from publisher.services.errors import Invalid, Text

FREQUENCIES = ("daily", "weekly", "monthly_day", "monthly_nth")
#: A series is bounded: at most this many occurrences, ending at most this far ahead.
MAX_OCCURRENCES = 366
MAX_AHEAD = timedelta(days=731)
#: "the first / second / third / fourth / last Monday of the month".
NTHS = (1, 2, 3, 4, -1)
_WEEKDAYS = (rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA, rrule.SU)


@dataclass(frozen=True)
class Rule:
    """One series rule. ``weekdays`` are 0 = Monday … 6 = Sunday (Python's numbering).
    Exactly one of ``until`` (a local date, inclusive) and ``count`` ends it."""

    freq: str
    timezone: str
    weekdays: tuple[int, ...] = ()
    month_day: int | None = None
    nth: int | None = None
    until: date | None = None
    count: int | None = None

    def canonical(self) -> dict[str, Any]:
        """What the approval hash covers (``approval.content_hash_of``): the whole rule."""
        return {"freq": self.freq, "timezone": self.timezone, "weekdays": list(self.weekdays),
                "month_day": self.month_day, "nth": self.nth,
                "until": self.until.isoformat() if self.until else None, "count": self.count}


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?[0-9]{1,5}", value.strip()):
        return int(value.strip())  # ASCII digits only: int() refuses '²', isdigit() not
    return None


def parse_rule(raw: Mapping[str, Any], *, zone: str, start: datetime | None,
               now: datetime) -> Rule:
    """A rule from form or JSON values, or ``Invalid`` with one message per bad field.

    ``start`` is the post's time (UTC): the series' wall-clock time and first possible
    occurrence, so a recurring post needs one. The bounds (``MAX_OCCURRENCES``, ``MAX_AHEAD``)
    keep one post from filling the queue for years."""
    errors: dict[str, str] = {}
    freq = str(raw.get("freq") or "")
    if freq not in FREQUENCIES:
        errors["recurrence.freq"] = Text("Pilih cara pengulangan.", "Choose how it repeats.")
    if start is None:
        errors["scheduled_at"] = Text("Unggahan berulang membutuhkan waktu terbit pertama.",
                                      "A recurring post needs its first time.")
    weekdays: tuple[int, ...] = ()
    month_day = nth = None
    if freq == "weekly":
        days = raw.get("weekdays") or []
        parsed = [_int(d) for d in (days if isinstance(days, list | tuple) else [days])]
        if not parsed or any(d is None or not 0 <= d <= 6 for d in parsed):
            errors["recurrence.weekdays"] = Text("Pilih minimal satu hari.",
                                                 "Choose at least one day.")
        else:
            weekdays = tuple(sorted({d for d in parsed if d is not None}))
    elif freq == "monthly_day":
        month_day = _int(raw.get("month_day"))
        if month_day is None or not 1 <= month_day <= 31:
            errors["recurrence.month_day"] = Text("Tanggal harus 1 sampai 31.",
                                                  "The day must be 1 to 31.")
    elif freq == "monthly_nth":
        nth, weekday = _int(raw.get("nth")), _int(raw.get("weekday"))
        if nth not in NTHS:
            errors["recurrence.nth"] = Text("Pilih minggu ke berapa.", "Choose which week.")
        if weekday is None or not 0 <= weekday <= 6:
            errors["recurrence.weekday"] = Text("Pilih harinya.", "Choose the day.")
        else:
            weekdays = (weekday,)
    until, count = _end(raw, now, errors)
    if errors:
        raise Invalid("Periksa kembali pengulangan unggahan.",
                      "Please check how the post repeats.", fields=errors)
    rule = Rule(freq=freq, timezone=zone, weekdays=weekdays, month_day=month_day, nth=nth,
                until=until, count=count)
    assert start is not None
    n = sum(1 for _ in _local_iter(rule, start, MAX_OCCURRENCES + 1))
    if n == 0:
        raise Invalid("Pengulangan ini tidak menghasilkan satu pun jadwal.",
                      "This rule produces no occurrence at all.",
                      fields={"recurrence.until": Text("Tidak ada jadwal sebelum tanggal akhir.",
                                                       "No occurrence before the end date.")})
    if n > MAX_OCCURRENCES:
        raise Invalid(f"Paling banyak {MAX_OCCURRENCES} kali terbit per seri.",
                      f"A series holds at most {MAX_OCCURRENCES} occurrences.",
                      fields={"recurrence.until": Text(
                          f"Lebih dari {MAX_OCCURRENCES} kali; pilih tanggal akhir lebih awal.",
                          f"More than {MAX_OCCURRENCES} times; choose an earlier end date.")})
    return rule


def _end(raw: Mapping[str, Any], now: datetime,
         errors: dict[str, str]) -> tuple[date | None, int | None]:
    """The series' end: a date (not past, at most ``MAX_AHEAD``) or a count, exactly one."""
    until_raw, count_raw = raw.get("until") or None, raw.get("count") or None
    if (until_raw is None) == (count_raw is None):
        errors["recurrence.end"] = Text("Isi tanggal akhir atau jumlah kali, salah satu.",
                                        "Give an end date or a number of times, one of them.")
        return None, None
    if count_raw is not None:
        count = _int(count_raw)
        if count is None or not 1 <= count <= MAX_OCCURRENCES:
            errors["recurrence.count"] = Text(f"Jumlah kali harus 1 sampai {MAX_OCCURRENCES}.",
                                              f"The count must be 1 to {MAX_OCCURRENCES}.")
            return None, None
        return None, count
    try:
        until = until_raw if isinstance(until_raw, date) else date.fromisoformat(str(until_raw))
    except ValueError:
        errors["recurrence.until"] = Text("Tanggal akhir tidak valid (YYYY-MM-DD).",
                                          "The end date is not a date (YYYY-MM-DD).")
        return None, None
    if until < (now - timedelta(days=1)).date() or until > (now + MAX_AHEAD).date():
        errors["recurrence.until"] = Text("Tanggal akhir paling lambat 2 tahun ke depan.",
                                          "The end date is at most 2 years ahead.")
        return None, None
    return until, None


def _local_iter(rule: Rule, start: datetime, limit: int | None = None) -> Iterator[datetime]:
    """The occurrences as naive local times, from the start's local wall-clock time."""
    zone = ZoneInfo(rule.timezone)
    dtstart = start.astimezone(zone).replace(tzinfo=None, microsecond=0)
    kwargs: dict[str, Any] = {"dtstart": dtstart}
    if rule.count is not None:
        kwargs["count"] = rule.count
    if rule.until is not None:
        kwargs["until"] = datetime.combine(rule.until, time(23, 59, 59))
    if rule.freq == "daily":
        gen = rrule.rrule(rrule.DAILY, **kwargs)
    elif rule.freq == "weekly":
        gen = rrule.rrule(rrule.WEEKLY, byweekday=[_WEEKDAYS[d] for d in rule.weekdays],
                          **kwargs)
    elif rule.freq == "monthly_day":
        gen = rrule.rrule(rrule.MONTHLY, bymonthday=rule.month_day, **kwargs)
    else:
        gen = rrule.rrule(rrule.MONTHLY, byweekday=_WEEKDAYS[rule.weekdays[0]](rule.nth),
                          **kwargs)
    for i, dt in enumerate(gen):
        if limit is not None and i >= limit:
            return
        yield dt


def to_utc(local: datetime, zone: str) -> datetime:
    """A wall-clock time in ``zone`` to UTC. A time that does not exist that day (skipped by
    a spring-forward change) takes the offset before the change, so 02.30 becomes 03.30 local,
    as zoneinfo's ``fold=0`` does; an ambiguous autumn time takes its first instance."""
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def occurrences(rule: Rule, start: datetime, *, after: datetime | None = None,
                before: datetime | None = None, limit: int = MAX_OCCURRENCES) -> list[datetime]:
    """The series' occurrences in UTC, ``after`` <= t < ``before``, at most ``limit``."""
    out: list[datetime] = []
    for local in _local_iter(rule, start):
        at = to_utc(local, rule.timezone)
        if before is not None and at >= before:
            break
        if after is not None and at < after:
            continue
        out.append(at)
        if len(out) >= limit:
            break
    return out


def is_occurrence(rule: Rule, start: datetime, at: datetime) -> bool:
    """Whether ``at`` (UTC) is one of the series' own instants (a skip or a move names one)."""
    return at in occurrences(rule, start, after=at, before=at + timedelta(seconds=1), limit=1)
