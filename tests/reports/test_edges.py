"""Report numbers at the edges, in each of Indonesia's three zones, with every expected figure
worked out by hand below (not by the code under test).

The documented semantics (``publisher/reports/period.py``, ``facts.py``): a period is whole
local days in the viewer's zone (an operator's unit zone, the installation's zone for an
admin), the half-open UTC interval [start, end). So a publication exactly at local midnight at
the period's end belongs to the NEXT period, and each publication is counted at its latest
snapshot collected strictly before ``end`` (a snapshot taken at the cutoff instant belongs to
the next period too). The engagement rate's denominator is reach, and views only where reach
is absent. A number the platform does not give is None (an empty cell, "Tidak tersedia"),
never 0.

One data set per unit, the same in local time for each zone (offset UTC+7/+8/+9):

  November 2026 in zone Z = [11-01 00:00, 12-01 00:00) local.
  A  facebook  published 11-01 00:00:00 local (the first instant)   snapshot 11-01 01:00
               likes 3, shares 1, reach 40                           -> engagements 4, rate 4/40
  B  facebook  published 11-30 23:00:00 local
               snapshot 11-30 23:59:59 likes 6, comments 1, saves 1, reach 80   (counted)
               snapshot 12-01 00:00:00 likes 60, comments 10, saves 10, reach 800 (at the cutoff:
               not counted)                                          -> engagements 8, rate 8/80
  C  facebook  published 12-01 00:00:00 local (exactly the end)      snapshot 12-01 01:00
               likes 100, reach 1000                                 -> December, not November
  D  facebook  published 11-15 12:00 local, snapshot 11-16
               likes 10, comments 2, reach 200 AND views 1000        -> engagements 12, rate
               12/200 = 0.06 (reach), not 12/1000
  E  telegram  published 11-10 09:00 local, snapshot views 500 only  -> engagements None,
               rate None
  G  x         published 11-20 09:00 local, snapshot likes 4, views 400 (no reach)
                                                                     -> engagements 4, rate 4/400
  H  x         published 11-25 09:00 local, snapshot likes 2, comments 1, no views, no reach
                                                                     -> engagements 3, no rate:
               counted in engagements, but neither in the rate's numerator nor denominator

  November totals: posts 6, publications 6 (A B D E G H); likes 3+6+10+4+2 = 25;
  comments 1+2+1 = 4; shares 1; saves 1; views 1000+500+400 = 1900; impressions None (nobody
  gives it); reach 40+80+200 = 320; engagements 4+8+12+4+3 = 31; rate over the rows with both
  engagements and a denominator (A B D G): (4+8+12+4) / (40+80+200+400) = 28/720.
  facebook: posts 3, likes 19, comments 3, shares 1, saves 1, views 1000, reach 320,
            engagements 24, rate 24/320 = 0.075.
  telegram: posts 1, views 500, every other number None, rate None.
  x:        posts 2, likes 6, comments 1, views 400, engagements 7, rate 4/400 = 0.01 (G only).
  days (local): 11-01 -> 4, 11-10 -> None, 11-15 -> 12, 11-20 -> 4, 11-25 -> 3, 11-30 -> 8.
  December: C only: posts 1, likes 100, reach 1000, engagements 100, rate 0.1.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from publisher.models import Unit
from publisher.services import org
from tests.reports.conftest import percent, read_csv, sheet_rows

#: unit key -> (zone, UTC offset in hours, zone label in exports)
ZONES = {"wib": ("Asia/Jakarta", 7, "WIB"), "wita": ("Asia/Makassar", 8, "WITA"),
         "wit": ("Asia/Jayapura", 9, "WIT")}
NOV = "from=2026-11-01&to=2026-11-30"
DEC = "from=2026-12-01&to=2026-12-31"


def local(offset: int, month: int, day: int, hour: int = 0, minute: int = 0,
          second: int = 0) -> datetime:
    """A wall-clock time in a fixed-offset zone, as UTC (Indonesia has no DST)."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC) - timedelta(hours=offset)


@dataclass
class Seeded:
    unit_id: int
    pubs: dict[str, int]


