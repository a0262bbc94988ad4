"""Every page at a phone's width (390 × 844): approvers approve from phones, so nothing may be
wider than the screen (the calendar was 474 px, the users page 405 px), and an action that
cannot be undone asks first."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.demo import seed_demo
from publisher.models import User
from tests.web.test_browser import ARGS, CHROMIUM, live  # noqa: F401 - the live server fixture

pytestmark = pytest.mark.browser
PAGES = ["/", "/unggahan", "/unggahan/baru", "/unggahan/impor", "/persetujuan", "/kalender",
         "/kalender?view=week", "/akun", "/akun/baru?platform=x", "/laporan", "/notifikasi",
         "/profil", "/admin/", "/admin/pengguna", "/admin/unit", "/admin/riwayat", "/admin/jeda",
         "/publik/laporan", "/suara-warga", "/suara-warga/kata-kunci"]
WIDEST = """() => { const W = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll('body *')].filter(e =>
      e.getBoundingClientRect().right > W + 1 && !e.closest('.table-wrap'));
  return [document.documentElement.scrollWidth,
          wide.slice(0, 3).map(e => e.outerHTML.slice(0, 80))]; }"""


@pytest.fixture
def phone(live):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 390, "height": 844}, locale="id-ID",
                              is_mobile=True, has_touch=True)
        pg.dialogs = []  # type: ignore[attr-defined]
        pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
        yield pg, live
        browser.close()


def login(page, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(base + "/masuk")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "warta-demo-2026")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.mark.parametrize("who", ["admin@demo.go.id", "operator@demo.go.id",
                                 "penyetuju@demo.go.id"])
def test_no_page_is_wider_than_a_phone(core, phone, who):
    seed_demo(core)
    page, base = phone
    login(page, base, who)
    too_wide = {}
    for path in PAGES:
        page.goto(base + path)
        width, culprits = page.evaluate(WIDEST)
        if width > 390:
            too_wide[path] = (width, culprits)
    assert too_wide == {}


def test_deactivating_a_user_asks_first(core, phone):
    seed_demo(core)
    page, base = phone
    login(page, base, "admin@demo.go.id")
    page.goto(base + "/admin/pengguna")
    with core.sessions() as s:
        operator = s.execute(select(User).where(User.email == "operator@demo.go.id")).scalar_one()
    page.click(f"#user-{operator.id} form[data-confirm] button")
    page.wait_for_timeout(300)
    assert page.dialogs and "Nonaktifkan" in page.dialogs[0]  # type: ignore[attr-defined]
    with core.sessions() as s:  # dismissed: nothing happened
        assert s.get(User, operator.id).active is True
