"""Bulk import (issue 21): a spreadsheet of planned posts is checked row by row with the
composer's own rules, previewed, and created in one transaction — every row or none.

The clock starts on Wednesday 10 June 2026, 10:00 WIB (tests/conftest.py); unit A is moved to
WITA (UTC+8) here, so a time that was read in the wrong zone shows.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from publisher.models import (
    AuditEvent,
    Campaign,
    Channel,
    ChannelStatus,
    Post,
    PostStatus,
    Publication,
    Role,
    Unit,
    User,
)
from publisher.services import bulk_files
from publisher.services import bulk_import as importer
from publisher.services.channels import credential_columns
from tests.web.test_accessibility import browser_page  # noqa: F401 - fixture
from tests.web.test_browser import live  # noqa: F401 - the live server fixture

WITA = "Asia/Makassar"


@pytest.fixture
def unit_a(core, units):  # type: ignore[no-untyped-def]
    """Unit A in WITA, with a unit campaign and a region-wide one."""
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = WITA
        s.add_all([Campaign(name="Gerakan Literasi", unit_id=None),
                   Campaign(name="Bansos Tahap 2", unit_id=units["a"].id),
                   Campaign(name="Rahasia Bappeda", unit_id=units["b"].id)])
    return units["a"]


@pytest.fixture
def chans(make_user, make_channel, unit_a):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    return {"fb": make_channel(admin, name="Dinsos FB", account="dinsos-fb"),
            "tg": make_channel(admin, name="Dinsos TG", account="dinsos-tg"),
            "b": make_channel(admin, "b", name="Bappeda FB", account="bappeda-fb")}


def x_channel(core, unit_id: int, name: str = "Dinsos X") -> int:  # type: ignore[no-untyped-def]
    """An X channel as the connect flow leaves it (no network: validation is pure)."""
    with core.sessions.begin() as s:
        ch = Channel(unit_id=unit_id, platform="x", name=name, state={},
                     status=ChannelStatus.ACTIVE, created_at=datetime.now(UTC),
                     **credential_columns(core, {"access_token": "t"}))
        s.add(ch)
        s.flush()
        return ch.id


def csv_bytes(*rows: str, header: str = "teks;akun;waktu;kampanye", bom: bool = True) -> bytes:
    text = "\r\n".join([header, *rows]) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode()


def xlsx_bytes(rows: list[list[object]], formulas: dict[str, str] | None = None) -> bytes:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    for ref, formula in (formulas or {}).items():
        ws[ref] = formula  # openpyxl stores a string starting with "=" as a formula
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(client, data: bytes, name: str = "rencana.csv", **form: str):  # type: ignore[no-untyped-def]
    return client.post("/unggahan/impor", content_type="multipart/form-data",
                       data={"file": (io.BytesIO(data), name), "mode": "draft", **form})


def payload_of(page: str) -> str | None:
    m = re.search(r'name="payload" value="([^"]+)"', page)
    return html.unescape(m.group(1)) if m else None


def confirm(client, page: str):  # type: ignore[no-untyped-def]
    token = payload_of(page)
    assert token, "the preview offers no confirm button"
    return client.post("/unggahan/impor/buat", data={"payload": token})


def posts_of(core, unit_id: int) -> list[Post]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        rows = s.execute(select(Post).where(Post.unit_id == unit_id).order_by(Post.id))
        posts = list(rows.unique().scalars())
        for p in posts:
            _ = p.channel_ids, p.campaign_id
        return posts


def row_html(page: str, number: int) -> str:
    m = re.search(rf'<tr id="row-{number}"(.*?)</tr>', page, re.S)
    assert m, f"row {number} is not in the preview"
    return m.group(1)


def test_csv_with_semicolons_and_bom_previews_then_creates_drafts(client, core, login_as,
                                                                  chans, unit_a):
    op = login_as(Role.OPERATOR, "a")
    data = csv_bytes("Bantuan sosial tahap 2 cair;Dinsos FB | dinsos tg;2026-06-12 09:00;"
                     "gerakan literasi",
                     "Jadwal posyandu;DINSOS FB;;Bansos Tahap 2",
                     '"Baris pertama\r\nbaris kedua; dengan titik koma";Dinsos TG;'
                     "13/06/2026 14.30;")
    r = upload(client, data)
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    assert posts_of(core, unit_a.id) == []  # a preview creates nothing
    assert "13 Jun 2026 14.30 WITA" in row_html(page, 4)
    assert "Dinsos TG" in row_html(page, 2) and "Gerakan Literasi" in row_html(page, 2)
    with core.sessions() as s:  # nor does it leave an audit trace
        assert s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action.like("post.%"))).scalar() == 0

    r = confirm(client, page)
    assert r.status_code == 302
    posts = posts_of(core, unit_a.id)
    assert [p.status for p in posts] == [PostStatus.DRAFT] * 3
    assert [p.body for p in posts] == ["Bantuan sosial tahap 2 cair", "Jadwal posyandu",
                                       "Baris pertama\nbaris kedua; dengan titik koma"]
    assert posts[0].channel_ids == [chans["fb"], chans["tg"]]
    assert posts[1].channel_ids == [chans["fb"]] and posts[2].channel_ids == [chans["tg"]]
    # 09:00 WITA is 01:00 UTC; 14:30 WITA is 06:30 UTC; an empty time is "when approved"
    assert posts[0].scheduled_at.replace(tzinfo=UTC) == datetime(2026, 6, 12, 1, 0, tzinfo=UTC)
    assert posts[1].scheduled_at is None
    assert posts[2].scheduled_at.replace(tzinfo=UTC) == datetime(2026, 6, 13, 6, 30, tzinfo=UTC)
    with core.sessions() as s:
        names = {c.id: c.name for c in s.execute(select(Campaign)).scalars()}
        events = s.execute(select(AuditEvent).where(AuditEvent.action.like("post.%"))
                           .order_by(AuditEvent.id)).scalars().all()
    assert [names.get(p.campaign_id) for p in posts] == ["Gerakan Literasi", "Bansos Tahap 2",
                                                          None]
    assert [e.action for e in events] == ["post.create"] * 3 + ["post.bulk_import"]
    assert events[-1].data["count"] == 3 and events[-1].actor_id == op.id
    assert events[-1].data["submitted"] is False and events[-1].unit_id == unit_a.id

    again = confirm(client, page)  # the back button and a second click: not twice
    assert again.status_code == 302 and len(posts_of(core, unit_a.id)) == 3


def test_xlsx_with_date_cells_and_english_headers_creates_drafts(client, core, login_as,
                                                                 chans, unit_a):
    login_as(Role.APPROVER, "a")  # approvers import too
    data = xlsx_bytes([["Text", "Channels", "Time", "Campaign", "Catatan"],
                       ["Siaran pers banjir", "Dinsos FB, Dinsos TG",
                        datetime(2026, 6, 11, 8, 15), "", "untuk rapat"],
                       [None, None, None, None, None],  # an empty row is skipped
                       [2026, "dinsos fb", "2026-06-20T19:00", "Gerakan Literasi", ""]])
    page = upload(client, data, "rencana.xlsx").get_data(as_text=True)
    assert "Catatan" in page  # an unknown column is named, not read
    assert row_html(page, 4) and "OK" in row_html(page, 4)
    assert confirm(client, page).status_code == 302
    posts = posts_of(core, unit_a.id)
    assert [p.body for p in posts] == ["Siaran pers banjir", "2026"]
    assert posts[0].channel_ids == [chans["fb"], chans["tg"]]
    assert posts[0].scheduled_at.replace(tzinfo=UTC) == datetime(2026, 6, 11, 0, 15, tzinfo=UTC)
    assert posts[1].scheduled_at.replace(tzinfo=UTC) == datetime(2026, 6, 20, 11, 0, tzinfo=UTC)
    assert all(p.status == PostStatus.DRAFT for p in posts)


BROKEN = {
    "unknown channel": ("Kabar ketiga;Dinsos IG;2026-06-15 09:00;",
                        "Akun 'Dinsos IG' tidak ditemukan di unit ini."),
    "past time": ("Kabar ketiga;Dinsos FB;2026-06-01 09:00;", "Waktu ini sudah lewat"),
    "text too long for X": (("panjang " * 40) + ";Dinsos X;2026-06-15 09:00;",
                            "Dinsos X: Teks terlalu panjang untuk X"),
    "unreadable time": ("Kabar ketiga;Dinsos FB;besok pagi;", "Waktu 'besok pagi' tidak dapat"),
    "unknown campaign": ("Kabar ketiga;Dinsos FB;;Rahasia Bappeda",
                         "Kampanye 'Rahasia Bappeda' tidak ditemukan."),
    "media by link": ("Kabar ketiga;Dinsos FB;;", "belum didukung"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_one_broken_row_creates_nothing_and_the_preview_names_it(client, core, login_as,
                                                                 chans, unit_a, case):
    x_channel(core, unit_a.id)
    login_as(Role.OPERATOR, "a")
    broken, problem = BROKEN[case]
    header = "teks;akun;waktu;kampanye;media" if case == "media by link" else \
        "teks;akun;waktu;kampanye"
    if case == "media by link":
        broken += ";http://169.254.169.254/latest/meta-data"
    data = csv_bytes("Kabar pertama;Dinsos FB;2026-06-15 09:00;",
                     "Kabar kedua;Dinsos X;2026-06-15 10:00;", broken, header=header)
    page = upload(client, data).get_data(as_text=True)
    assert problem in html.unescape(row_html(page, 4)), row_html(page, 4)
    assert "has-errors" not in row_html(page, 2) and "has-errors" in row_html(page, 4)
    assert payload_of(page) is None  # no "create" button while a row is wrong
    assert 'id="import-form"' in page  # the upload form again, for the corrected file
    assert posts_of(core, unit_a.id) == []

    # nor through the service directly: the good rows are not created without the bad one
    source = bulk_files.read_spreadsheet(data, "rencana.csv")
    with core.sessions() as s:
        op = s.execute(select(User).where(User.role == Role.OPERATOR)).scalars().first()
        with pytest.raises(importer.ImportRefused) as refused:
            importer.apply_import(core, s, op, source)
        s.commit()  # even a caller that commits after the refusal keeps nothing
    assert [r.number for r in refused.value.plan.rows_with_errors] == [4]
    assert posts_of(core, unit_a.id) == []


def test_a_row_that_breaks_between_preview_and_create_creates_nothing(client, core, login_as,
                                                                      chans, unit_a):
    login_as(Role.OPERATOR, "a")
    page = upload(client, csv_bytes("Satu;Dinsos FB;;", "Dua;Dinsos TG;;")).get_data(
        as_text=True)
    with core.sessions.begin() as s:  # someone disables a channel meanwhile
        s.get(Channel, chans["tg"]).status = ChannelStatus.DISABLED
    r = confirm(client, page)
    again = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Tidak ada yang dibuat" in again and "Dinsos TG" in row_html(again, 3)
    assert "dinonaktifkan" in row_html(again, 3)
    assert posts_of(core, unit_a.id) == []


def test_another_units_channels_are_unknown_even_when_its_unit_is_asked_for(
        client, core, login_as, chans, unit_a, units):
    login_as(Role.OPERATOR, "a")
    data = csv_bytes("Kabar;Bappeda FB;;", "Kabar;Dinsos FB;;")
    page = upload(client, data, unit=str(units["b"].id)).get_data(as_text=True)
    assert "Akun &#39;Bappeda FB&#39; tidak ditemukan di unit ini." in row_html(page, 2)
    assert "has-errors" not in row_html(page, 3)
    assert "Bappeda</strong>" not in page  # the page names unit A, not the unit asked for
    assert posts_of(core, units["b"].id) == [] and posts_of(core, unit_a.id) == []
    # an admin chooses the unit, and then that unit's names are the ones known
    login_as(Role.ADMIN, None)
    page = upload(client, csv_bytes("Kabar;Bappeda FB;;"), unit=str(units["b"].id)).get_data(
        as_text=True)
    assert confirm(client, page).status_code == 302
    assert [p.channel_ids for p in posts_of(core, units["b"].id)] == [[chans["b"]]]
    assert upload(client, csv_bytes("Kabar;Bappeda FB;;")).status_code == 400  # no unit chosen


def test_formula_looking_cells_stay_literal_text_and_the_preview_escapes(client, core,
                                                                        login_as, chans, unit_a):
    login_as(Role.OPERATOR, "a")
    cells = ['=HYPERLINK("http://evil.example","klik")', "+62 811 0000", "@dinsos_kota",
             "-10% tarif", "<script>alert(1)</script>"]
    data = csv_bytes(*[f'"{c.replace(chr(34), chr(34) * 2)}";Dinsos FB;;' for c in cells])
    page = upload(client, data).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert confirm(client, page).status_code == 302
    assert [p.body for p in posts_of(core, unit_a.id)] == cells
    # an XLSX formula cell is its formula's text, never its result, and the row says so
    data = xlsx_bytes([["teks", "akun"], [None, "Dinsos FB"]], formulas={"A2": "=1+1"})
    page = upload(client, data, "rumus.xlsx").get_data(as_text=True)
    assert "=1+1" in row_html(page, 2) and "rumus" in row_html(page, 2)
    confirm(client, page)
    assert posts_of(core, unit_a.id)[-1].body == "=1+1"


def test_too_many_rows_and_too_large_files_are_refused_clearly(client, core, login_as, chans,
                                                               unit_a):
    login_as(Role.OPERATOR, "a")
    many = csv_bytes(*[f"Kabar {i};Dinsos FB;;" for i in range(bulk_files.MAX_ROWS + 1)])
    r = upload(client, many)
    assert r.status_code == 400
    assert f"lebih dari {bulk_files.MAX_ROWS} unggahan" in r.get_data(as_text=True)
    big = csv_bytes("Kabar;Dinsos FB;;") + b" " * bulk_files.MAX_FILE_BYTES
    r = upload(client, big)  # past the app's 1 MB body limit, within the import's own
    page = r.get_data(as_text=True)
    assert r.status_code == 413 and "paling besar 2 MB" in page and 'id="import-form"' in page
    r = upload(client, b"\xd0\xcf\x11\xe0" + b"\0" * 100, "lama.xls")
    assert r.status_code == 400 and ".xls lama" in r.get_data(as_text=True)
    assert posts_of(core, unit_a.id) == []


def test_submit_mode_leaves_posts_submitted_never_approved(client, core, login_as, chans,
                                                           unit_a):
    login_as(Role.APPROVER, "a")  # even an approver's import approves nothing
    page = upload(client, csv_bytes("Satu;Dinsos FB;2026-06-12 09:00;", "Dua;Dinsos TG;;"),
                  mode="submit").get_data(as_text=True)
    r = confirm(client, page)
    assert r.status_code == 302
    posts = posts_of(core, unit_a.id)
    assert [p.status for p in posts] == [PostStatus.SUBMITTED] * 2
    assert all(p.approved_by is None and p.approval_hash is None for p in posts)
    with core.sessions() as s:
        assert s.execute(select(func.count()).select_from(Publication)).scalar() == 0
        actions = s.execute(select(AuditEvent.action)).scalars().all()
    assert actions.count("post.submit") == 2 and "post.approve" not in actions


def test_the_templates_download_and_parse_back(client, core, login_as, chans, unit_a):
    login_as(Role.OPERATOR, "a")
    with core.sessions.begin() as s:  # a name a spreadsheet would run is left out
        s.add(Channel(unit_id=unit_a.id, platform="sandbox", name="=CMD()", state={},
                      credentials_encrypted=b"x", status=ChannelStatus.ACTIVE))
    r = client.get("/unggahan/impor/templat.csv")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    assert r.data.startswith("\ufeffteks;akun;waktu".encode())
    assert b"=CMD" not in r.data
    csv_source = bulk_files.read_spreadsheet(r.data, "templat.csv")
    x = client.get("/unggahan/impor/templat.xlsx")
    assert x.status_code == 200 and x.data.startswith(b"PK")
    xlsx_source = bulk_files.read_spreadsheet(x.data, "templat.xlsx")
    assert isinstance(load_workbook(io.BytesIO(x.data)).active["C2"].value, datetime)
    for source in (csv_source, xlsx_source):
        assert source.unknown_columns == () and len(source.rows) == 1
        with core.sessions() as s:
            op = s.execute(select(User).where(User.role == Role.OPERATOR)).scalars().first()
            plan = importer.plan_import(core, s, op, source)
        assert plan.ok, [r.errors for r in plan.rows]
        assert [c.name for c in plan.rows[0].channels] == ["Dinsos FB", "Dinsos TG"]
        local = plan.rows[0].scheduled_at.astimezone(__import__("zoneinfo").ZoneInfo(WITA))
        assert (local.hour, local.minute) == (9, 0)  # tomorrow 09:00 in the unit's zone


def test_errors_speak_the_users_language_and_expired_previews_are_refused(client, core,
                                                                          login_as, chans,
                                                                          unit_a, clock):
    user = login_as(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        s.get(User, user.id).locale = "en"
    page = upload(client, csv_bytes("Kabar;Dinsos IG;;")).get_data(as_text=True)
    assert "Channel &#39;Dinsos IG&#39; was not found in this unit." in row_html(page, 2)
    assert "tidak ditemukan" not in page
    page = upload(client, csv_bytes("Kabar;Dinsos FB;;")).get_data(as_text=True)
    token = payload_of(page)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    r = client.post("/unggahan/impor/buat", data={"payload": tampered})
    assert r.status_code == 400 and "expired or cannot be read" in r.get_data(as_text=True)
    clock.advance(hours=2)
    r = client.post("/unggahan/impor/buat", data={"payload": token})
    assert r.status_code == 400 and posts_of(core, unit_a.id) == []
    clock.advance(hours=-2)
    assert client.post("/unggahan/impor/buat", data={"payload": token}).status_code == 302
    assert len(posts_of(core, unit_a.id)) == 1


def test_a_name_two_channels_share_asks_for_the_platform(client, core, login_as, chans,
                                                         unit_a):
    x_channel(core, unit_a.id, name="Dinsos FB")  # the same name on X
    login_as(Role.OPERATOR, "a")
    page = upload(client, csv_bytes("Kabar;Dinsos FB;;", "Kabar;x:Dinsos FB;;",
                                    "Kabar;Sandbox:dinsos fb;;")).get_data(as_text=True)
    assert "sandbox:Dinsos FB, x:Dinsos FB" in html.unescape(row_html(page, 2))
    assert "has-errors" not in row_html(page, 3) and "has-errors" not in row_html(page, 4)


@pytest.mark.parametrize(("data", "rows"), [
    (b"text,channels\nHalo,Dinsos FB\n", [{"body": "Halo", "channels": "Dinsos FB"}]),
    (b"teks\takun\nHalo\tDinsos FB\n", [{"body": "Halo", "channels": "Dinsos FB"}]),
    (b"Teks (wajib);Akun;Waktu (WITA)\nSelamat pagi, warga;A | B;\n",
     [{"body": "Selamat pagi, warga", "channels": "A | B", "time": ""}]),
])
def test_separators_and_headers_are_recognised(data, rows):
    source = bulk_files.read_spreadsheet(data, "f.csv")
    assert [r.cells for r in source.rows] == rows and source.rows[0].number == 2


@pytest.mark.parametrize(("data", "code"), [
    ("teks;akun\nKabar;Dinsos\n".encode("cp1252") + b"\xe9", "encoding"),
    (b"teks;waktu\nKabar;\n", "missing_columns"),
    (b"teks;akun;text\nKabar;A;B\n", "duplicate_column"),
    (b"PK\x03\x04not really a zip", "bad_file"),
    (b"   \n", "empty"),
])
def test_unreadable_files_say_why(data, code):
    with pytest.raises(bulk_files.Invalid) as exc:
        bulk_files.read_spreadsheet(data, "f.csv")
    assert exc.value.code == code


def test_the_import_page_is_linked_from_the_posts_list(client, login_as, chans):
    login_as(Role.OPERATOR, "a")
    assert 'href="/unggahan/impor"' in client.get("/unggahan").get_data(as_text=True)
    page = client.get("/unggahan/impor").get_data(as_text=True)
    assert "/unggahan/impor/templat.xlsx" in page and 'name="file"' in page


def test_csrf_is_required(client, core, login_as, chans, unit_a):  # type: ignore[no-untyped-def]
    """The shared fixture turns CSRF off; here it is on, as in production."""
    from web.app import create_app

    user = login_as(Role.OPERATOR, "a")
    token = payload_of(upload(client, csv_bytes("Kabar;Dinsos FB;;")).get_data(as_text=True))
    app = create_app(core=core)
    app.config.update(TESTING=True)
    c = app.test_client()
    with c.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    r = c.post("/unggahan/impor", content_type="multipart/form-data",
               data={"file": (io.BytesIO(csv_bytes("Kabar;Dinsos FB;;")), "r.csv")})
    assert r.status_code == 400 and 'id="import-rows"' not in r.get_data(as_text=True)
    assert c.post("/unggahan/impor/buat", data={"payload": token}).status_code == 400
    assert posts_of(core, unit_a.id) == []


def test_a_large_import_passes_the_edge_and_an_anonymous_one_does_not(app, client, core,
                                                                      login_as, chans, unit_a):
    """The file (up to 2 MB) and the preview's signed rows (one hidden field far above
    werkzeug's 500 kB per field) have their own body limits, for a logged-in browser only."""
    import random

    anonymous = app.test_client().post(
        "/unggahan/impor", content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"x" * 1536 * 1024), "r.csv")})
    assert anonymous.status_code == 413
    login_as(Role.OPERATOR, "a")
    rng = random.Random(21)
    rows = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz .,") for _ in range(4000))
            + ";Dinsos FB;;" for _ in range(400)]
    data = csv_bytes(*rows)
    assert 1024 * 1024 < len(data) < bulk_files.MAX_FILE_BYTES  # over the app's body limit
    page = upload(client, data).get_data(as_text=True)
    assert len(payload_of(page) or "") > 1024 * 1024
    assert confirm(client, page).status_code == 302
    assert len(posts_of(core, unit_a.id)) == 400


