"""The weekly unit activity score: figures computed by hand, the ranking, None handling and
who sees what on /laporan/skor.

Week under test: 2026-W23 (Monday 2026-06-01), the last complete week before TEST_NOW
(Wednesday 2026-06-10 03:00 UTC). Unit a (Dinas Sosial, WIB), unit b (Bappeda, set to WITA),
unit c (Dinas Kosong, WIB, nothing at all).

unit a: channels a-fb active, a-tg needs_reauth, a-x disabled (not counted) → channels 1/2 = 50
  W23 planned: pa1 06-02 02:00 published 02:10 (on time), pa2 06-03 02:00 published 03:00
        (60 min late), pa3 06-04 failed, pa4 06-05 cancelled (not planned)
        → plan 2/3 = 66.67, on time 1/2 = 50
  engagement: W23 likes 10+5 over reach 100+100 = 0.075; W22 0.10, W21 0.20: median 0.15
        → 50 × 0.075 / 0.15 = 25
  complaints due in W23: one answered in time, one still new, one answered late → 1/3 = 33.33
        (a question due in W23 and a complaint due in W24 don't count)
  score = (30×66.67 + 20×50 + 15×50 + 20×25 + 15×33.33) / 100 = 47.5
  W22: plan 1/1, on time 1/1; channels unknown (no history); engagement: one past week only
        → None; score 100
unit b: channel b-fb active → 100; pb1 06-02 03:00 published on time → plan 100, on time 100;
  no past engagement → None; no complaints → None; score (30+20+15)×100/65 = 100
unit c: no component → no score, ranked last without a rank.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from publisher.models import ChannelStatus, PublicationStatus, Unit
from publisher.models.inbox import CitizenComment
from publisher.reports import score as sc
from publisher.services import org
from tests.reports.conftest import utc

W23, W22 = date(2026, 6, 1), date(2026, 5, 25)


@pytest.fixture
def sdata(core, units, build):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        a, b = s.get(Unit, units["a"].id), s.get(Unit, units["b"].id)
        b.timezone = "Asia/Makassar"
        c = org.create_unit(s, name="Dinas Kosong", slug="kosong")
        afb = build.channel(s, a, "facebook", "Dinsos FB")
        atg = build.channel(s, a, "telegram", "Dinsos Telegram")
        atg.status = ChannelStatus.NEEDS_REAUTH
        ax = build.channel(s, a, "x", "Dinsos X")
        ax.status = ChannelStatus.DISABLED
        bfb = build.channel(s, b, "facebook", "Bappeda FB")

        def pub(unit, ch, sched, published=None, status=PublicationStatus.PUBLISHED, **m):  # type: ignore[no-untyped-def]
            p = build.pub(s, build.post(s, unit, "x"), ch, published, status=status)
            p.scheduled_at = sched
            if m:
                build.snap(s, p, (published or sched) + timedelta(hours=5), **m)
            return p

        pa1 = pub(a, afb, utc(2026, 6, 2, 2), utc(2026, 6, 2, 2, 10), likes=10, reach=100)
        pub(a, afb, utc(2026, 6, 3, 2), utc(2026, 6, 3, 3), likes=5, reach=100)
        pub(a, afb, utc(2026, 6, 4, 2), None, status=PublicationStatus.FAILED)
        pub(a, afb, utc(2026, 6, 5, 2), None, status=PublicationStatus.CANCELLED)
        pub(a, afb, utc(2026, 5, 26, 2), utc(2026, 5, 26, 2), likes=10, reach=100)  # W22
        pub(a, afb, utc(2026, 5, 19, 2), utc(2026, 5, 19, 2), likes=20, reach=100)  # W21
        pub(b, bfb, utc(2026, 6, 2, 3), utc(2026, 6, 2, 3))
        n = iter(range(100))

        def comment(category, status, due, responded=None):  # type: ignore[no-untyped-def]
            s.add(CitizenComment(channel_id=afb.id, publication_id=pa1.id, platform="facebook",
                                 external_id=f"c{next(n)}", posted_at=utc(2026, 6, 2, 5),
                                 category=category, status=status, origin_unit_id=a.id,
                                 unit_id=a.id, due_at=due, responded_at=responded))

        comment("aduan", "ditanggapi", utc(2026, 6, 4), utc(2026, 6, 3))
        comment("aduan", "baru", utc(2026, 6, 4))
        comment("aduan", "selesai", utc(2026, 6, 4), utc(2026, 6, 5))
        comment("pertanyaan", "baru", utc(2026, 6, 4))
        comment("aduan", "baru", utc(2026, 6, 9))
        return {"a": a.id, "b": b.id, "c": c.id}


def _by(rows):  # type: ignore[no-untyped-def]
    return {r.unit: r for r in rows}


def test_hand_computed_scores_and_ranking(core, session, sdata):  # type: ignore[no-untyped-def]
    weeks = sc.scores(session, [W22, W23], core.now())
    rows = weeks[W23]
    assert [r.unit for r in rows] == ["Bappeda", "Dinas Sosial", "Dinas Kosong"]
    assert [r.rank for r in rows] == [1, 2, None]
    a, b, c = _by(rows)["Dinas Sosial"], _by(rows)["Bappeda"], _by(rows)["Dinas Kosong"]
    assert a.components == pytest.approx({"plan": 200 / 3, "on_time": 50.0, "channels": 50.0,
                                          "engagement": 25.0, "complaints": 100 / 3})
    assert a.score == pytest.approx(47.5)
    assert a.missing == []
    assert b.components == {"plan": 100.0, "on_time": 100.0, "channels": 100.0,
                            "engagement": None, "complaints": None}
    assert b.missing == ["engagement", "complaints"]
    assert b.score == pytest.approx(100.0)
    assert b.week.zone == "Asia/Makassar" and a.week.zone == "Asia/Jakarta"
    assert c.score is None and c.missing == list(sc.COMPONENTS)
    # The week before: channel health has no history; one past engagement week is too few.
    a22 = _by(weeks[W22])["Dinas Sosial"]
    assert a22.components == {"plan": 100.0, "on_time": 100.0, "channels": None,
                              "engagement": None, "complaints": None}
    assert a22.score == pytest.approx(100.0)


def test_engagement_component_edges() -> None:
    assert sc.engagement_component(None, [0.1, 0.2]) is None
    assert sc.engagement_component(0.1, [0.1]) is None  # too few past weeks
    assert sc.engagement_component(0.1, [0.0, 0.0]) is None  # no usual level to compare with
    assert sc.engagement_component(0.1, [0.1, 0.1]) == 50.0
    assert sc.engagement_component(1.0, [0.1, 0.1]) == 100.0  # capped


def test_unit_without_score_has_no_made_up_zero() -> None:
    r = sc.UnitScore(1, "x", None, {c: None for c in sc.COMPONENTS})  # type: ignore[arg-type]
    assert r.score is None
    rows = sc.rank([r, sc.UnitScore(2, "y", None, {"plan": 0.0})])  # type: ignore[arg-type]
    assert [x.unit for x in rows] == ["y", "x"] and rows[0].score == 0.0


def _units_in(html: str, table: str) -> list[str]:
    t = re.search(rf'<table[^>]*id="{table}".*?</table>', html, re.S)
    assert t, table
    return re.findall(r'<th scope="row">([^<]*)</th>', t.group(0))


def test_page_admin_sees_ranking_trend_and_formula(client, login_as, sdata):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    r = client.get("/laporan/skor")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "2026-W23" in html and "Skor keaktifan unit" in html  # Indonesian first
    assert "Tepat waktu" in html and "Aduan ditanggapi tepat waktu" in html
    assert _units_in(html, "score-ranking") == ["Bappeda", "Dinas Sosial", "Dinas Kosong"]
    assert _units_in(html, "score-trend") == ["Bappeda", "Dinas Sosial", "Dinas Kosong"]
    row = re.search(rf'<tr data-unit="{sdata["a"]}">.*?</tr>', html, re.S).group(0)
    assert '<td class="score">48</td>' in row  # 47.5 shown rounded
    assert 'id="score-formula"' in html and "<script" not in html.split("<main")[-1]
    assert client.get("/laporan/skor?minggu=2026-W22").status_code == 200


@pytest.mark.parametrize("role", ["operator", "approver"])
def test_page_unit_user_sees_only_own_unit(client, login_as, sdata, role):  # type: ignore[no-untyped-def]
    login_as(role, "a")
    html = client.get("/laporan/skor").get_data(as_text=True)
    assert _units_in(html, "score-ranking") == ["Dinas Sosial"]
    assert _units_in(html, "score-trend") == ["Dinas Sosial"]
    assert "Bappeda" not in html and "Dinas Kosong" not in html
    assert re.search(r'id="score-position">[^<]*2[^<]*3', html)


def test_page_rejects_bad_and_future_weeks(client, login_as, sdata):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    for bad in ("2026-W99", "kemarin", "2026-W24", "9999-W01"):
        r = client.get(f"/laporan/skor?minggu={bad}")
        assert r.status_code == 400, bad
        assert "Traceback" not in r.get_data(as_text=True)


def test_queries_do_not_grow_with_units(core, session, sdata):  # type: ignore[no-untyped-def]
    from sqlalchemy import event

    def count() -> int:
        seen: list[str] = []

        def hook(*args):  # type: ignore[no-untyped-def]
            seen.append(args[2])
        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", hook)
        try:
            sc.scores(session, [W23], core.now())
        finally:
            event.remove(engine, "before_cursor_execute", hook)
        session.rollback()
        return len(seen)

    before = count()
    with core.sessions.begin() as s:
        for i in range(5):
            org.create_unit(s, name=f"Unit {i}", slug=f"unit{i}")
    assert count() == before