def _seed(core: Any, build: Any, key: str, zone: str, off: int) -> tuple[Unit, Seeded]:
    """One unit in ``zone`` with the data set of the module docstring."""
    with core.sessions.begin() as s:
        unit = org.create_unit(s, name=f"Unit {key.upper()}", slug=f"unit-{key}", timezone=zone)
        s.flush()
        fb = build.channel(s, unit, "facebook", f"FB {key}")
        tg = build.channel(s, unit, "telegram", f"TG {key}")
        xc = build.channel(s, unit, "x", f"X {key}")
        pubs: dict[str, Any] = {}

        def pub(name: str, ch: Any, at: datetime) -> Any:
            pubs[name] = build.pub(s, build.post(s, unit, f"Pos {name} {key}"), ch, at)
            return pubs[name]

        build.snap(s, pub("A", fb, local(off, 11, 1)), local(off, 11, 1, 1), likes=3, shares=1,
                   reach=40)
        b = pub("B", fb, local(off, 11, 30, 23))
        build.snap(s, b, local(off, 11, 30, 23, 59, 59), likes=6, comments=1, saves=1, reach=80)
        build.snap(s, b, local(off, 12, 1), likes=60, comments=10, saves=10, reach=800)
        build.snap(s, pub("C", fb, local(off, 12, 1)), local(off, 12, 1, 1), likes=100,
                   reach=1000)
        build.snap(s, pub("D", fb, local(off, 11, 15, 12)), local(off, 11, 16), likes=10,
                   comments=2, reach=200, views=1000)
        build.snap(s, pub("E", tg, local(off, 11, 10, 9)), local(off, 11, 11), views=500)
        build.snap(s, pub("G", xc, local(off, 11, 20, 9)), local(off, 11, 21), likes=4,
                   views=400)
        build.snap(s, pub("H", xc, local(off, 11, 25, 9)), local(off, 11, 26), likes=2,
                   comments=1)
        s.flush()
        return unit, Seeded(unit.id, {n: p.id for n, p in pubs.items()})


@pytest.fixture
def zoned(core, units, build) -> dict[str, Seeded]:  # type: ignore[no-untyped-def]
    """Three units, one per zone, each with the data set of the module docstring."""
    out: dict[str, Seeded] = {}
    for key, (zone, off, _label) in ZONES.items():
        units[key], out[key] = _seed(core, build, key, zone, off)  # login_as(role, key) finds it
    return out


NOVEMBER_TOTALS = {"posts": 6, "publications": 6, "likes": 25, "comments": 4, "shares": 1,
                   "views": 1900, "impressions": None, "reach": 320, "saves": 1,
                   "engagements": 31}
BY_PLATFORM = {
    "facebook": {"posts": 3, "publications": 3, "likes": 19, "comments": 3, "shares": 1,
                 "views": 1000, "impressions": None, "reach": 320, "saves": 1,
                 "engagements": 24},
    "telegram": {"posts": 1, "publications": 1, "likes": None, "comments": None,
                 "shares": None, "views": 500, "impressions": None, "reach": None,
                 "saves": None, "engagements": None},
    "x": {"posts": 2, "publications": 2, "likes": 6, "comments": 1, "shares": None,
          "views": 400, "impressions": None, "reach": None, "saves": None, "engagements": 7},
}
RATES = {"facebook": 0.075, "telegram": None, "x": 0.01}
FIGURE_KEYS = ("posts", "publications", "likes", "comments", "shares", "views", "impressions",
               "reach", "saves", "engagements")


def _figures(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in FIGURE_KEYS}