@pytest.mark.browser
def test_the_preview_fits_a_phone_and_has_no_serious_accessibility_violations(  # type: ignore[no-untyped-def]
        core, tmp_path, browser_page):  # noqa: F811
    """The preview (a wide table of rows with their problems) in a real Chromium, at a desk
    and at a phone's width: nothing wider than the screen outside its scrolling table, and
    axe-core finds nothing serious."""
    from datetime import timedelta

    from publisher.demo import seed_demo
    from publisher.models import WorkerHeartbeat
    from tests.web.test_accessibility import AXE, RUN
    from tests.web.test_browser import DOCS
    from tests.web.test_phone import WIDEST, login

    seed_demo(core)
    with core.sessions.begin() as s:  # a worker is running (no "worker down" banner)
        at = core.now() + timedelta(minutes=10)
        s.add(WorkerHeartbeat(worker_id="w1", host="h", pid=1, started_at=at, last_tick_at=at,
                              info=""))
    page, base = browser_page
    login(page, base, "operator@demo.go.id")
    page.goto(base + "/unggahan/impor")
    sheet = tmp_path / "rencana.csv"
    sheet.write_bytes(csv_bytes(
        "Pendaftaran bantuan sosial tahap 2 dibuka hari ini di kantor kelurahan.;"
        "Facebook Dinsos | Instagram Dinsos;;",
        "Posyandu balita setiap Sabtu pagi. #SehatBersama;Akun Lain;;",
        "Jadwal penyaluran BLT minggu ini;facebook dinsos;;"))
    page.set_input_files("#import-file", str(sheet))
    page.click("#import-form button[type=submit]")
    page.wait_for_load_state()
    assert "Akun 'Akun Lain' tidak ditemukan" in page.inner_text("#row-3")
    width, culprits = page.evaluate(WIDEST)
    assert width <= max(390, page.viewport_size["width"]), culprits
    if page.viewport_size["width"] > 390:  # the README's picture (WARTA_UPDATE_SCREENSHOTS=1)
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / "bulk-import-preview.png"), full_page=True)
    page.add_script_tag(content=AXE)
    assert page.evaluate(RUN) == []


