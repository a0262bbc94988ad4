"""The citizen inbox's figures on the public transparency page (issue 19): only for units that
opted in to the page *and* to the figures, counts and times only, never a comment's words,
author or link. The figures are computed by hand in the fixture's docstring."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, CitizenComment, CommentStatus, Role, Unit
from publisher.services import org
from tests.inbox.helpers import comment, published

NOW = datetime(2026, 6, 10, 3, tzinfo=UTC)
SECRET_TEXT = "Zebra-7781 rumah saya kebanjiran"
SECRET_AUTHOR = "Kartika Wulandari"


def _t(day: int, hour: int, month: int = 6, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _set(core, cid: int, **values) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        row = s.get(CitizenComment, cid)
        for k, v in values.items():
            setattr(row, k, v)


def _flags(core, unit_id: int, **flags: bool) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        unit = s.get(Unit, unit_id)
        for k, v in flags.items():
            setattr(unit, k, v)


@pytest.fixture
def seeded(core, clock, units, make_user):  # type: ignore[no-untyped-def]
    """June 2026 in WIB is [31 May 17:00 UTC, 30 June 17:00 UTC); now is 10 June 03:00 UTC.

    Dinas Sosial (public page and figures):
    - a1 complaint, written 9 Jun 01:00, due 16 Jun, answered 9 Jun 03:00 (2 h): in time;
    - a2 complaint, written 8 Jun 00:00, due 9 Jun 00:00 (passed), not answered: due, late;
    - a3 complaint, written 10 Jun 01:00, due 17 Jun (not passed), not answered: not due;
    - a4 question (the distinctive text and author), written 9 Jun 00:00, answered 06:00 (6 h);
    - a5 complaint, written 1 Jun 00:00, due 3 Jun 00:00, answered 4 Jun 02:00 (74 h): late;
    - old: complaint written 31 May 16:30 UTC (23:30 WIB, May), due 7 Jun, answered 17:30 (1 h).
    June: 5 comments, 4 complaints; median of (2, 6, 74) h = 6 h; complaints due a1, a2, a5 = 3,
    in time a1 = 1: 1/3. May: 1 comment, 1 complaint, median 1 h, in time 1/1.

    Bappeda (public page, not the figures): b1 complaint written 9 Jun 02:00, due 16 Jun,
    answered 05:00 (3 h); b2 question, 9 Jun 04:00, not answered. Its figures when opted in:
    2 comments, 1 complaint, median 3 h, in time 1/1.

    Dinas Kesehatan (figures switched on, page off) and Dinas Pendidikan (neither): one
    complaint each, never shown."""
    clock.now = NOW
    with core.sessions.begin() as s:
        units["c"] = org.create_unit(s, name="Dinas Kesehatan", slug="dinkes")
        units["d"] = org.create_unit(s, name="Dinas Pendidikan", slug="disdik")
    pub = {k: published(core, make_user(Role.OPERATOR, k)) for k in "abcd"}
    ids = {
        "a1": comment(core, pub["a"], "Bansos belum cair", at=_t(9, 1)),
        "a2": comment(core, pub["a"], "Kapan dicek?", at=_t(8, 0)),
        "a3": comment(core, pub["a"], "Jalan rusak di RT 3", at=_t(10, 1), author=None),
        "a4": comment(core, pub["a"], SECRET_TEXT, at=_t(9, 0), author=SECRET_AUTHOR),
        "a5": comment(core, pub["a"], "Air PAM mati", at=_t(1, 0)),
        "old": comment(core, pub["a"], "Mei", at=_t(31, 16, month=5, minute=30)),
        "b1": comment(core, pub["b"], "Musrenbang ditunda?", at=_t(9, 2)),
        "b2": comment(core, pub["b"], "Di mana lokasinya?", at=_t(9, 4)),
        "c1": comment(core, pub["c"], "Puskesmas tutup", at=_t(9, 1)),
        "d1": comment(core, pub["d"], "Sekolah rusak", at=_t(9, 1)),
    }
    done = CommentStatus.RESPONDED
    _set(core, ids["a1"], category="aduan", due_at=_t(16, 10), responded_at=_t(9, 3), status=done)
    _set(core, ids["a2"], category="aduan", due_at=_t(9, 0))
    _set(core, ids["a3"], category="aduan", due_at=_t(17, 10))
    _set(core, ids["a4"], category="pertanyaan", responded_at=_t(9, 6), status=done)
    _set(core, ids["a5"], category="aduan", due_at=_t(3, 0), responded_at=_t(4, 2), status=done)
    _set(core, ids["old"], category="aduan", due_at=_t(7, 10),
         responded_at=_t(31, 17, month=5, minute=30), status=done)
    _set(core, ids["b1"], category="aduan", due_at=_t(16, 10), responded_at=_t(9, 5), status=done)
    _set(core, ids["b2"], category="pertanyaan")
    for k in ("c1", "d1"):
        _set(core, ids[k], category="aduan", due_at=_t(16, 10), responded_at=_t(9, 2),
             status=done)
    _flags(core, units["a"].id, public_report=True, public_inbox=True)
    _flags(core, units["b"].id, public_report=True)
    _flags(core, units["c"].id, public_inbox=True)
    return ids


def _voice_rows(html: str) -> list[list[str]]:
    """The citizen-voice table's body rows as cell texts (tags stripped)."""
    table = html.split('id="public-citizen-voice"')[1].split("</table>")[0]
    body = table.split("<tbody>")[1]
    return [[re.sub(r"<[^>]+>", "", cell).strip()
             for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]


def test_only_units_opted_in_twice_show_their_figures(client, seeded) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/publik/laporan.json?bulan=2026-06").get_json()
    (row,) = body["citizen_voice"]
    assert row["unit"] == "Dinas Sosial"
    assert (row["comments"], row["complaints"]) == (5, 4), "May's comment left out"
    assert row["median_response_hours"] == pytest.approx(6.0)
    assert row["in_time_share"] == pytest.approx(1 / 3)
    assert set(row) == {"unit", "comments", "complaints", "median_response_hours",
                        "in_time_share"}, "figures only"
    page = client.get("/publik/laporan?bulan=2026-06")  # no login needed
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _voice_rows(html) == [["Dinas Sosial", "5", "4", "6 jam", "33,3%"]]
    # Bappeda is on the page (its publication) but not in the citizen-voice table; the units
    # off the page are nowhere.
    assert "Bappeda" in html.split('id="public-citizen-voice"')[0]
    assert "Dinas Kesehatan" not in html and "Dinas Pendidikan" not in html


def test_never_the_comments_words_authors_or_links(client, core, units, seeded,
                                                   login_as) -> None:  # type: ignore[no-untyped-def]
    _flags(core, units["b"].id, public_inbox=True)
    pages = [client.get(f"/publik/laporan{ext}?bulan=2026-06").get_data(as_text=True)
             for ext in ("", ".json", ".csv")]
    login_as(Role.ADMIN, None)
    with core.sessions() as s:
        ids = list(s.execute(select(Unit.id)).scalars())
    pages += [client.get(f"/admin/unit/{uid}/pratinjau-publik?bulan=2026-06")
              .get_data(as_text=True) for uid in ids]
    assert len(pages) == 7
    for text in pages:
        assert "Zebra-7781" not in text and "Kartika" not in text and "Wulandari" not in text
        assert "Bansos belum cair" not in text and "Musrenbang ditunda" not in text
        assert "/suara-warga/" not in text, "no link into the inbox"
    assert [r[:2] for r in _voice_rows(pages[0])] == [["Bappeda", "2"], ["Dinas Sosial", "5"]]


def test_months_follow_the_written_at_rule_and_empty_is_not_zero(client, core, units,
                                                                 seeded) -> None:  # type: ignore[no-untyped-def]
    _flags(core, units["b"].id, public_inbox=True)
    may = client.get("/publik/laporan.json?bulan=2026-05").get_json()["citizen_voice"]
    assert may == [
        {"unit": "Bappeda", "comments": 0, "complaints": 0, "median_response_hours": None,
         "in_time_share": None},
        {"unit": "Dinas Sosial", "comments": 1, "complaints": 1, "median_response_hours": 1.0,
         "in_time_share": 1.0},
    ], "31 May 23:30 WIB is May's; a unit without comments shows no made-up 0 hours"
    html = client.get("/publik/laporan?bulan=2026-05").get_data(as_text=True)
    assert _voice_rows(html) == [["Bappeda", "0", "0", "—", "—"],
                                 ["Dinas Sosial", "1", "1", "1 jam", "100,0%"]]
    june = client.get("/publik/laporan.json?bulan=2026-06").get_json()["citizen_voice"]
    assert [(r["unit"], r["comments"], r["complaints"], r["median_response_hours"],
             r["in_time_share"]) for r in june] == [
        ("Bappeda", 2, 1, 3.0, 1.0), ("Dinas Sosial", 5, 4, 6.0, pytest.approx(1 / 3))]
    _flags(core, units["b"].id, public_report=False)
    june = client.get("/publik/laporan.json?bulan=2026-06").get_json()["citizen_voice"]
    assert [r["unit"] for r in june] == ["Dinas Sosial"], "the figures' switch alone shows nothing"


def test_admin_switches_the_figures_with_an_audited_change_and_a_preview(
        app, client, core, units, seeded, login_as) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    login_as(Role.ADMIN, None)
    bappeda = units["b"].id
    listing = client.get("/admin/unit").get_data(as_text=True)
    row = listing.split(f'id="unit-{bappeda}"')[1].split("</tr>")[0]
    assert 'name="public_inbox" value="1"' in row and "data-confirm=" in row
    preview = client.get(f"/admin/unit/{bappeda}/pratinjau-publik?bulan=2026-06")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert _voice_rows(html) == [["Bappeda", "2", "1", "3 jam", "100,0%"]], \
        "the preview shows what would become public, before the switch"
    assert "Angka Suara Warganya tidak publik" in html
    r = client.post(f"/admin/unit/{bappeda}", data={"public_inbox": "1"})
    assert r.status_code == 302
    public = client.get("/publik/laporan?bulan=2026-06").get_data(as_text=True)
    assert [r[0] for r in _voice_rows(public)] == ["Bappeda", "Dinas Sosial"]
    with core.sessions() as s:
        assert s.get(Unit, bappeda).public_inbox is True
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "unit.update")
                          ).scalar_one()
        assert event.data == {"public_inbox": [False, True]}
    audit_page = client.get("/admin/riwayat").get_data(as_text=True)
    assert "Angka Suara Warga di halaman publik" in audit_page
    client.post(f"/admin/unit/{bappeda}", data={"public_inbox": "0"})
    public = client.get("/publik/laporan?bulan=2026-06").get_data(as_text=True)
    assert [r[0] for r in _voice_rows(public)] == ["Dinas Sosial"]


