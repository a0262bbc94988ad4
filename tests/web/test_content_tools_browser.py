"""The content tools of issue 21 in a real Chromium: an operator uploads a banner to the
media library, describes it (alt text), finds it in the composer's "Pilih dari pustaka" and
sees the "Ulangi" (recurring) section; at a desk and at a phone's width nothing is wider than
the screen and axe-core finds nothing serious. The README's pictures of the library and of the
composer's tools come from this walk (``WARTA_UPDATE_SCREENSHOTS=1``)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from publisher.demo import seed_demo
from publisher.models import WorkerHeartbeat
from tests.web.test_accessibility import AXE, RUN, browser_page  # noqa: F401 - fixture
from tests.web.test_browser import DOCS, live  # noqa: F401 - the live server fixture
from tests.web.test_phone import WIDEST, login

pytestmark = pytest.mark.browser


def test_library_alt_text_and_composer_tools(core, tmp_path, browser_page) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    seed_demo(core)
    with core.sessions.begin() as s:  # a worker is running (no "worker down" banner)
        at = core.now() + timedelta(minutes=10)
        s.add(WorkerHeartbeat(worker_id="w1", host="h", pid=1, started_at=at, last_tick_at=at,
                              info=""))
    page, base = browser_page
    desk = page.viewport_size["width"] > 390
    login(page, base, "operator@demo.go.id")
    banner = tmp_path / "spanduk-posyandu.png"
    buf = io.BytesIO()
    Image.new("RGB", (1200, 628), (11, 83, 148)).save(buf, "PNG")
    banner.write_bytes(buf.getvalue())
    page.goto(base + "/media")
    page.set_input_files("#lib-file", str(banner))
    page.click("#library-upload button[type=submit]")
    page.wait_for_load_state()
    page.get_by_role("link", name="spanduk-posyandu.png").first.click()
    page.wait_for_load_state()
    page.fill("textarea[name=alt_text]", "Spanduk biru: Posyandu balita setiap Sabtu pagi")
    page.fill("input[name=tags]", "posyandu spanduk")
    page.click("#asset-form button[type=submit]")
    page.wait_for_load_state()
    page.goto(base + "/media?tag=posyandu")
    assert "Spanduk biru: Posyandu balita" in page.content()
    for path, picture in (("/media", "media-library"), ("/unggahan/baru", "composer-tools")):
        page.goto(base + path)
        page.wait_for_load_state()
        if path == "/unggahan/baru":
            page.click("#library-pick summary")
            assert page.locator("#library-pick").get_by_text("spanduk-posyandu.png").count()
            assert page.get_by_text("Ulangi").count()
        width, culprits = page.evaluate(WIDEST)
        assert width <= max(390, page.viewport_size["width"]), (path, culprits)
        if desk:  # the README's pictures (WARTA_UPDATE_SCREENSHOTS=1)
            DOCS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(DOCS / f"{picture}.png"), full_page=True)
        page.add_script_tag(content=AXE)
        assert page.evaluate(RUN) == [], path
