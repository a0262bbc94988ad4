"""The operator's journey in a real Chromium against a live server: log in, compose for two
sandbox channels with an image, preview and counter, submit; approve as another person; run
the worker; see the permalink in the list and the calendar. Also: no script ever runs from
user content (no dialog fires), inputs are labelled, forms are keyboard-usable."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from publisher.models import Role, WorkerHeartbeat

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path("test-artifacts/screenshots")
#: The README's screenshots are refreshed only on request (WARTA_UPDATE_SCREENSHOTS=1), so a
#: test run does not rewrite committed files.
DOCS = Path("docs/screenshots") if os.environ.get("WARTA_UPDATE_SCREENSHOTS") else SHOTS
EVIL = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


@pytest.fixture
def live(core, clock, chromium_path):  # type: ignore[no-untyped-def]
    from werkzeug.serving import make_server

    from web.app import create_app

    clock.frozen = False
    app = create_app(core=core)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def page(live):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID")
        pg.dialogs = []  # type: ignore[attr-defined]
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        # Every Content-Security-Policy violation Chromium reports (inline script or style).
        pg.csp = []  # type: ignore[attr-defined]
        pg.on("console", lambda m: pg.csp.append(m.text)  # type: ignore[attr-defined]
              if "Content Security Policy" in m.text else None)
        yield pg
        browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, live: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live + "/masuk")
    page.get_by_label("Surel").fill(email)
    page.get_by_label("Kata sandi").fill("rahasia123")
    page.keyboard.press("Enter")  # keyboard-usable: Enter submits
    page.wait_for_url(live + "/")


def assert_labelled(page) -> None:  # type: ignore[no-untyped-def]
    unlabelled = page.evaluate("""() => Array.from(document.querySelectorAll(
        'input:not([type=hidden]), select, textarea')).filter(el =>
        !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el =>
        el.name || el.id)""")
    assert unlabelled == [], unlabelled


def test_journey(live, page, core, make_user, make_channel, tmp_path):  # type: ignore[no-untyped-def]
    from PIL import Image

    admin = make_user(Role.ADMIN, None)
    ch1 = make_channel(admin, name="Dinsos FB", account="dinsos-fb")
    ch2 = make_channel(admin, name="Dinsos IG", account="dinsos-ig")
    operator = make_user(Role.OPERATOR, "a", email="operator@dinsos.go.id")
    approver = make_user(Role.APPROVER, "a", email="approver@dinsos.go.id")
    image = tmp_path / "banjir.png"
    Image.new("RGB", (320, 240), (20, 120, 200)).save(image)

    login(page, live, operator.email)
    assert page.get_by_role("alert").filter(has_text="Tidak ada worker").count() == 1
    shot(page, "dashboard-no-worker")
    with core.sessions.begin() as s:  # a worker ticks: the banner goes away
        s.add(WorkerHeartbeat(worker_id="w1", host="server-1", pid=1,
                              started_at=core.now(), last_tick_at=core.now()))
    page.reload()
    assert page.get_by_text("Tidak ada worker").count() == 0
    shot(page, "dashboard")
    page.goto(live + "/unggahan/baru")
    assert_labelled(page)
    page.get_by_label("Teks", exact=True).fill("Posko banjir dibuka https://dinsos.example.go.id "
                                               + EVIL)
    page.get_by_label("Dinsos FB").check()
    page.get_by_label("Dinsos IG").check()
    page.set_input_files("#upload", str(image))
    page.wait_for_selector("#thumbs img")
    counter = page.locator("#counter")
    assert "Dinsos FB" in counter.inner_text() and "5000" in counter.inner_text()
    assert page.locator("#previews .preview").count() == 2
    assert "<script>alert(1)</script>" in page.locator("#previews .preview").first.inner_text()
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "composer.png"), full_page=True)
    shot(page, "composer")
    page.get_by_role("button", name="Ajukan persetujuan").click()
    page.wait_for_selector("text=Unggahan sudah diajukan")
    shot(page, "post-submitted")
    page.get_by_role("button", name="Keluar").click()

    login(page, live, approver.email)
    page.goto(live + "/persetujuan")
    assert_labelled(page)
    shot(page, "approvals")
    page.get_by_role("button", name="Setujui").first.click()
    page.wait_for_selector("text=Disetujui. Unggahan akan terbit")

    from publisher.worker import run_once

    assert run_once(core) >= 2
    page.goto(live + "/unggahan")
    links = page.get_by_role("link", name="Lihat di platform")
    assert links.count() == 2
    shot(page, "posts")
    page.goto(live + "/kalender")
    assert page.locator(".ev.published").count() == 2
    page.screenshot(path=str(DOCS / "calendar.png"), full_page=True)
    shot(page, "calendar")
    for path in ("/", "/akun", "/notifikasi", "/kalender?view=week"):
        page.goto(live + path)
        shot(page, path.strip("/").replace("?", "-").replace("=", "-") or "home")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(live + "/unggahan")
    shot(page, "posts-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400 + 30
    assert page.dialogs == []  # type: ignore[attr-defined]
    assert page.csp == [], page.csp  # type: ignore[attr-defined]
    with core.sessions() as s:
        from sqlalchemy import select

        from publisher.models import Publication

        done = sorted(s.execute(select(Publication.channel_id, Publication.status)).all())
    assert done == sorted([(ch1, "published"), (ch2, "published")])
