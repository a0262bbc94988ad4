"""The per-post chart's time axis spans the snapshots (at least two hours), on round local steps;
one snapshot no longer gives Chart.js's three-year default range."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from web.reports.charts import MIN_SPAN, history_chart, time_axis

HOUR = 3600 * 1000
DAY = 24 * HOUR


def ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def test_one_snapshot_gets_a_two_hour_axis_around_it() -> None:
    at = datetime(2026, 11, 3, 3, 7, tzinfo=UTC)  # 10:07 WIB
    axis = time_axis([at], "Asia/Jakarta")
    assert axis is not None
    assert axis["min"] <= ms(at) <= axis["max"]
    assert MIN_SPAN.total_seconds() * 1000 <= axis["max"] - axis["min"] <= 3 * HOUR
    assert axis["step"] in (15 * 60 * 1000, 30 * 60 * 1000)
    assert (axis["min"] - ms(datetime(2026, 1, 1, tzinfo=UTC))) % axis["step"] == 0


def test_a_day_of_snapshots_spans_that_day() -> None:
    start = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    points = [start + timedelta(hours=h) for h in (1, 6, 20)]
    axis = time_axis(points, "Asia/Jakarta")
    assert axis is not None
    assert axis["min"] <= ms(points[0]) and axis["max"] >= ms(points[-1])
    assert axis["max"] - axis["min"] <= DAY + 2 * axis["step"]
    assert (axis["max"] - axis["min"]) / axis["step"] <= 9


def test_a_month_of_snapshots_has_whole_local_days() -> None:
    published = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
    points = [published + timedelta(hours=h) for h in (1, 6, 24, 72, 168, 720)]
    for zone, offset in (("Asia/Jakarta", 7), ("Asia/Jayapura", 9)):
        axis = time_axis(points, zone)
        assert axis is not None
        assert axis["step"] >= 2 * DAY and axis["step"] % DAY == 0
        assert (axis["min"] + offset * HOUR) % DAY == 0  # local midnight
        assert axis["min"] <= ms(points[0]) and ms(points[-1]) <= axis["max"]
        assert axis["max"] - axis["min"] <= 30 * DAY + 2 * axis["step"]


def test_no_snapshot_no_axis() -> None:
    assert time_axis([], "Asia/Jakarta") is None
    chart = history_chart(["facebook · Dinsos FB"], [[]], "Asia/Jakarta")
    assert chart == {"series": [{"label": "facebook · Dinsos FB", "points": []}], "x": None,
                     "zone": "Asia/Jakarta"}


def test_post_page_emits_the_axis(client, login_as, core, data):  # type: ignore[no-untyped-def]
    """The page's data for P2, whose only snapshot is on 21 November: a two-hour axis."""
    login_as("operator", "a")
    html = client.get(f"/laporan/unggahan/{data.posts['p2']}").get_data(as_text=True)
    raw = re.search(r'<script type="application/json" id="history-data">(.*?)</script>', html,
                    re.S)
    assert raw
    chart = json.loads(raw.group(1))
    [series] = chart["series"]
    [point] = series["points"]
    assert point == {"x": ms(datetime(2026, 11, 21, tzinfo=UTC)), "y": 8}
    assert chart["x"]["min"] <= point["x"] <= chart["x"]["max"]
    assert 2 * HOUR <= chart["x"]["max"] - chart["x"]["min"] <= 3 * HOUR
    assert chart["zone"] == "Asia/Jakarta"
