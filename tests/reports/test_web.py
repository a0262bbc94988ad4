"""Reports page, exports (opened back), API and unit scoping through the Flask test client."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from tests.reports.conftest import ID_SHEETS, NOVEMBER, read_csv, sheet_rows

Q = "from=2026-11-01&to=2026-11-30"


def test_page_admin_sees_all_units(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    r = client.get(f"/laporan/?{Q}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    # The accounts' own rows (their names are also in the filter form, whatever the figures).
    assert _rows(html, "table-channel") == ["Bappeda FB", "Dinsos FB", "Dinsos Telegram"]
    assert 'id="chart-time"' in html and 'id="heatmap"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "Draf rahasia" not in html


def test_page_operator_scoped(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("operator", "a")
    html = client.get(f"/laporan/?{Q}").get_data(as_text=True)
    assert _rows(html, "table-channel") == ["Dinsos FB", "Dinsos Telegram"]
    assert "Bappeda" not in html and "Musrenbang" not in html


def _rows(html: str, table_id: str) -> list[str]:
    """The row headings of one table of the page."""
    import re

    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table, table_id
    return sorted(r.strip() for r in re.findall(r'<th scope="row">([^<]*)', table.group(0)))


def test_page_rejects_bad_dates(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    assert client.get("/laporan/?from=2026-13-01&to=2026-11-30").status_code == 400
    assert client.get("/laporan/?from=2026-11-30&to=2026-11-01").status_code == 400


def test_csv_export_opened_back(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    r = client.get(f"/laporan/ekspor.csv?table=platform&{Q}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    by = {row["platform"]: row for row in read_csv(r)}
    assert by["facebook"]["engagements"] == "53"
    assert by["facebook"]["likes"] == "35"
    assert by["telegram"]["engagements"] == ""  # unknown is empty, never 0
    assert by["telegram"]["views"] == "200"
    pubs = read_csv(client.get(f"/laporan/ekspor.csv?table=publications&{Q}"))
    assert len(pubs) == 5
    first = pubs[0]
    assert first["published_at"] == "2026-11-03 09:00"  # the header says WIB
    assert first["permalink"].startswith("https://www.facebook.com/warta/")


def test_csv_export_scoped(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("operator", "b")
    rows = read_csv(client.get(f"/laporan/ekspor.csv?table=publications&{Q}"))
    assert [r["unit"] for r in rows] == ["Bappeda"]
    units = read_csv(client.get(f"/laporan/ekspor.csv?table=unit&{Q}"))
    assert [r["unit"] for r in units] == ["Bappeda"]


def test_xlsx_export_opened_back(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("operator", "a")
    r = client.get(f"/laporan/ekspor.xlsx?{Q}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.data), read_only=True)
    assert set(wb.sheetnames) == set(ID_SHEETS.values())
    header, body = sheet_rows(wb, "unit")
    assert header[0] == "Unit"
    assert [(b["unit"], b["engagements"], b["reach"]) for b in body] == [("Dinas Sosial", 23,
                                                                         140)]
    assert body[0]["engagement_rate"] == pytest.approx(23 / 140)
    _, pubs = sheet_rows(wb, "publications")
    assert len(pubs) == 4 and {p["unit"] for p in pubs} == {"Dinas Sosial"}


def test_printable_report(client, login_as, data):  # type: ignore[no-untyped-def]
    login_as("admin", None)
    html = client.get(f"/laporan/cetak?{Q}").get_data(as_text=True)
    assert "Diskominfo" in html and "@media print" not in html  # styles are in reports.css
    # The page's figures for the same request, not a template shell.
    assert _rows(html, "table-channel") == ["Bappeda FB", "Dinsos FB", "Dinsos Telegram"]
    assert "Periode: 1 November 2026 – 30 November 2026 (Asia/Jakarta)" in html
    assert 'id="chart-time"' in html
    css = client.get("/static/reports.css").get_data(as_text=True)
    assert "@media print" in css


def test_api_same_numbers_and_scoped(api_as, make_user, data):  # type: ignore[no-untyped-def]
    admin = api_as(make_user("admin", None))
    r = admin.get(f"/reports/engagement?{Q}&group_by=platform")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["totals"]["engagements"] == 53
    assert body["totals"]["engagement_rate"] == pytest.approx(53 / 440)
    assert {row["key"]: row["engagements"] for row in body["rows"]} == {"facebook": 53,
                                                                        "telegram": None}
    assert body["from"] == NOVEMBER["from"]
    op_b = api_as(make_user("operator", "b"))
    days = op_b.get(f"/reports/engagement?{Q}&group_by=day").get_json()
    assert days["totals"]["engagements"] == 30
    assert [(row["key"], row["engagements"]) for row in days["rows"]] == [("2026-11-05", 30)]


def test_api_errors(api_as, make_user, client, data):  # type: ignore[no-untyped-def]
    api = api_as(make_user("admin", None))
    r = api.get(f"/reports/engagement?{Q}&group_by=weather")
    assert r.status_code == 400 and "group_by" in r.get_json()["error"]["fields"]
    assert client.get("/api/v1/reports/engagement").status_code == 401


def test_post_detail_and_refresh(app, client, login_as, core, data):  # type: ignore[no-untyped-def]
    from publisher.models import Publication

    login_as("operator", "a")
    pid = data.posts["p1"]
    html = client.get(f"/laporan/unggahan/{pid}").get_data(as_text=True)
    assert 'id="chart-history"' in html and "Dinsos Telegram" in html
    # the account's heading speaks the UI's language: no raw platform code or status
    import re

    heading = re.sub(r"<[^>]+>", "", html.split("<h3>", 1)[1].split("</h3>", 1)[0]).strip()
    assert heading == "Facebook · Dinsos FB Terbit", heading
    assert "Pengambilan data: " in html and "Tahap" not in html
    assert client.post(f"/laporan/unggahan/{pid}/segarkan").status_code == 400  # no CSRF token
    app.config["WTF_CSRF_ENABLED"] = False
    r = client.post(f"/laporan/unggahan/{pid}/segarkan")
    assert r.status_code == 302
    with core.sessions() as s:
        pub = s.get(Publication, data.pubs["pub1"])
        assert pub.next_metrics_at == core.now()
    # another unit's post looks absent
    assert client.get(f"/laporan/unggahan/{data.posts['p3']}").status_code == 404
    assert client.post(f"/laporan/unggahan/{data.posts['p3']}/segarkan").status_code == 404
