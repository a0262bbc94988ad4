"""Browser tests of the printable report (printed without the app's header, menu and footer)
and of the per-post chart (its time axis spans the snapshots, read back from Chart.js)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from werkzeug.serving import make_server

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
Q = "from=2026-11-01&to=2026-11-30"
HOUR = 3600 * 1000
#: The per-post chart as Chart.js keeps it (page.goto waits for the load event, after the
#: DOMContentLoaded handler drew it).
CHART = "Chart.getChart(document.getElementById('chart-history'))"


@pytest.fixture
def browse(app, chromium_path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """``browse(user)``: a Chromium page logged in as ``user`` on a live server, its base URL
    and the list its script errors are collected in."""
    from playwright.sync_api import sync_playwright

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)

        def open_as(user: Any, width: int = 1280) -> tuple[Any, str, list[str]]:
            client = app.test_client()
            with client.session_transaction() as sess:
                sess["_user_id"] = str(user.id)
                sess["_fresh"] = True
            ctx = browser.new_context(viewport={"width": width, "height": 900})
            ctx.add_cookies([{"name": "session", "value": client.get_cookie("session").value,
                              "url": base}])
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            return page, base, errors
        try:
            yield open_as
        finally:
            browser.close()
            server.shutdown()


CHROME = ["header.top", "nav.nav", "header.top .user", "footer.foot", "label.nav-toggle-label"]


@pytest.mark.browser
def test_printed_report_has_no_app_header_or_menu(browse, make_user, data):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect

    page, base, errors = browse(make_user("admin", None))
    page.goto(f"{base}/laporan/cetak?{Q}")
    expect(page.locator("nav.nav")).to_be_visible()  # on screen, the app is around it
    page.emulate_media(media="print")
    for sel in CHROME:
        assert page.locator(sel).count() >= 1, sel
        expect(page.locator(sel).first).to_be_hidden()
    expect(page.locator("[data-print]")).to_be_hidden()
    # what the leader prints: the report's own head, its figures and the chart
    expect(page.locator("header.print-head h1")).to_be_visible()
    expect(page.locator(".print-head .period")).to_be_visible()
    expect(page.locator("#table-channel")).to_be_visible()
    expect(page.locator("#table-time")).to_be_visible()  # the chart's numbers, printed open
    expect(page.locator("#chart-time")).to_be_visible()
    # nothing of the page sits above the report's title when printed
    top = page.evaluate("document.querySelector('header.print-head').getBoundingClientRect()"
                        ".top")
    assert top < 60, top
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    assert not errors, errors


@pytest.mark.browser
def test_post_chart_axis_spans_its_snapshots(browse, make_user, data):  # type: ignore[no-untyped-def]
    """P2 has one snapshot (21 November, 00:00 UTC): the axis is hours wide around it, not
    2023–2030; P1's two accounts' snapshots (3 to 10 November, one after the period) fit in."""
    page, base, errors = browse(make_user("operator", "a"))
    page.goto(f"{base}/laporan/unggahan/{data.posts['p2']}")
    axis = page.evaluate(f"(() => {{ const x = {CHART}.scales.x;"
                         " return {min: x.min, max: x.max, ticks: x.ticks.map(t => t.value)};"
                         " })()")
    point = int(datetime(2026, 11, 21, tzinfo=UTC).timestamp() * 1000)
    assert axis["min"] <= point <= axis["max"]
    assert 2 * HOUR <= axis["max"] - axis["min"] <= 3 * HOUR, axis
    assert len(axis["ticks"]) <= 9
    # ticks in the page's zone, whatever the browser's: the snapshot at 00:00 UTC is 07.00 WIB
    ticks = page.evaluate(f"{CHART}.scales.x.ticks.map(t => t.label)")
    assert any("21/11/26" in t and "07.00" in t for t in ticks), ticks
    page.goto(f"{base}/laporan/unggahan/{data.posts['p1']}")
    axis = page.evaluate(f"(() => {{ const x = {CHART}.scales.x;"
                         " return {min: x.min, max: x.max}; })()")
    first = int(datetime(2026, 11, 3, 3, tzinfo=UTC).timestamp() * 1000)
    last = int(datetime(2026, 12, 5, tzinfo=UTC).timestamp() * 1000)
    assert axis["min"] <= first and last <= axis["max"]
    assert axis["max"] - axis["min"] <= (last - first) + 14 * 24 * HOUR, axis
    # the counts are written the Indonesian way (Chart.js's own default is English)
    assert page.evaluate(f"{CHART}.scales.y.ticks.map(t => t.label)")[-1] == "1.200"
    labels = page.evaluate(f"{CHART}.scales.x.ticks.map(t => t.label)")
    assert labels and all("2026" in str(lb) or "/26" in str(lb) for lb in labels), labels
    assert not errors, errors
