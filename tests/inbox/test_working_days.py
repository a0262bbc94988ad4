"""Deadlines in working days: weekends, an Indonesian public holiday, a regional day off set
by an admin, and the unit's own zone deciding which day a comment arrived on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from publisher.models import DayOff
from publisher.services.working_days import add_working_days, due_at, is_working_day

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")


def test_five_days_across_a_weekend_and_a_holiday() -> None:
    # Wednesday 10 June 2026; Tuesday 16 June is the Islamic New Year (1 Muharram 1448).
    assert not is_working_day(date(2026, 6, 16))
    assert not is_working_day(date(2026, 6, 13)) and not is_working_day(date(2026, 6, 14))
    arrived = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10.00 WIB
    # Thu 11, Fri 12, (weekend), Mon 15, (holiday), Wed 17, Thu 18 -> due at the end of the 18th
    assert add_working_days(arrived, 5, "Asia/Jakarta") == datetime(2026, 6, 19, tzinfo=WIB)


def test_the_units_zone_decides_the_day_of_arrival() -> None:
    # Friday 12 June 2026 16:30 UTC is still Friday in Jakarta (23.30) but Saturday in
    # Jayapura (01.30): Jakarta counts from Monday 15, Jayapura too, yet one day differs.
    arrived = datetime(2026, 6, 12, 16, 30, tzinfo=UTC)
    jakarta = add_working_days(arrived, 1, "Asia/Jakarta")
    jayapura = add_working_days(arrived, 1, "Asia/Jayapura")
    assert jakarta == datetime(2026, 6, 16, tzinfo=WIB)  # Mon 15 is the first working day
    assert jayapura == datetime(2026, 6, 16, tzinfo=WIT)
    thursday = datetime(2026, 6, 11, 16, 30, tzinfo=UTC)  # Thu 23.30 WIB, Fri 01.30 WIT
    assert add_working_days(thursday, 1, "Asia/Jakarta") == datetime(2026, 6, 13, tzinfo=WIB)
    assert add_working_days(thursday, 1, "Asia/Jayapura") == datetime(2026, 6, 16, tzinfo=WIT)


def test_regional_days_off_of_the_unit_and_of_everyone(core, units) -> None:  # type: ignore[no-untyped-def]
    unit = units["a"]
    arrived = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
    with core.sessions.begin() as s:
        s.add(DayOff(unit_id=unit.id, day=date(2026, 6, 11), note="Hari jadi kabupaten"))
        s.add(DayOff(unit_id=None, day=date(2026, 6, 12), note="Cuti bersama"))
        s.add(DayOff(unit_id=units["b"].id, day=date(2026, 6, 15), note="another unit's"))
    with core.sessions() as s:
        due = due_at(s, unit.id, "Asia/Jakarta", arrived)
        other = due_at(s, units["b"].id, "Asia/Jakarta", arrived)
    # Unit a: Mon 15, Wed 17, Thu 18, Fri 19, Mon 22 (11th and 12th off)
    assert due.astimezone(WIB) == datetime(2026, 6, 23, tzinfo=WIB)
    # Unit b: 11th works, 12th off (everyone), 15th off (its own): 11, 17, 18, 19, 22
    assert other.astimezone(WIB) == datetime(2026, 6, 23, tzinfo=WIB)
    with core.sessions() as s:
        assert due_at(s, unit.id, "Asia/Jakarta", arrived, days=1).astimezone(WIB) == \
            datetime(2026, 6, 16, tzinfo=WIB)
        assert due_at(s, units["b"].id, "Asia/Jakarta", arrived, days=1).astimezone(WIB) == \
            datetime(2026, 6, 12, tzinfo=WIB)