def test_a_file_with_only_its_header_offers_nothing_to_create(client, login_as, chans):
    login_as(Role.OPERATOR, "a")
    r = upload(client, csv_bytes(";;;", ""))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "Berkas tidak berisi unggahan" in page
    assert payload_of(page) is None


def test_every_problem_of_a_row_is_named_at_once(client, login_as, chans):
    """A past time does not hide an empty channel cell (each check speaks for its column)."""
    login_as(Role.OPERATOR, "a")
    page = html.unescape(upload(client, csv_bytes(";;2026-06-01 09:00;")).get_data(
        as_text=True))
    row = row_html(page, 2)
    assert "Waktu ini sudah lewat" in row and "Isi unggahan wajib diisi." in row
    assert "Pilih minimal satu akun." in row


def test_an_admins_unit_beyond_any_id_is_no_unit_and_a_file_name_is_cleaned(client, core,
                                                                          login_as, chans,
                                                                          units):
    login_as(Role.ADMIN, None)
    r = upload(client, csv_bytes("Kabar;Bappeda FB;;"), unit=str(2**40))
    assert r.status_code == 400 and "Pilih unit" in r.get_data(as_text=True)
    assert client.get(f"/unggahan/impor?unit={2**40}").status_code == 200
    assert client.get(f"/unggahan/impor/templat.csv?unit={2**40}").status_code == 200
    page = upload(client, csv_bytes("Kabar;Bappeda FB;;"), "ren\x1bcana\x07.csv",
                  unit=str(units["b"].id)).get_data(as_text=True)
    assert confirm(client, page).status_code == 302
    with core.sessions() as s:
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == "post.bulk_import")).scalar_one()
    assert event.data["file"] == "rencana.csv"