def _rate(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None
    else:
        assert value == pytest.approx(expected)


@pytest.mark.parametrize("zone_key", list(ZONES))
def test_api_period_edges_snapshot_cutoff_and_denominator(api_as, make_user, zoned,
                                                          zone_key):  # type: ignore[no-untyped-def]
    """An operator of the unit sees November in the unit's zone: A (the first instant) and B
    (the last hour) are in, C (exactly at the end) is not; B counts its snapshot of the last
    second, not the one at the cutoff; D's rate is over reach; unknown numbers are null."""
    zone, off, _ = ZONES[zone_key]
    api = api_as(make_user("operator", zone_key))
    body = api.get(f"/reports/engagement?{NOV}&group_by=platform").get_json()
    assert body["timezone"] == zone
    # the cutoff: 2026-12-01 00:00 local
    assert datetime.fromisoformat(body["as_of"].replace("Z", "+00:00")) == local(off, 12, 1)
    assert _figures(body["totals"]) == NOVEMBER_TOTALS
    assert body["totals"]["engagement_rate"] == pytest.approx(28 / 720)
    rows = {r["key"]: r for r in body["rows"]}
    assert set(rows) == set(BY_PLATFORM)
    for platform, expected in BY_PLATFORM.items():
        assert _figures(rows[platform]) == expected, platform
        _rate(rows[platform]["engagement_rate"], RATES[platform])
    # the period before November (2026-10-02..10-31 local) has nothing: counts 0, numbers null
    prev = body["previous_totals"]
    assert (prev["posts"], prev["likes"], prev["engagements"], prev["engagement_rate"]) == (
        0, None, None, None)

    days = api.get(f"/reports/engagement?{NOV}&group_by=day").get_json()["rows"]
    assert [(r["key"], r["engagements"]) for r in days] == [
        ("2026-11-01", 4), ("2026-11-10", None), ("2026-11-15", 12), ("2026-11-20", 4),
        ("2026-11-25", 3), ("2026-11-30", 8)]

    dec = api.get(f"/reports/engagement?{DEC}&group_by=platform").get_json()
    assert _figures(dec["totals"]) == {"posts": 1, "publications": 1, "likes": 100,
                                       "comments": None, "shares": None, "views": None,
                                       "impressions": None, "reach": 1000, "saves": None,
                                       "engagements": 100}
    assert dec["totals"]["engagement_rate"] == pytest.approx(0.1)


@pytest.mark.parametrize("zone_key", list(ZONES))
def test_csv_exports_at_the_edges(client, login_as, zoned, zone_key):  # type: ignore[no-untyped-def]
    _zone, _off, label = ZONES[zone_key]
    login_as("operator", zone_key)
    r = client.get(f"/laporan/ekspor.csv?table=publications&{NOV}")
    assert f";Waktu terbit ({label});" in r.get_data(as_text=True).splitlines()[0]
    rows = read_csv(r)
    ids = zoned[zone_key].pubs
    by_id = {int(row["publication_id"]): row for row in rows}
    assert set(by_id) == {ids["A"], ids["B"], ids["D"], ids["E"], ids["G"], ids["H"]}  # not C
    a, b, d, e = (by_id[ids[n]] for n in "ABDE")
    assert a["published_at"] == "2026-11-01 00:00"
    assert b["published_at"] == "2026-11-30 23:00"
    # B at its last-second snapshot, not the one at the cutoff
    assert (b["likes"], b["comments"], b["saves"], b["reach"], b["engagements"]) == (
        "6", "1", "1", "80", "8")
    # D has reach 200 and views 1000: the rate is 12 / 200
    assert (d["reach"], d["views"], d["engagements"]) == ("200", "1000", "12")
    assert d["engagement_rate"] == "6,00%"
    # Telegram gives views only: everything else is empty, never 0
    assert (e["views"], e["likes"], e["comments"], e["reach"], e["engagements"],
            e["engagement_rate"]) == ("500", "", "", "", "", "")

    plat = {row["platform"]: row for row in read_csv(client.get(
        f"/laporan/ekspor.csv?table=platform&{NOV}"))}
    assert (plat["telegram"]["views"], plat["telegram"]["likes"],
            plat["telegram"]["engagements"], plat["telegram"]["engagement_rate"]) == (
        "500", "", "", "")
    assert (plat["facebook"]["engagements"], plat["facebook"]["reach"],
            plat["facebook"]["impressions"]) == ("24", "320", "")
    assert percent(plat["facebook"]["engagement_rate"]) == pytest.approx(0.075)

    dec = read_csv(client.get(f"/laporan/ekspor.csv?table=publications&{DEC}"))
    assert [(int(x["publication_id"]), x["published_at"], x["likes"]) for x in dec] == [
        (ids["C"], "2026-12-01 00:00", "100")]


@pytest.mark.parametrize("zone_key", list(ZONES))
def test_xlsx_export_at_the_edges(client, login_as, zoned, zone_key):  # type: ignore[no-untyped-def]
    _zone, _off, label = ZONES[zone_key]
    login_as("operator", zone_key)
    r = client.get(f"/laporan/ekspor.xlsx?{NOV}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    _, sheet = sheet_rows(wb, "platform")
    rows = {row["platform"]: row for row in sheet}
    for platform, expected in BY_PLATFORM.items():
        assert {k: rows[platform][k] for k in FIGURE_KEYS} == expected, platform
        _rate(rows[platform]["engagement_rate"], RATES[platform])
    head, pubs = sheet_rows(wb, "publications")
    assert f"Waktu terbit ({label})" in head
    by_id = {row["publication_id"]: row for row in pubs}
    ids = zoned[zone_key].pubs
    assert set(by_id) == {ids["A"], ids["B"], ids["D"], ids["E"], ids["G"], ids["H"]}
    assert by_id[ids["A"]]["published_at"] == datetime(2026, 11, 1, 0, 0)  # local wall clock
    assert by_id[ids["B"]]["published_at"] == datetime(2026, 11, 30, 23, 0)
    assert by_id[ids["D"]]["engagement_rate"] == pytest.approx(0.06)
    telegram = by_id[ids["E"]]
    assert (telegram["views"], telegram["likes"], telegram["engagements"],
            telegram["engagement_rate"]) == (500, None, None, None)
    _, day_rows = sheet_rows(wb, "day")
    days = {row["day"]: row for row in day_rows}
    assert sorted(days) == [datetime(2026, 11, d) for d in (1, 10, 15, 20, 25, 30)]
    # H has engagements but no denominator: a rate of its own it has not
    h = by_id[ids["H"]]
    assert (h["engagements"], h["views"], h["reach"], h["engagement_rate"]) == (3, None, None,
                                                                               None)


def _table_rows(html: str, table_id: str) -> dict[str, list[str]]:
    """{row label: [data-value of each figure cell]} of one breakdown table of the page."""
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match, table_id
    out = {}
    for row in re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", match.group(0), re.S):
        label = re.sub(r"<.*", "", row, flags=re.S).strip()
        out[label] = re.findall(r'data-value="([^"]*)"', row)
    return out


def _cell_texts(html: str, table_id: str, label: str) -> list[str]:
    match = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert match
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', match.group(0), re.S)
    assert row, label
    return [t.strip() for t in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)]


@pytest.mark.parametrize("zone_key", list(ZONES))
def test_page_at_the_edges(client, login_as, zoned, zone_key):  # type: ignore[no-untyped-def]
    login_as("operator", zone_key)
    html = client.get(f"/laporan/?{NOV}").get_data(as_text=True)
    rows = _table_rows(html, "table-platform")
    # posts, publications, likes, comments, shares, views, impressions, reach, saves,
    # engagements, rate
    assert rows["Facebook"][:10] == ["3", "3", "19", "3", "1", "1000", "", "320", "1", "24"]
    assert float(rows["Facebook"][10]) == pytest.approx(0.075)
    assert rows["Telegram"] == ["1", "1", "", "", "", "500", "", "", "", "", ""]
    assert rows["X"][:10] == ["2", "2", "6", "1", "", "400", "", "", "", "7"]
    assert float(rows["X"][10]) == pytest.approx(0.01)
    texts = _cell_texts(html, "table-platform", "Telegram")
    # likes, comments, engagements, rate: said to be unknown, not printed as 0
    assert [texts[i] for i in (2, 3, 9, 10)] == ["Tidak tersedia"] * 4
    cards = {k: re.search(rf'id="total-{k}".*?card-value">(.*?)</div>', html, re.S)
             for k in ("posts", "engagements", "reach", "views")}
    assert {k: m.group(1).strip() if m else None for k, m in cards.items()} == {
        "posts": "6", "engagements": "31", "reach": "320", "views": "1.900"}
    assert f"Pos C {zone_key}" not in html  # published at the end instant: December's


def test_admin_reads_every_unit_in_the_installation_zone(api_as, make_user, zoned):  # type: ignore[no-untyped-def]
    """An admin's November is WIB's: [10-31 17:00, 11-30 17:00) UTC. For the WIT unit that
    moves A (10-31 15:00 UTC) out and C (11-30 15:00 UTC) in, and B is counted at the snapshot
    of 11-30 15:00 UTC (WIT's cutoff, before WIB's): likes 60, reach 800; C's snapshot at
    11-30 16:00 UTC counts: likes 100, reach 1000. For the WITA unit A is 10-31 16:00 UTC
    (out), C 11-30 16:00 UTC (in), B at its 11-30 16:00 UTC snapshot (60, 800), and C's only
    snapshot is at 12-01 01:00 WITA = 11-30 17:00 UTC, exactly the admin's cutoff: not counted,
    so C is in the period with no numbers."""
    api = api_as(make_user("admin", None))
    for key, expected in (
            ("wit", {"posts": 6, "likes": 60 + 100 + 10 + 4 + 2, "reach": 800 + 1000 + 200}),
            ("wita", {"posts": 6, "likes": 60 + 10 + 4 + 2, "reach": 800 + 200}),
            ("wib", {"posts": 6, "likes": 25, "reach": 320})):
        body = api.get(f"/reports/engagement?{NOV}&unit={zoned[key].unit_id}").get_json()
        assert body["timezone"] == "Asia/Jakarta"
        got = body["totals"]
        assert {k: got[k] for k in expected} == expected, key


@pytest.mark.parametrize(("clock", "expected"), [
    # 2026-06-30 16:59:59 UTC: 23:59:59 WIB on the 30th, already 1 July in WITA and WIT
    ("month-end-wib", {"wib": "2026-06-01", "wita": "2026-07-01", "wit": "2026-07-01"}),
    # one second later every zone is in July
    (datetime(2026, 6, 30, 17, tzinfo=UTC),
     {"wib": "2026-07-01", "wita": "2026-07-01", "wit": "2026-07-01"}),
    # 14:59:59 UTC: WIT 23:59:59 on the 30th, the others earlier
    (datetime(2026, 6, 30, 14, 59, 59, tzinfo=UTC),
     {"wib": "2026-06-01", "wita": "2026-06-01", "wit": "2026-06-01"}),
], indirect=["clock"])
def test_this_month_is_the_units_local_month(api_as, make_user, zoned, clock, expected):  # type: ignore[no-untyped-def]
    for key, first in expected.items():
        body = api_as(make_user("operator", key)).get(
            "/reports/engagement?period=this_month").get_json()
        assert body["from"] == first, key
        assert body["to"] == {"2026-06-01": "2026-06-30", "2026-07-01": "2026-07-31"}[first]
