"""Browser test: the reports page draws its chart and, when the period changes, the chart and
the tables show the new period's numbers."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.reports.conftest import utc

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("test-artifacts/screenshots")


@pytest.mark.browser
def test_period_change_updates_chart_and_table(app, core, clock, make_user, data,
                                               chromium_path):  # type: ignore[no-untyped-def]
    from playwright.sync_api import expect, sync_playwright

    clock.now = utc(2026, 12, 10)  # "this month" = December (empty), "last month" = November
    admin = make_user("admin", None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"] = str(admin.id)
        sess["_fresh"] = True
    cookie = client.get_cookie("session")
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path, args=ARGS)
            ctx = browser.new_context(viewport={"width": 390, "height": 900})
            ctx.add_cookies([{"name": "session", "value": cookie.value, "url": base}])
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            # The Content-Security-Policy refuses inline script and style: a page that still
            # relied on them would log a violation here (and lose its behaviour).
            csp: list[str] = []
            page.on("console", lambda m: csp.append(m.text)
                    if "Content Security Policy" in m.text else None)
            page.goto(base + "/laporan/?period=this_month")
            canvas = page.locator("#chart-time")
            expect(canvas).to_have_attribute("data-points", "31")  # Chart.js drew December
            expect(canvas).to_have_attribute("data-series", "0")
            expect(page.locator("#table-platform")).to_contain_text("Tidak ada unggahan terbit")
            page.select_option("#period", "last_month")
            expect(canvas).to_have_attribute("data-points", "30")  # November
            expect(canvas).to_have_attribute("data-series", "2")   # facebook, telegram
            expect(page.locator("#table-platform tbody tr").first).to_contain_text("53")
            expect(page.locator("#total-engagements .card-value")).to_have_text("53")
            assert page.evaluate("window.wartaCharts.length") == 1
            page.screenshot(path=str(SHOTS / "reports-last-month-phone.png"), full_page=True)
            # sorting a breakdown by a number column
            page.locator("#table-unit thead th", has_text="Interaksi").first.click()
            expect(page.locator("#table-unit tbody tr").first).to_contain_text("Dinas Sosial")
            page.goto(base + "/laporan/cetak?period=last_month")
            expect(page.locator("[data-print]")).to_be_visible()
            level = page.evaluate("(() => { const td = document.querySelector('td.hm');"
                                  " return td ? td.style.getPropertyValue('--level') : 'none'"
                                  " })()")
            assert level != "", "the heatmap's shades are set by reports.js"
            assert not errors, errors
            assert not csp, csp
            browser.close()
    finally:
        server.shutdown()
