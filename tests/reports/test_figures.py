"""Report figures against hand-computed values (see conftest.py for the data set)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher.reports import engagement as e
from publisher.reports.report import engagement_report, parse_request, totals_with_change
from tests.reports.conftest import NOVEMBER

NOW = datetime(2026, 12, 10, tzinfo=UTC)


def req(user, args=NOVEMBER):  # type: ignore[no-untyped-def]
    return parse_request(args, user, NOW, "Asia/Jakarta")


@pytest.fixture
def admin(viewer):  # type: ignore[no-untyped-def]
    return viewer("admin", None)


@pytest.fixture
def op_a(viewer):  # type: ignore[no-untyped-def]
    return viewer("operator", "a")


def test_period_is_whole_local_days(admin, data):  # type: ignore[no-untyped-def]
    r = req(admin)
    assert r.filter.start == datetime(2026, 10, 31, 17, tzinfo=UTC)
    assert r.filter.end == datetime(2026, 11, 30, 17, tzinfo=UTC)
    assert (r.period.previous().first_day.isoformat(), r.period.previous().last_day.isoformat()
            ) == ("2026-10-02", "2026-10-31")


def test_totals_all_units(session, admin, data):  # type: ignore[no-untyped-def]
    t = totals_with_change(session, admin, req(admin))
    cur = t["current"]
    assert cur == {"posts": 4, "publications": 5, "likes": 35, "comments": 8, "shares": 8,
                   "views": 200, "impressions": 150, "reach": 440, "saves": 2,
                   "engagements": 53, "engagement_rate": pytest.approx(53 / 440)}
    prev = t["previous"]
    assert (prev["posts"], prev["engagements"], prev["reach"]) == (1, 4, 20)
    assert prev["views"] is None  # unknown stays unknown, not 0
    assert t["change"]["engagements"] == pytest.approx((53 - 4) / 4)
    assert t["change"]["views"] is None


def test_totals_scoped_to_operator_unit(session, op_a, data):  # type: ignore[no-untyped-def]
    cur = totals_with_change(session, op_a, req(op_a))["current"]
    assert cur == {"posts": 3, "publications": 4, "likes": 15, "comments": 3, "shares": 3,
                   "views": 200, "impressions": 150, "reach": 140, "saves": 2,
                   "engagements": 23, "engagement_rate": pytest.approx(23 / 140)}
    # asking for the other unit explicitly gives nothing, not its numbers
    other = req(op_a, {**NOVEMBER, "unit": str(data.units["b"].id)})
    assert e.totals(session, op_a, other.filter)["publications"] == 0


def test_latest_snapshot_as_of_period_end(session, admin, data):  # type: ignore[no-untyped-def]
    r = req(admin, {**NOVEMBER, "channel": str(data.channels["afb"])})
    rows = {row.publication_id: row for row in e.publication_rows(session, admin, r.filter)}
    pub1 = rows[data.pubs["pub1"]]
    assert (pub1.likes, pub1.comments, pub1.shares, pub1.saves, pub1.reach) == (10, 2, 3, None,
                                                                                100)
    assert pub1.engagements == 15 and pub1.denominator == 100
    p4 = rows[data.pubs["p4"]]
    assert p4.likes is None and p4.engagements is None
    # as of mid-November only the first snapshot exists
    mid = req(admin, {"from": "2026-11-01", "to": "2026-11-05"})
    t = e.totals(session, admin, mid.filter.__class__(**{**mid.filter.__dict__,
                                                          "channel_id": data.channels["afb"]}))
    assert (t["likes"], t["reach"], t["engagements"]) == (1, 10, 1)


def test_breakdowns(session, admin, data):  # type: ignore[no-untyped-def]
    r = req(admin)
    by_platform = {x["key"]: x for x in e.breakdown(session, admin, r.filter, "platform", r.zone)}
    assert by_platform["facebook"]["engagements"] == 53
    assert by_platform["facebook"]["publications"] == 4
    assert by_platform["telegram"]["engagements"] is None
    assert by_platform["telegram"]["views"] == 200
    assert by_platform["telegram"]["engagement_rate"] is None
    by_campaign = {x["key"]: x for x in e.breakdown(session, admin, r.filter, "campaign", r.zone)}
    assert by_campaign[data.campaign]["engagements"] == 15
    assert by_campaign[data.campaign]["label"] == "Penanganan Kemiskinan"
    assert by_campaign[None]["engagements"] == 38
    by_unit = {x["label"]: x for x in e.breakdown(session, admin, r.filter, "unit", r.zone)}
    assert by_unit["Dinas Sosial"]["engagements"] == 23
    assert by_unit["Bappeda"]["engagements"] == 30
    by_channel = e.breakdown(session, admin, r.filter, "channel", r.zone)
    assert [x["label"] for x in by_channel][:2] == ["Bappeda FB", "Dinsos FB"]
    by_day = [(x["key"], x["engagements"]) for x in
              e.breakdown(session, admin, r.filter, "day", r.zone)]
    # 2026-11-20 00:00 UTC is 07:00 WIB on the 20th
    assert by_day == [("2026-11-03", 15), ("2026-11-05", 30), ("2026-11-20", 8),
                      ("2026-11-25", None)]


def test_over_time_and_top_posts(session, admin, data):  # type: ignore[no-untyped-def]
    r = req(admin)
    series = [(x["day"], x["platform"], x["engagements"], x["views"])
              for x in e.over_time(session, admin, r.filter, r.zone)]
    assert series[:2] == [("2026-11-03", "facebook", 15, None),
                          ("2026-11-03", "telegram", None, 200)]
    top = e.top_posts(session, admin, r.filter)
    assert [t["post_id"] for t in top] == [data.posts["p3"], data.posts["p1"], data.posts["p2"]]
    p1 = top[1]
    assert p1["engagements"] == 15 and len(p1["channels"]) == 2
    assert {c["platform"]: c["engagements"] for c in p1["channels"]} == {"facebook": 15,
                                                                        "telegram": None}
    assert p1["channels"][0]["permalink"].startswith("https://www.facebook.com/warta/")


def test_api_function_same_numbers(session, admin, data):  # type: ignore[no-untyped-def]
    out = engagement_report(session, admin, {**NOVEMBER, "group_by": "unit"}, NOW,
                            "Asia/Jakarta")
    assert out["totals"]["engagements"] == 53
    assert sum(r["engagements"] or 0 for r in out["rows"]) == 53
    assert out["from"] == "2026-11-01" and out["to"] == "2026-11-30"


def test_unpublished_never_counted(session, admin, data):  # type: ignore[no-untyped-def]
    r = req(admin)
    ids = {row.publication_id for row in e.publication_rows(session, admin, r.filter)}
    assert data.posts["p5"] not in {row.post_id for row in
                                    e.publication_rows(session, admin, r.filter)}
    assert len(ids) == 5
