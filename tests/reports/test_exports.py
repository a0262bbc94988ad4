"""The exports as a leader opens them in Excel: headers in the viewer's language, CSV with a
byte order mark and the separator / decimal mark of that language's Excel (``sep`` overrides),
XLSX with typed numbers, percentages and date cells in the report's zone."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from publisher.models import User

Q = "from=2026-11-01&to=2026-11-30"
#: The publications table's headers, in order, in both languages (written out by hand).
ID_PUBLICATION_HEADERS = [
    "No. penayangan", "No. unggahan", "Unit", "Platform", "Akun", "Kampanye",
    "Waktu terbit (WIB)", "Tautan di platform", "Suka", "Komentar", "Dibagikan", "Tayangan",
    "Impresi", "Jangkauan", "Disimpan", "Interaksi", "Tingkat interaksi"]
EN_PUBLICATION_HEADERS = [
    "Publication no.", "Post no.", "Unit", "Platform", "Account", "Campaign",
    "Published at (WIB)", "Link on the platform", "Likes", "Comments", "Shares", "Views",
    "Impressions", "Reach", "Saves", "Engagement", "Engagement rate"]


@pytest.fixture
def as_lang(client, login_as, core):  # type: ignore[no-untyped-def]
    """Log in as an admin whose UI language is ``lang``."""
    def login(lang: str) -> None:
        user = login_as("admin", None)
        with core.sessions.begin() as s:
            s.get(User, user.id).locale = lang
    return login


def _lines(r) -> list[str]:  # type: ignore[no-untyped-def]
    assert r.status_code == 200, r.status_code
    assert r.mimetype == "text/csv" and r.mimetype_params.get("charset") == "utf-8"
    assert r.data.startswith(b"\xef\xbb\xbf")  # UTF-8 byte order mark: Excel reads UTF-8
    return r.data.decode("utf-8-sig").splitlines()


def test_csv_in_indonesian_is_semicolon_separated_with_decimal_comma(client, as_lang, data):  # type: ignore[no-untyped-def]
    as_lang("id")
    r = client.get(f"/laporan/ekspor.csv?table=publications&{Q}")
    lines = _lines(r)
    assert lines[0].split(";") == ID_PUBLICATION_HEADERS
    # pub1: likes 10, comments 2, shares 3, impressions 150, reach 100 -> 15 / 100
    assert lines[1].split(";")[6:] == ["2026-11-03 09:00", "https://www.facebook.com/warta/"
                                       f"{data.posts['p1']}/{data.channels['afb']}", "10", "2",
                                       "3", "", "150", "100", "", "15", "15,00%"]
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=laporan-penayangan-2026-11-01-2026-11-30.csv")
    rows = _lines(client.get(f"/laporan/ekspor.csv?table=campaign&{Q}"))
    assert rows[0].split(";")[0] == "Kampanye"
    # P2 and P3 have no campaign: 38 engagements over 340 reach
    assert "Tanpa kampanye;3;3;25;6;5;;;340;2;38;11,18%" in rows
    days = _lines(client.get(f"/laporan/ekspor.csv?table=day&{Q}"))
    assert days[0].startswith("Tanggal;Unggahan;Penayangan;")
    assert days[1].startswith("2026-11-03;1;2;")


def test_csv_in_english_is_comma_separated_with_decimal_point(client, as_lang, data):  # type: ignore[no-untyped-def]
    as_lang("en")
    r = client.get(f"/laporan/ekspor.csv?table=publications&{Q}")
    lines = _lines(r)
    assert lines[0].split(",") == EN_PUBLICATION_HEADERS
    assert lines[1].split(",")[-2:] == ["15", "15.00%"]
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=report-publications-2026-11-01-2026-11-30.csv")
    rows = _lines(client.get(f"/laporan/ekspor.csv?table=campaign&{Q}"))
    assert "No campaign,3,3,25,6,5,,,340,2,38,11.18%" in rows


@pytest.mark.parametrize(("lang", "sep", "expected"), [
    ("id", "comma", ","), ("id", ",", ","), ("id", "semicolon", ";"),
    ("en", "semicolon", ";"), ("en", ";", ";"), ("en", "COMMA", ",")])
def test_sep_overrides_the_language(client, as_lang, data, lang, sep, expected):  # type: ignore[no-untyped-def]
    """The separator and the decimal mark go together: a comma-separated file has a decimal
    point, a semicolon-separated one a decimal comma."""
    as_lang(lang)
    lines = _lines(client.get(f"/laporan/ekspor.csv?table=platform&sep={sep}&{Q}"))
    fb = next(line for line in lines if line.startswith("facebook"))
    cells = fb.split(expected)
    assert len(cells) == 12, fb
    # facebook: 53 engagements over 440 reach
    assert cells[-2:] == ["53", "12,05%" if expected == ";" else "12.05%"]


def test_unknown_separator_is_refused(client, as_lang, data):  # type: ignore[no-untyped-def]
    as_lang("id")
    r = client.get(f"/laporan/ekspor.csv?table=platform&sep=tab&{Q}",
                   headers={"Accept": "application/json"})
    assert r.status_code == 400
    assert "sep=semicolon" in r.get_json()["error"]["message"]
    assert client.get(f"/laporan/ekspor.csv?table=platform&sep=tab&{Q}").status_code == 400


def test_text_with_the_separator_stays_one_cell(client, as_lang, core, data):  # type: ignore[no-untyped-def]
    import csv

    from publisher.models import Channel

    with core.sessions.begin() as s:
        s.get(Channel, data.channels["afb"]).name = "Dinsos; FB, resmi"
    as_lang("id")
    for sep, char in (("semicolon", ";"), ("comma", ",")):
        body = client.get(f"/laporan/ekspor.csv?table=channel&sep={sep}&{Q}").data
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=char))
        assert {len(r) for r in rows} == {12}
        assert "Dinsos; FB, resmi" in {r[0] for r in rows}


def _cells(wb, sheet: str) -> tuple[list, list[list]]:  # type: ignore[no-untyped-def]
    rows = list(wb[sheet].iter_rows())
    return [c.value for c in rows[1]], [list(r) for r in rows[2:]]


@pytest.mark.parametrize(("lang", "sheet", "headers", "date_format", "datetime_format"), [
    ("id", "Penayangan", ID_PUBLICATION_HEADERS, "dd/mm/yyyy", "dd/mm/yyyy hh:mm"),
    ("en", "Publications", EN_PUBLICATION_HEADERS, "yyyy-mm-dd", "yyyy-mm-dd hh:mm")])
def test_xlsx_has_typed_cells_and_translated_headers(client, as_lang, data, lang, sheet,  # type: ignore[no-untyped-def]
                                                     headers, date_format, datetime_format):
    as_lang(lang)
    r = client.get(f"/laporan/ekspor.xlsx?{Q}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data))
    day_sheet = {"id": "Tanggal", "en": "Date"}[lang]
    assert wb.sheetnames == ({"id": ["Unit", "Platform", "Akun", "Kampanye", "Tanggal",
                                     "Penayangan"],
                              "en": ["Unit", "Platform", "Account", "Campaign", "Date",
                                     "Publications"]}[lang])
    header, rows = _cells(wb, sheet)
    assert header == headers
    first = {h: c for h, c in zip(header, rows[0], strict=True)}
    at = first[headers[6]]
    assert at.is_date and at.value == datetime(2026, 11, 3, 9, 0)  # 02:00 UTC in WIB
    assert at.number_format == datetime_format
    likes = first[headers[8]]
    assert likes.data_type == "n" and likes.value == 10 and likes.number_format == "#,##0"
    rate = first[headers[-1]]
    assert rate.data_type == "n" and rate.value == pytest.approx(0.15)
    assert rate.number_format.endswith("%")
    assert first[headers[0]].data_type == "n"  # the id is a number, without grouping
    assert first[headers[0]].number_format == "0"
    assert first[headers[11]].value is None  # views unknown: an empty cell, never 0
    day_header, day_rows = _cells(wb, day_sheet)
    assert day_header[0] == {"id": "Tanggal", "en": "Date"}[lang]
    d = day_rows[0][0]
    assert d.is_date and d.value == datetime(2026, 11, 3) and d.number_format == date_format
    assert [c.value for c in day_rows[0][1:3]] == [1, 2]
    title = wb[sheet]["A1"].value
    assert title == {"id": "Laporan interaksi 2026-11-01 – 2026-11-30",
                     "en": "Engagement report 2026-11-01 – 2026-11-30"}[lang]
    assert wb[sheet].freeze_panes == "A3"  # title and header stay in view
    assert r.headers["Content-Disposition"] == {
        "id": "attachment; filename=laporan-semua-2026-11-01-2026-11-30.xlsx",
        "en": "attachment; filename=report-all-2026-11-01-2026-11-30.xlsx"}[lang]


def test_page_offers_the_other_separator(client, as_lang, data):  # type: ignore[no-untyped-def]
    as_lang("id")
    html = client.get(f"/laporan/?{Q}").get_data(as_text=True)
    assert "dipisahkan titik koma" in html
    assert "sep=comma" in html and "table=publications&amp;sep" not in html
    html = client.get(f"/laporan/?{Q}&sep=comma").get_data(as_text=True)
    assert "dipisahkan koma" in html and "sep=semicolon" in html
    # the download links keep the choice, and so does the filter form
    assert "/laporan/ekspor.csv?from=2026-11-01&amp;to=2026-11-30&amp;sep=comma" in html
    assert '<input type="hidden" name="sep" value="comma">' in html
