"""Best time to post: weekday × hour in the unit's zone, median rate, small cells hidden."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import literal, select

from postqueue.models import UTCDateTime
from publisher.models import Unit
from publisher.reports import engagement as e
from publisher.reports import zones
from publisher.reports.facts import ReportFilter
from tests.reports.conftest import utc


def _post(s, build, unit, ch, at, likes, reach):  # type: ignore[no-untyped-def]
    p = build.post(s, unit, "x")
    pub = build.pub(s, p, ch, at)
    build.snap(s, pub, utc(2026, 11, 28), likes=likes, reach=reach)


def test_heatmap_uses_unit_zone_and_median(core, units, build, viewer):  # type: ignore[no-untyped-def]
    _check_heatmap(core, units, build, viewer)


@pytest.mark.sqlite_only
def test_heatmap_without_unixepoch(core, units, build, viewer, monkeypatch):  # type: ignore[no-untyped-def]
    """SQLite before 3.38 has no unixepoch(); the fallback gives the same cells."""
    monkeypatch.setattr(zones, "HAS_UNIXEPOCH", False)
    _check_heatmap(core, units, build, viewer)


def test_local_parts_at_midnight_boundaries(core):  # type: ignore[no-untyped-def]
    """17:00:00 UTC is 00:00 WIB of the next day; 16:59:59 is still 23h the day before."""
    s = core.sessions()
    rows = []
    for at in (utc(2026, 11, 2, 17), datetime(2026, 11, 2, 16, 59, 59, 999000, tzinfo=UTC),
               utc(2026, 11, 2, 15)):
        col = literal(at, UTCDateTime())
        lt = zones.LocalTime(s, col, "Asia/Jakarta")
        rows.append(tuple(s.execute(select(lt.day(), lt.weekday(), lt.hour())).one()))
    assert rows == [("2026-11-03", 1, 0), ("2026-11-02", 0, 23), ("2026-11-02", 0, 22)]


def _check_heatmap(core, units, build, viewer):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        a = s.get(Unit, units["a"].id)  # WIB
        b = s.get(Unit, units["b"].id)
        b.timezone = "Asia/Jayapura"  # WIT, UTC+9
        cha = build.channel(s, a, "facebook", "A")
        chb = build.channel(s, b, "facebook", "B")
        # 06:30 WIB on Tuesday 2026-11-03 is 23:30 UTC on Monday 2026-11-02.
        for likes in (1, 2, 6):
            _post(s, build, a, cha, utc(2026, 11, 2, 23, 30), likes, 10)
        # four posts at 10:00 WIT Wednesday (01:00 UTC Wednesday): rates .1 .2 .3 .9
        for likes in (1, 2, 3, 9):
            _post(s, build, b, chb, utc(2026, 11, 4, 1), likes, 10)
        # two posts on Friday 15h WIB: too few, hidden
        for likes in (5, 5):
            _post(s, build, a, cha, utc(2026, 11, 6, 8), likes, 10)
        # no rate (no denominator): not counted anywhere
        _post(s, build, a, cha, utc(2026, 11, 2, 23, 30), 7, None)
    admin = viewer("admin", None)
    flt = ReportFilter(start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1,
                                                                          tzinfo=UTC))
    hm = e.heatmap(core.sessions(), admin, flt)
    cells = {(c["weekday"], c["hour"]): c for c in hm["cells"]}
    assert (0, 23) not in cells  # not Monday 23h
    tue = cells[(1, 6)]
    assert tue["posts"] == 3 and tue["median_rate"] == pytest.approx(0.2)
    wed = cells[(2, 10)]
    assert wed["posts"] == 4 and wed["median_rate"] == pytest.approx(0.25)
    fri = cells[(4, 15)]
    assert fri["hidden"] and fri["posts"] == 2 and fri["median_rate"] is None
    assert len(cells) == 3
