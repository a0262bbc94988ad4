"""The weekly report to leaders, through the real SMTP server: the right recipients (an
approver gets only their unit's figures, an admin and a region address all of them), in
their language, inline CSS and no remote images, the workbook attached and readable with the
right figures; due Monday 07.00 in each scope's zone; once per recipient and week however
often it is attempted.

The week under test is Monday 8 - Sunday 14 June 2026 (WIB for Dinas Sosial and the region,
WITA for Bappeda), sent on Monday 15 June; the week before is 1 - 7 June.

Dinas Sosial (unit a): A1 published 9 June (likes 50, comments 5, shares 5: 60 engagements,
  reach 1,000); A2 planned for 11 June, failed (published less than planned: 1 of 2);
  A0 published 3 June (the week before: 10 engagements, reach 100).
Bappeda (unit b): B1 published 10 June (likes 200, comments 20: 220 engagements, reach 5,000);
  B2 planned and published 12 June, no figures yet (2 of 2).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from publisher.models import (
    AuditEvent,
    Channel,
    MetricSnapshot,
    NotifyDelivery,
    NotifyPreference,
    Post,
    Publication,
    PublicationStatus,
    Role,
    Unit,
    User,
)
from publisher.notify import weekly
from publisher.notify.deliver import send_delivery
from publisher.notify.weekly_report import due_at, last_week
from publisher.reports.period import week_of
from tests.notify.flows import drain, jobs, set_prefs
from tests.notify.smtp_server import Received

MONDAY_0700_WIB = datetime(2026, 6, 15, 0, 0, tzinfo=UTC)
MONDAY_0700_WITA = datetime(2026, 6, 14, 23, 0, tzinfo=UTC)
APPROVER_A = "kabid@dinsos.example.go.id"
APPROVER_B = "kabid@bappeda.example.go.id"
ADMIN = "kadis@diskominfo.example.go.id"
HEAD_A = "kepala@dinsos.example.go.id"       # listed address, unit a, English
REGENT = "bupati@kab.example.go.id"          # listed address, the region, Indonesian
OPERATOR = "operator@dinsos.example.go.id"


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def _channel(core, s, unit: Unit, platform: str, name: str) -> Channel:  # type: ignore[no-untyped-def]
    ch = Channel(unit_id=unit.id, platform=platform, name=name,
                 credentials_encrypted=core.box.seal({"token": "secret"}))
    s.add(ch)
    s.flush()
    return ch


def _pub(s, unit: Unit, author: int, ch: Channel, body: str, at: datetime,  # type: ignore[no-untyped-def]
         status: str = PublicationStatus.PUBLISHED, **metrics: int) -> None:
    post = Post(unit_id=unit.id, author_id=author, body=body, status="approved")
    s.add(post)
    s.flush()
    published = status == PublicationStatus.PUBLISHED
    pub = Publication(post_id=post.id, channel_id=ch.id, status=status, scheduled_at=at,
                      published_at=at if published else None,
                      permalink=f"https://www.facebook.com/warta/{post.id}" if published else None)
    s.add(pub)
    s.flush()
    if metrics:
        s.add(MetricSnapshot(publication_id=pub.id, collected_at=at + timedelta(days=2),
                             **metrics))


@pytest.fixture
def week_data(core, units, make_user):  # type: ignore[no-untyped-def]
    author = make_user(Role.OPERATOR, "a").id
    with core.sessions.begin() as s:
        a, b = s.get(Unit, units["a"].id), s.get(Unit, units["b"].id)
        b.timezone = "Asia/Makassar"
        afb = _channel(core, s, a, "facebook", "FB Dinsos")
        big = _channel(core, s, b, "instagram_graph", "IG Bappeda")
        _pub(s, a, author, afb, "Penyaluran bansos tahap dua di kelurahan.", utc(2026, 6, 9, 3),
             likes=50, comments=5, shares=5, reach=1000)
        _pub(s, a, author, afb, "Jadwal posyandu yang gagal terbit.", utc(2026, 6, 11, 3),
             status=PublicationStatus.FAILED)
        _pub(s, a, author, afb, "Minggu sebelumnya.", utc(2026, 6, 3, 3), likes=10, reach=100)
        _pub(s, b, author, big, "Musrenbang kecamatan dibuka.", utc(2026, 6, 10, 2),
             likes=200, comments=20, reach=5000)
        _pub(s, b, author, big, "Rapat koordinasi RPJMD.", utc(2026, 6, 12, 2))
    return units


@pytest.fixture
def leaders(core, make_user, week_data):  # type: ignore[no-untyped-def]
    """The recipients: two approvers, an admin, two listed addresses; and an operator whose
    stray preference row (not offered to operators) must be ignored."""
    people = {"approver_a": make_user(Role.APPROVER, "a", email=APPROVER_A),
              "approver_b": make_user(Role.APPROVER, "b", email=APPROVER_B),
              "admin": make_user(Role.ADMIN, None, email=ADMIN),
              "operator": make_user(Role.OPERATOR, "a", email=OPERATOR)}
    set_prefs(core, people["approver_a"], {"weekly-report": "1"})
    set_prefs(core, people["approver_b"], {"weekly-report": "1"}, locale="en")
    set_prefs(core, people["admin"], {"weekly-report": "1"})
    with core.sessions.begin() as s:
        s.add(NotifyPreference(user_id=people["operator"].id, kind="weekly_report",
                               channel="email"))
        weekly.add_recipient(s, week_data["a"].id, HEAD_A.upper(), name="Ibu Kepala Dinas",
                             locale="en")
        weekly.add_recipient(s, None, REGENT, name="Bapak Bupati")
        weekly.add_recipient(s, None, ADMIN)  # also an opted-in admin: one message
    return people


def _by_rcpt(messages: list[Received]) -> dict[str, EmailMessage]:
    out: dict[str, EmailMessage] = {}
    for m in messages:
        assert len(m.rcpt_tos) == 1
        assert m.rcpt_tos[0] not in out, f"{m.rcpt_tos[0]} got two messages"
        out[m.rcpt_tos[0]] = m.message
    return out


def _parts(msg: EmailMessage) -> tuple[str, str, Any]:
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    attachments = list(msg.iter_attachments())
    assert len(attachments) == 1
    att = attachments[0]
    assert att.get_content_type() == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return text, html, load_workbook(io.BytesIO(att.get_content()), read_only=True)


def _rows(ws: Any) -> list[list[Any]]:
    return [list(r) for r in ws.iter_rows(min_row=3, values_only=True)]  # title, header


def test_each_leader_gets_their_scope_in_their_language_with_the_workbook(core, clock, leaders,
                                                                           smtp_server):
    clock.now = MONDAY_0700_WIB + timedelta(minutes=2)
    drain(core)
    got = _by_rcpt(smtp_server.messages)
    assert sorted(got) == sorted([APPROVER_A, APPROVER_B, ADMIN, HEAD_A, REGENT]), \
        "the operator's stray preference is ignored; the listed admin address gets one message"

    # The unit's approver: only Dinas Sosial, in Indonesian.
    msg = got[APPROVER_A]
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"] == "Laporan mingguan 8 Juni 2026 – 14 Juni 2026: Dinas Sosial"
    assert msg["Content-Language"] == "id"
    assert msg["List-Unsubscribe"] == "<https://warta.example.go.id/profil/notifikasi>"
    text, html, wb = _parts(msg)
    for part in (text, html):
        assert "Bappeda" not in part and "Musrenbang" not in part, "another unit leaked"
        assert "Penyaluran bansos tahap dua" in part
        assert "Terbit lebih sedikit dari rencana: Dinas Sosial" in part
    assert "Interaksi: 60 (Minggu sebelumnya: 10; Perubahan: +500%)" in text
    assert "Jangkauan: 1.000 (Minggu sebelumnya: 100; Perubahan: +900%)" in text
    assert "laporan-mingguan-2026-06-08-2026-06-14.xlsx" in text
    assert wb.sheetnames[0] == "Unit" and "Penayangan" in wb.sheetnames
    units = _rows(wb["Unit"])
    assert [r[0] for r in units] == ["Dinas Sosial"]
    header = [c for c in next(wb["Unit"].iter_rows(min_row=2, max_row=2, values_only=True))]
    assert units[0][header.index("Interaksi")] == 60
    assert units[0][header.index("Jangkauan")] == 1000
    pubs = _rows(wb["Penayangan"])
    assert len(pubs) == 1 and pubs[0][2] == "Dinas Sosial"
    plan = _rows(wb["Rencana"])
    assert plan == [["Dinas Sosial", 2, 1, 1, 1]]

    # The other unit's approver: Bappeda only, in English, its week in WITA.
    msg = got[APPROVER_B]
    assert msg["Subject"] == "Weekly report 8 June 2026 – 14 June 2026: Bappeda"
    assert msg["Content-Language"] == "en"
    text, html, wb = _parts(msg)
    assert "Dinas Sosial" not in text and "Dinas Sosial" not in html and "bansos" not in html
    assert "(WITA)" in text and "Engagement: 220" in text
    assert "Every unit published what it planned." in text
    assert [r[0] for r in _rows(wb["Unit"])] == ["Bappeda"]
    assert wb.sheetnames[-1] == "Plan"

    # The region: both units, the short one named; the listed address reads it as a leader of
    # the region without being a Warta user, and unsubscribes by replying.
    for address in (ADMIN, REGENT):
        msg = got[address]
        assert msg["Subject"].endswith(": seluruh wilayah"), msg["Subject"]
        text, html, wb = _parts(msg)
        assert "Dinas Sosial" in html and "Bappeda" in html
        assert "Interaksi: 280 (Minggu sebelumnya: 10;" in text
        assert "Terbit lebih sedikit dari rencana: Dinas Sosial" in text
        assert sorted(r[0] for r in _rows(wb["Unit"])) == ["Bappeda", "Dinas Sosial"]
        assert len(_rows(wb["Penayangan"])) == 3
    assert got[REGENT]["List-Unsubscribe"].startswith("<mailto:warta@diskominfo.example.go.id")
    assert "Halo Bapak Bupati," in got[REGENT].get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # A listed address of the unit: that unit only, in the language it was listed with.
    text, html, wb = _parts(got[HEAD_A])
    assert got[HEAD_A]["Subject"].endswith(": Dinas Sosial")
    assert "Hello Ibu Kepala Dinas," in text and "Bappeda" not in html
    assert [r[0] for r in _rows(wb["Unit"])] == ["Dinas Sosial"]

    # Renders in common clients: inline CSS only, nothing loaded from outside.
    for msg in got.values():
        html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
        assert "<style" not in html and "<link" not in html and "<img" not in html
        assert 'src="http' not in html and "url(" not in html
        assert 'style="' in html


def test_it_is_due_monday_0700_in_each_scopes_zone(core, clock, leaders):
    """Bappeda (WITA) is due an hour before Dinas Sosial and the region (WIB)."""
    clock.now = MONDAY_0700_WITA - timedelta(minutes=1)
    assert weekly.sweep(core) == 0
    clock.now = MONDAY_0700_WITA
    assert weekly.sweep(core) == 1
    assert [j.payload for j in jobs(core, "notify_weekly")] == [
        {"unit_id": leaders["approver_b"].unit_id, "week": "2026-W24"}]
    clock.now = MONDAY_0700_WIB - timedelta(seconds=1)
    assert weekly.sweep(core) == 0, "Bappeda's is enqueued; the others are not due yet"
    clock.now = MONDAY_0700_WIB
    assert weekly.sweep(core) == 2
    assert due_at(MONDAY_0700_WIB, "Asia/Jakarta") == MONDAY_0700_WIB
    assert last_week(MONDAY_0700_WIB, "Asia/Jakarta") == week_of(datetime(2026, 6, 8).date(),
                                                                 "Asia/Jakarta")


def test_once_per_recipient_and_week_with_two_workers_and_repeated_attempts(core, clock,
                                                                            leaders,
                                                                            smtp_server):
    clock.now = MONDAY_0700_WIB + timedelta(minutes=1)
    # Two workers sweep at once: one job per scope (the dedupe key with the ISO week).
    assert weekly.sweep(core) == 3
    assert weekly.sweep(core) == 0
    # Two preparations of the same report (a lease ran out, or --send-now beside the worker).
    a = leaders["approver_a"].unit_id
    first = weekly.prepare(core, a, "2026-W24")
    assert len(first) == 2  # the approver and the listed head of the unit
    assert weekly.prepare(core, a, "2026-W24") == []
    # Two send attempts of one delivery: the second finds it sent.
    send_delivery(core, first[0])
    send_delivery(core, first[0])
    drain(core)
    clock.advance(hours=3)
    assert weekly.sweep(core) == 0, "recorded this week: nothing to enqueue"
    drain(core)
    got = [m.rcpt_tos[0] for m in smtp_server.messages]
    assert sorted(got) == sorted([APPROVER_A, APPROVER_B, ADMIN, HEAD_A, REGENT])
    with core.sessions() as s:
        events = list(s.execute(select(AuditEvent).where(
            AuditEvent.action == "report.weekly")).scalars())
        assert sorted((e.unit_id or 0, e.data["week"]) for e in events) == sorted(
            [(0, "2026-W24"), (a, "2026-W24"), (leaders["approver_b"].unit_id, "2026-W24")])
        assert {d.status for d in s.execute(select(NotifyDelivery)).scalars()} == {"sent"}
    # The next Monday is the next week's report.
    clock.now = MONDAY_0700_WIB + timedelta(days=7, minutes=1)
    drain(core)
    assert len(smtp_server.messages) == 10
    assert all("15 Juni 2026" in m.message["Subject"] or "15 June 2026" in m.message["Subject"]
               for m in smtp_server.messages[5:])


def test_a_worker_killed_mid_send_does_not_send_the_report_again(core, clock, leaders,
                                                                 smtp_server):
    clock.now = MONDAY_0700_WIB + timedelta(minutes=1)
    ids = weekly.prepare(core, None, "2026-W24")
    assert len(ids) == 2
    with core.sessions.begin() as s:  # the first run reached DATA and died
        s.get(NotifyDelivery, ids[0]).status = "sending"
    drain(core)
    with core.sessions() as s:
        statuses = [s.get(NotifyDelivery, i).status for i in ids]
    assert statuses == ["unconfirmed", "sent"]
    region = [m for m in smtp_server.messages if m.message["Subject"].endswith("wilayah")]
    assert len(region) == 1


def test_a_leader_who_moved_unit_since_the_fan_out_gets_nothing(core, clock, leaders,
                                                              smtp_server, units):
    clock.now = MONDAY_0700_WIB + timedelta(minutes=1)
    ids = weekly.prepare(core, units["a"].id, "2026-W24")
    with core.sessions.begin() as s:
        s.get(User, leaders["approver_a"].id).unit_id = units["b"].id
    for i in ids:
        send_delivery(core, i)
    assert [m.rcpt_tos[0] for m in smtp_server.messages] == [HEAD_A]
    with core.sessions() as s:
        d = s.get(NotifyDelivery, ids[0])
        assert d.status == "dropped" and "no longer for this account" in (d.error or "")


def test_the_profile_offers_the_report_to_leaders_only(core, app, client, leaders):
    app.config["WTF_CSRF_ENABLED"] = False
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(leaders["approver_a"].id), True
    page = client.get("/profil").get_data(as_text=True)
    assert 'name="weekly-report" value="1" checked' in page
    assert "Kirimi saya laporan mingguan lewat e-mail" in page
    r = client.post("/profil/notifikasi", data={"digest-at": ""})
    assert r.status_code == 302
    with core.sessions() as s:
        assert s.get(NotifyPreference, (leaders["approver_a"].id, "weekly_report")) is None
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(leaders["operator"].id), True
    page = client.get("/profil").get_data(as_text=True)
    assert 'name="weekly-report"' not in page
    r = client.post("/profil/notifikasi", data={"weekly-report": "1"})
    assert r.status_code == 400
    assert "Laporan mingguan untuk penyetuju dan admin." in r.get_data(as_text=True)


def test_the_command_sends_now_once_and_says_so_without_smtp(core, clock, leaders, smtp_server,
                                                           test_env, monkeypatch, units):
    from click.testing import CliRunner

    from web.cli import cli

    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()  # on the real clock: whichever week was last, its recipients
    r = runner.invoke(cli, ["report", "weekly", "--send-now", "--unit", "dinsos"],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == sorted([APPROVER_A, HEAD_A])
    assert "2 terkirim / sent" in r.output
    again = runner.invoke(cli, ["report", "weekly", "--send-now", "--unit", "dinsos"],
                          catch_exceptions=False)
    assert again.exit_code == 0 and "0 terkirim / sent" in again.output
    assert len(smtp_server.messages) == 2
    listing = runner.invoke(cli, ["report", "weekly", "--unit", "dinsos"], catch_exceptions=False)
    assert listing.exit_code == 0, listing.output
    assert HEAD_A in listing.output and APPROVER_A in listing.output
    assert "2/2 terkirim / sent" in listing.output
    test = runner.invoke(cli, ["report", "weekly", "--to", "uji@diskominfo.example.go.id",
                               "--lang", "en"], catch_exceptions=False)
    assert test.exit_code == 0, test.output
    assert smtp_server.messages[-1].rcpt_tos == ["uji@diskominfo.example.go.id"]
    assert smtp_server.messages[-1].message["Subject"].endswith(": the whole region")
    monkeypatch.setenv("WARTA_SMTP_HOST", "")
    off = runner.invoke(cli, ["report", "weekly", "--send-now"], catch_exceptions=False)
    assert off.exit_code == 1 and "WARTA_SMTP_HOST" in off.output
    assert len(smtp_server.messages) == 3


def test_the_daily_digest_never_swallows_the_weekly_report(core, clock, leaders, smtp_server):
    from publisher.notify.digest import send_digest

    set_prefs(core, leaders["approver_a"], {"weekly-report": "1", "digest-at": "07.00"})
    clock.now = MONDAY_0700_WIB + timedelta(minutes=1)
    ids = weekly.prepare(core, leaders["approver_a"].unit_id, "2026-W24")
    assert send_digest(core, leaders["approver_a"].id) is None
    assert smtp_server.messages == [], "the digest gathered nothing"
    send_delivery(core, ids[0])
    assert len(list(smtp_server.messages[0].message.iter_attachments())) == 1


def test_the_report_carries_the_unit_activity_score_in_the_readers_scope(core, clock, leaders,
                                                                         smtp_server):
    """Issue 20: the leaders' report includes the week's score (``reports.score``). Dinas
    Sosial planned 2 and published 1 on time on a healthy channel, with too little past for an
    engagement component: (30×50 + 20×100 + 15×100) ÷ 65 = 76.9; the week before it published
    all it planned on time (channels unknown that far back): 100, so −23.1 points. Bappeda
    published both of its 2 on time: 100, ranked first; it planned nothing the week before."""
    clock.now = MONDAY_0700_WIB + timedelta(minutes=2)
    drain(core)
    got = _by_rcpt(smtp_server.messages)
    text, html, _wb = _parts(got[APPROVER_A])
    assert "Skor keaktifan unit" in text
    assert "2 / 2 | Dinas Sosial | 76,9 | -23,1 (tidak diketahui: Interaksi dibanding " \
           "biasanya, Aduan ditanggapi tepat waktu)" in text
    assert "Bappeda" not in text and "Bappeda" not in html, "another unit's score leaked"
    assert "https://warta.example.go.id/laporan/skor?minggu=2026-W24" in html
    text_b, _html, _wb = _parts(got[APPROVER_B])
    assert "Unit activity score" in text_b and "1 / 2 | Bappeda | 100 | —" in text_b
    assert "Dinas Sosial" not in text_b
    region, html, _wb = _parts(got[REGENT])
    first = region.index("1 / 2 | Bappeda | 100")
    assert first < region.index("2 / 2 | Dinas Sosial | 76,9 | -23,1"), "ranked, best first"
    section = html[html.index("Skor keaktifan unit"):]
    assert section.index("Bappeda") < section.index("Dinas Sosial")
