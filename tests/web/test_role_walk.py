"""Each role's day in a real Chromium against a live server, at a desktop's and a phone's size:
what the screen says must be what happened (issue 14's traps, walked end to end).

- operator: a past time is refused with a message that offers "publish now", and the text typed
  is kept; the post is submitted for a real time;
- approver: approves from the approvals page; after the worker ran, the post itself says
  "Terbit", and a published post offers neither cancel nor reschedule;
- admin: a duplicate address on "create user" names the field and keeps what was typed; the
  public transparency page is switched on for the unit (it asks first);
- leader (an approver reading reports): the report shows the unit's accounts, and its CSV is one
  Excel in Indonesian opens (a byte order mark, ``;`` between fields);
- public visitor: the unit's published post appears on the public page.

The README's screenshots of these pages are written by this walk (``WARTA_UPDATE_SCREENSHOTS=1``,
desktop size).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from publisher.demo import seed_demo
from publisher.models import Post, Publication, Unit
from publisher.worker import run_once
from tests.web.test_browser import ARGS, CHROMIUM, DOCS, live  # noqa: F401 - the live server
from tests.web.test_phone import login

pytestmark = pytest.mark.browser
SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.fixture(params=sorted(SIZES))
def walk(request, live):  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import sync_playwright

    width, height = SIZES[request.param]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="id-ID", is_mobile=request.param == "phone",
                                      has_touch=request.param == "phone")
        page = context.new_page()
        page.asked = []  # type: ignore[attr-defined]

        def answer(dialog):  # type: ignore[no-untyped-def]
            page.asked.append(dialog.message)  # type: ignore[attr-defined]
            dialog.accept()
        page.on("dialog", answer)
        yield page, live, request.param
        browser.close()


def snap(page, size: str, name: str) -> None:  # type: ignore[no-untyped-def]
    if size == "desktop":
        DOCS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS / f"{name}.png"), full_page=True)


def logout(page) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("button", name="Keluar").click()
    page.wait_for_load_state()


def tap(page, locator) -> None:  # type: ignore[no-untyped-def]
    """Click on a desktop, tap on a phone (both go through the same form)."""
    locator.scroll_into_view_if_needed()
    locator.click()
    page.wait_for_load_state()


def test_each_roles_day(core, clock, walk):  # type: ignore[no-untyped-def]
    page, base, size = walk
    # The live server runs on the wall clock (the browser's cookies expire by it); hold it
    # there so the walk can move time on for the worker.
    clock.now, clock.frozen = datetime.now(UTC).replace(microsecond=0), True
    seed_demo(core)
    local = (clock.now + timedelta(hours=7))  # WIB, the demo unit's zone

    # -- operator ---------------------------------------------------------------------------
    login(page, base, "operator@demo.go.id")
    page.goto(base + "/unggahan/baru")
    text = "Vaksinasi campak gratis di Puskesmas Sukamaju, Kamis pukul 08.00."
    page.fill("#body", text)
    page.get_by_label("Facebook Dinsos", exact=False).first.check()
    page.get_by_label("Pada waktu tertentu").check()
    page.fill("#scheduled_at", "2025-01-01T10:00")
    tap(page, page.get_by_role("button", name="Ajukan persetujuan"))
    said = page.locator("main").inner_text()
    assert "sudah lewat" in said and "sekarang" in said, said[:400]
    assert page.input_value("#body") == text, "the refused form lost the text"
    with core.sessions() as s:
        assert s.execute(select(Post).where(Post.body == text)).first() is None
    tomorrow = (local + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    page.fill("#scheduled_at", tomorrow)
    tap(page, page.get_by_role("button", name="Ajukan persetujuan"))
    assert "Unggahan sudah diajukan" in page.locator("body").inner_text(), \
        page.locator("main").inner_text()[:600]
    snap(page, size, "operator-submitted")
    logout(page)

    # -- approver ---------------------------------------------------------------------------
    login(page, base, "penyetuju@demo.go.id")
    page.goto(base + "/persetujuan")
    snap(page, size, "approvals")
    with core.sessions() as s:
        mine = s.execute(select(Post).where(Post.body == text)).scalar_one()
    card = page.locator(f"#post-{mine.id}") if page.locator(f"#post-{mine.id}").count() \
        else page.locator("article, section, li").filter(has_text=text).first
    tap(page, card.get_by_role("button", name="Setujui", exact=True))
    page.wait_for_selector("text=Disetujui")
    with core.sessions() as s:
        assert s.get(Post, mine.id).status == "approved"

    clock.advance(minutes=5)  # the demo's post due in two minutes goes out
    assert run_once(core) >= 2
    with core.sessions() as s:
        live_post = s.execute(select(Post).join(Publication).where(
            Publication.status == "published")).scalars().first()
    assert live_post is not None
    page.goto(base + f"/unggahan/{live_post.id}")
    detail = page.locator("main").inner_text()
    assert "Terbit" in detail
    assert page.get_by_role("button", name="Batalkan unggahan").count() == 0
    assert page.get_by_role("button", name="Jadwalkan ulang").count() == 0
    assert page.get_by_role("link", name="Lihat di platform").count() >= 1
    snap(page, size, "post-published")
    logout(page)

    # -- admin ------------------------------------------------------------------------------
    login(page, base, "admin@demo.go.id")
    page.goto(base + "/admin/pengguna")
    page.fill("#n-name", "Operator Kedua")
    page.fill("#n-email", "operator@demo.go.id")
    page.select_option("#n-unit", label="Dinas Sosial (Demo)")
    page.fill("#n-pw", "Kelurahan-Sukamaju-2026!")
    tap(page, page.get_by_role("button", name="Buat pengguna"))
    assert page.input_value("#n-name") == "Operator Kedua", "the refused form lost the name"
    assert page.input_value("#n-email") == "operator@demo.go.id"
    assert page.locator("#n-email + .field-error").inner_text() == \
        "Alamat operator@demo.go.id sudah dipakai pengguna lain."
    page.goto(base + "/admin/unit")
    with core.sessions() as s:
        unit = s.execute(select(Unit).where(Unit.slug == "dinsos-demo")).scalar_one()
    tap(page, page.get_by_role("button", name="Tampilkan di halaman publik"))
    assert page.asked, "switching a unit public did not ask first"  # type: ignore[attr-defined]
    with core.sessions() as s:
        assert s.get(Unit, unit.id).public_report is True
    snap(page, size, "admin-units")
    logout(page)

    # -- leader reading reports (an approver of the unit) -------------------------------------
    login(page, base, "penyetuju@demo.go.id")
    page.goto(base + "/laporan/")
    report = page.locator("main").inner_text()
    assert "Facebook" in report and "Tidak tersedia" not in report.split("\n", 1)[0]
    csv_link = page.locator("a", has_text="CSV").first
    answer = page.request.get(base + csv_link.get_attribute("href"))
    body = answer.body()
    assert answer.status == 200 and body.startswith("\ufeff".encode()), body[:40]
    assert ";" in body.decode("utf-8-sig").splitlines()[0], "Indonesian Excel wants ';'"
    snap(page, size, "reports")
    logout(page)

    # -- public visitor ---------------------------------------------------------------------
    page.goto(base + "/publik/laporan")
    public = page.locator("main").inner_text()
    assert "Dinas Sosial (Demo)" in public
    snap(page, size, "public-report")
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size][0] + 1
