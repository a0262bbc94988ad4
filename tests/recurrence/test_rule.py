"""The recurrence rule engine alone (no database): wall-clock times per zone, month ends,
"the first Monday", and the bounds that keep a series small."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from publisher.services.errors import Invalid
from publisher.services.recurrence_rule import (
    MAX_OCCURRENCES,
    Rule,
    is_occurrence,
    occurrences,
    parse_rule,
)

NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)


def _local(dts: list[datetime], zone: str) -> list[str]:
    return [d.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") for d in dts]


@pytest.mark.parametrize(("zone", "utc_hour"), [("Asia/Jakarta", 2), ("Asia/Makassar", 1),
                                                ("Asia/Jayapura", 0)])
def test_daily_keeps_the_local_time_in_each_indonesian_zone(zone: str, utc_hour: int) -> None:
    start = datetime(2026, 6, 11, 9, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    rule = parse_rule({"freq": "daily", "count": 3}, zone=zone, start=start, now=NOW)
    got = occurrences(rule, start)
    assert _local(got, zone) == ["2026-06-11 09:00", "2026-06-12 09:00", "2026-06-13 09:00"]
    assert [d.hour for d in got] == [utc_hour] * 3


@pytest.mark.parametrize(("zone", "hours"), [
    ("Europe/Berlin", [7, 8, 8, 8]),         # 09:00 CEST (UTC+2), CET (UTC+1) from 25 Oct
    ("America/New_York", [13, 13, 14, 14]),  # 09:00 EDT (UTC-4), EST (UTC-5) from 1 Nov
])
def test_weekly_across_a_dst_change_keeps_the_wall_clock(zone: str, hours: list[int]) -> None:
    start = datetime(2026, 10, 19, 9, 0, tzinfo=ZoneInfo(zone)).astimezone(UTC)  # a Monday
    rule = parse_rule({"freq": "weekly", "weekdays": ["0"], "count": 4}, zone=zone,
                      start=start, now=NOW)
    got = occurrences(rule, start)
    assert all(d.endswith("09:00") for d in _local(got, zone))
    assert [d.hour for d in got] == hours
    change = hours.index(hours[-1])
    assert got[change] - got[change - 1] == timedelta(days=7, hours=1)


def test_monthly_on_the_31st_skips_months_without_one() -> None:
    start = datetime(2026, 1, 31, 2, 0, tzinfo=UTC)  # 09:00 WIB
    rule = Rule(freq="monthly_day", timezone="Asia/Jakarta", month_day=31, count=4)
    assert _local(occurrences(rule, start), "Asia/Jakarta") == [
        "2026-01-31 09:00", "2026-03-31 09:00", "2026-05-31 09:00", "2026-07-31 09:00"]


def test_the_first_monday_and_the_last_friday() -> None:
    start = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 08:00 WIB
    first = parse_rule({"freq": "monthly_nth", "nth": "1", "weekday": "0", "count": 3},
                       zone="Asia/Jakarta", start=start, now=NOW)
    assert _local(occurrences(first, start), "Asia/Jakarta") == [
        "2026-06-01 08:00", "2026-07-06 08:00", "2026-08-03 08:00"]
    last = Rule(freq="monthly_nth", timezone="Asia/Jakarta", weekdays=(4,), nth=-1, count=2)
    assert _local(occurrences(last, start), "Asia/Jakarta") == [
        "2026-06-26 08:00", "2026-07-31 08:00"]


def test_weekly_on_several_days_until_an_inclusive_end_date_in_wit() -> None:
    start = datetime(2026, 6, 15, 7, 30, tzinfo=ZoneInfo("Asia/Jayapura")).astimezone(UTC)
    rule = parse_rule({"freq": "weekly", "weekdays": [0, 2, 4], "until": "2026-06-22"},
                      zone="Asia/Jayapura", start=start, now=NOW)
    assert _local(occurrences(rule, start), "Asia/Jayapura") == [
        "2026-06-15 07:30", "2026-06-17 07:30", "2026-06-19 07:30", "2026-06-22 07:30"]
    assert rule.until == date(2026, 6, 22)


def test_window_and_membership() -> None:
    start = datetime(2026, 6, 11, 2, 0, tzinfo=UTC)
    rule = Rule(freq="daily", timezone="Asia/Jakarta", count=10)
    assert len(occurrences(rule, start, after=start + timedelta(days=2),
                           before=start + timedelta(days=4))) == 2
    assert is_occurrence(rule, start, start + timedelta(days=9))
    assert not is_occurrence(rule, start, start + timedelta(days=10))
    assert not is_occurrence(rule, start, start + timedelta(hours=3))


@pytest.mark.parametrize(("raw", "field"), [
    ({"freq": "hourly", "count": 2}, "recurrence.freq"),
    ({"freq": "weekly", "count": 2}, "recurrence.weekdays"),
    ({"freq": "weekly", "weekdays": ["7"], "count": 2}, "recurrence.weekdays"),
    ({"freq": "monthly_day", "month_day": "32", "count": 2}, "recurrence.month_day"),
    ({"freq": "monthly_nth", "nth": "5", "weekday": "0", "count": 2}, "recurrence.nth"),
    ({"freq": "monthly_nth", "nth": "1", "weekday": "x", "count": 2}, "recurrence.weekday"),
    ({"freq": "daily"}, "recurrence.end"),
    ({"freq": "daily", "count": 3, "until": "2026-07-01"}, "recurrence.end"),
    ({"freq": "daily", "count": str(MAX_OCCURRENCES + 1)}, "recurrence.count"),
    ({"freq": "daily", "count": "²"}, "recurrence.count"),
    ({"freq": "daily", "until": "2029-01-01"}, "recurrence.until"),
    ({"freq": "daily", "until": "kemarin"}, "recurrence.until"),
    ({"freq": "daily", "until": "2028-01-01"}, "recurrence.until"),  # > 366 occurrences
])
def test_bad_rules_are_field_errors(raw: dict, field: str) -> None:
    start = datetime(2026, 6, 11, 2, 0, tzinfo=UTC)
    with pytest.raises(Invalid) as err:
        parse_rule(raw, zone="Asia/Jakarta", start=start, now=NOW)
    assert field in err.value.fields


def test_a_rule_needs_a_start() -> None:
    with pytest.raises(Invalid) as err:
        parse_rule({"freq": "daily", "count": 2}, zone="Asia/Jakarta", start=None, now=NOW)
    assert "scheduled_at" in err.value.fields
