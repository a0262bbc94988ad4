"""Exports cannot carry live spreadsheet formulas (OWASP "CSV injection"): a unit, channel or
campaign named ``=HYPERLINK(…)`` opens as text in the public CSV (no login), the reports'
CSV and the XLSX workbook."""

from __future__ import annotations

import csv
import io

import pytest

from publisher.models import Channel, Unit
from publisher.reports.exports import neutralise, to_csv, to_xlsx
from tests.reports import conftest as reports_fixtures

# The reports tests' published figures (two units, several platforms, November 2026).
build, data = reports_fixtures.build, reports_fixtures.data

EVIL = ["=HYPERLINK(\"https://evil.example\",\"klik\")", "+1+cmd|' /C calc'!A0", "-2+3",
        "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("value", EVIL)
def test_dangerous_text_gets_a_quote_prefix(value: str) -> None:
    assert neutralise(value) == "'" + value
    row = next(csv.reader(io.StringIO(to_csv(["x"], [[value]])).readlines()[1:]))
    assert row == ["'" + value]


@pytest.mark.parametrize("value", ["Dinas Sosial", "a=b", "", "'=already", "x-1"])
def test_ordinary_text_is_kept(value: str) -> None:
    assert neutralise(value) == value


def test_numbers_stay_numbers() -> None:
    assert neutralise(-3) == -3 and neutralise(-0.5) == -0.5
    assert to_csv(["n"], [[-3]]).splitlines()[1] == "-3"


def test_xlsx_text_is_a_string_never_a_formula() -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_xlsx([("s", ["=header"], [[v, 5] for v in EVIL])],
                                            title="=title")))
    cells = [c for row in book["s"].iter_rows() for c in row if c.value is not None]
    texts = [c for c in cells if isinstance(c.value, str)]
    assert len(texts) == 2 + len(EVIL)
    assert all(c.data_type == "s" for c in texts), [(c.value, c.data_type) for c in texts]
    # the text itself is kept, as text (XML stores a CR as a newline)
    assert [c.value for c in texts][2:] == [v.replace("\r", "\n") for v in EVIL]
    assert [c.data_type for c in cells if c.value == 5] == ["n"] * len(EVIL)


def _rename(core, units, data) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        unit = s.get(Unit, units["b"].id)
        unit.name, unit.public_report = EVIL[0], True
        for cid in data.channels.values():
            s.get(Channel, cid).name = EVIL[3]


def test_public_csv_needs_no_login_and_carries_no_formula(client, core, units, data):  # type: ignore[no-untyped-def]
    _rename(core, units, data)
    r = client.get("/publik/laporan.csv?bulan=2026-11")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [row["unit"] for row in rows] == ["'" + EVIL[0]]


def test_reports_exports_carry_no_formula(client, core, units, data, make_user):  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    _rename(core, units, data)
    admin = make_user("admin", None)
    with client.session_transaction() as sess:
        sess["_user_id"] = str(admin.id)
        sess["_fresh"] = True
    for sep in ("semicolon", "comma"):  # Indonesian headers, either separator
        r = client.get(f"/laporan/ekspor.csv?table=publications&sep={sep}"
                       "&from=2026-11-01&to=2026-11-30")
        rows = reports_fixtures.read_csv(r, sep=";" if sep == "semicolon" else ",")
        assert "'" + EVIL[0] in {row["unit"] for row in rows}
        assert {row["channel"] for row in rows} == {"'" + EVIL[3]}
    r = client.get("/laporan/ekspor.xlsx?from=2026-11-01&to=2026-11-30")
    book = load_workbook(io.BytesIO(r.data))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    evil = [c for c in cells if isinstance(c.value, str) and c.value in (EVIL[0], EVIL[3])]
    assert evil and all(c.data_type == "s" for c in evil)
    assert not [c for c in cells if c.data_type == "f"]