def test_cli_switches_the_figures_and_says_when_the_page_is_off(test_env, monkeypatch, core,
                                                                 units) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from web.cli import cli

    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    r = CliRunner().invoke(cli, ["unit", "public-inbox", "bappeda", "on"],
                           catch_exceptions=False)
    assert r.exit_code == 0 and "ON" in r.output and "halaman publik unit ini OFF" in r.output
    with core.sessions() as s:
        assert s.get(Unit, units["b"].id).public_inbox is True
        assert s.get(Unit, units["b"].id).public_report is False
    r = CliRunner().invoke(cli, ["unit", "public-inbox", "bappeda", "off"],
                           catch_exceptions=False)
    assert r.exit_code == 0 and "OFF" in r.output
    with core.sessions() as s:
        assert s.get(Unit, units["b"].id).public_inbox is False


def test_a_units_public_month_is_cut_in_its_own_zone(core, clock, units, make_user) -> None:  # type: ignore[no-untyped-def]
    """1 June 00:30 WITA is 31 May 23:30 WIB: for a Makassar unit that comment is June's, on
    its /laporan/suara-warga and on the public page alike (the admin's preview too)."""
    from datetime import UTC, datetime

    from publisher.models import Role, Unit, User
    from publisher.reports import inbox as ib
    from publisher.reports.facts import ReportFilter
    from publisher.reports.period import month_period
    from publisher.reports.public import public_report
    from tests.inbox.helpers import comment, published

    clock.now = datetime(2026, 6, 10, 3, tzinfo=UTC)
    with core.sessions.begin() as s:
        u = s.get_one(Unit, units["a"].id)
        u.timezone, u.public_report, u.public_inbox = "Asia/Makassar", True, True
    op = make_user(Role.OPERATOR, "a")
    admin = make_user(Role.ADMIN, None)
    comment(core, published(core, op), "x", at=datetime(2026, 5, 31, 16, 30, tzinfo=UTC))
    with core.sessions() as s:
        wita = month_period("2026-06", "Asia/Makassar", clock.now)
        (staff,) = ib.breakdown(s, s.get_one(User, op.id),
                                ReportFilter(start=wita.start, end=wita.end), "unit", clock.now)
        june = month_period("2026-06", core.settings.timezone, clock.now)
        may = month_period("2026-05", core.settings.timezone, clock.now)
        rows = {r["unit"]: r for r in public_report(s, june, clock.now)["citizen_voice"]}
        rows_may = {r["unit"]: r for r in public_report(s, may, clock.now)["citizen_voice"]}
        preview = public_report(s, june, clock.now,
                                preview=(s.get_one(User, admin.id), units["a"].id))
    name = units["a"].name
    assert staff.comments == 1
    assert rows[name]["comments"] == 1 and rows_may[name]["comments"] == 0
    assert [r["comments"] for r in preview["citizen_voice"]] == [1]
