"""Basic accessibility of every page, checked by axe-core in a real Chromium: no violation of
the serious or critical kind (missing labels, contrast below WCAG AA, names missing on buttons
and links, broken ARIA), on desktop and at a phone's width, for each role's pages.

axe-core is vendored (``tests/web/vendor/axe.min.js``, 4.14.1, MPL-2.0): a government intranet
test machine may have no network, and the version must not move under the suite. Rules run:
WCAG 2.0/2.1 A and AA. Focus order is checked separately: Tab from the top of the page reaches
the main content's first control before the page's footer, and every focused element shows it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.demo import seed_demo
from tests.web.test_browser import ARGS, CHROMIUM, live  # noqa: F401 - the live server fixture
from tests.web.test_phone import login

pytestmark = pytest.mark.browser
AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text("utf-8")
RUN = """async () => {
  const r = await axe.run(document, {runOnly: {type: 'tag',
      values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => [v.id, v.nodes.slice(0, 3).map(n => n.target.join(' '))]);
}"""
ROLE_PAGES = {
    "admin@demo.go.id": ["/", "/admin/", "/admin/pengguna", "/admin/unit", "/admin/riwayat",
                         "/admin/jeda", "/akun", "/akun/baru?platform=x", "/laporan",
                         "/suara-warga/kata-kunci", "/admin/darurat", "/admin/tahap-persetujuan",
                         "/admin/kebijakan", "/laporan/suara-warga", "/laporan/skor"],
    "operator@demo.go.id": ["/", "/unggahan", "/unggahan/baru", "/unggahan/impor", "/kalender",
                            "/kalender?view=week", "/notifikasi", "/profil", "/suara-warga",
                            "/media", "/templat"],
    "penyetuju@demo.go.id": ["/persetujuan", "/unggahan", "/laporan"],
}
PUBLIC_PAGES = ["/masuk", "/publik/laporan"]


def serious_violations(page, base: str, paths: list[str]) -> dict[str, list]:  # type: ignore[no-untyped-def]
    found = {}
    for path in paths:
        page.goto(base + path)
        page.wait_for_load_state()
        page.add_script_tag(content=AXE)
        bad = page.evaluate(RUN)
        if bad:
            found[path] = bad
    return found


@pytest.fixture(params=[(1280, 900), (390, 844)], ids=["desktop", "phone"])
def browser_page(request, live):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import sync_playwright

    width, height = request.param
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": width, "height": height}, locale="id-ID",
                                bypass_csp=True)  # to inject axe; the pages keep their CSP
        yield page, live
        browser.close()


@pytest.mark.parametrize("who", sorted(ROLE_PAGES))
def test_role_pages_have_no_serious_accessibility_violations(core, browser_page, who):
    seed_demo(core)
    page, base = browser_page
    login(page, base, who)
    assert serious_violations(page, base, ROLE_PAGES[who]) == {}


def test_public_pages_have_no_serious_accessibility_violations(core, browser_page):
    seed_demo(core)
    page, base = browser_page
    assert serious_violations(page, base, PUBLIC_PAGES) == {}


FOCUS_WALK = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const s = getComputedStyle(el);
  const shown = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0)
      || s.boxShadow !== 'none';
  return [el.tagName, !!el.closest('main'), !!el.closest('footer'), shown,
          el.outerHTML.slice(0, 80)];
}"""


def test_tab_reaches_the_main_content_before_the_footer_and_shows_focus(core, browser_page):
    seed_demo(core)
    page, base = browser_page
    login(page, base, "operator@demo.go.id")
    page.goto(base + "/unggahan")
    seen = []
    for _ in range(60):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_WALK)
        if state is None:
            continue
        seen.append(state)
        if state[1] or state[2]:
            break
    assert seen, "Tab focused nothing"
    assert seen[-1][1], f"Tab left the header for the footer, not the main content: {seen[-1]}"
    unshown = [s[4] for s in seen if not s[3]]
    assert unshown == [], f"focused without a visible focus indicator: {unshown[:3]}"
