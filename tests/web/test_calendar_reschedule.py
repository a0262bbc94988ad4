"""Rescheduling from the calendar without dragging (issue 14): each item that has not gone out
has a menu with a date and time field in its unit's zone, reachable by keyboard and by touch,
that goes through the same service and rules as the drag (past times refused with the
message, live posts refused, an operator's move sends the post back for approval)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from publisher.models import Post, PostStatus, Publication, PublicationStatus, Role, Unit, User
from tests.web.test_browser import ARGS, CHROMIUM, live, shot  # noqa: F401 - live: the server

WITA = ZoneInfo("Asia/Makassar")


def _menu(html: str, post_id: int) -> str | None:
    found = re.search(rf'<details class="ev-menu">(?:(?!</details>).)*?action="/unggahan/'
                      rf'{post_id}/jadwal".*?</details>', html, re.S)
    return found.group(0) if found else None


@pytest.fixture
def scene(core, clock, make_user, make_channel, make_post, units):  # type: ignore[no-untyped-def]
    """An approved post tomorrow at 10:00 in a WITA unit, and one already live."""
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = "Asia/Makassar"
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    author = make_user(Role.OPERATOR, "a")
    when = datetime.combine(clock.now.astimezone(WITA).date() + timedelta(days=1),
                            datetime.min.time().replace(hour=10), WITA).astimezone(UTC)
    ids = {}
    for name in ("waiting", "live"):
        ids[name] = make_post(author, [ch], body=f"Kabar {name}", state="submitted")
        with core.sessions.begin() as s:
            s.get(Post, ids[name]).scheduled_at = when
        from publisher.services import posts as post_svc

        with core.sessions.begin() as s:
            post_svc.approve_post(core, s, s.get(User, approver.id), ids[name])
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == ids["live"])
                        ).scalar_one()
        pub.status, pub.published_at = PublicationStatus.PUBLISHED, when
    return {"ids": ids, "when": when, "day": when.astimezone(WITA).date().isoformat(),
            "author": author, "approver": approver}


def test_items_offer_a_menu_with_the_time_in_the_units_zone(client, login_as, scene):
    login_as(Role.OPERATOR, "a")
    html = client.get(f"/kalender?d={scene['day']}").get_data(as_text=True)
    menu = _menu(html, scene["ids"]["waiting"])
    assert menu is not None
    assert 'aria-label="Jadwalkan ulang: Dinsos FB: Kabar waiting"' in menu
    assert f'value="{scene["day"]}T10:00"' in menu and "(WITA)" in menu
    assert re.search(r'<label for="(mv-[^"]+)">.*?<input type="datetime-local" id="\1"',
                     menu, re.S)
    assert _menu(html, scene["ids"]["live"]) is None  # live on an account: nothing to move


def test_a_past_time_is_refused_with_the_message_on_the_calendar(client, core, login_as,
                                                                  scene):
    login_as(Role.APPROVER, "a")
    back = f"/kalender?d={scene['day']}"
    r = client.post(f"/unggahan/{scene['ids']['waiting']}/jadwal",
                    data={"when": "2025-01-01T10:00", "back": back})
    assert r.status_code == 302 and r.headers["Location"] == back
    html = client.get(back).get_data(as_text=True)
    assert "Waktu terbit sudah lewat" in html
    with core.sessions() as s:
        assert s.get(Post, scene["ids"]["waiting"]).scheduled_at == scene["when"]
    r = client.post(f"/unggahan/{scene['ids']['waiting']}/jadwal",
                    data={"when": "kemarin", "back": back})
    assert r.headers["Location"] == back
    assert "Pilih tanggal dan jam yang valid" in client.get(back).get_data(as_text=True)


def test_a_live_post_is_refused(client, core, login_as, scene):
    login_as(Role.APPROVER, "a")
    back = f"/kalender?d={scene['day']}"
    client.post(f"/unggahan/{scene['ids']['live']}/jadwal",
                data={"when": f"{scene['day']}T15:00", "back": back})
    assert "sudah terbit di 1 akun" in client.get(back).get_data(as_text=True)
    with core.sessions() as s:
        assert s.get(Post, scene["ids"]["live"]).scheduled_at == scene["when"]


def test_an_operators_move_goes_back_for_approval(client, core, login_as, scene):
    login_as(Role.OPERATOR, "a")
    client.post(f"/unggahan/{scene['ids']['waiting']}/jadwal",
                data={"when": f"{scene['day']}T15:30", "back": "/kalender"})
    with core.sessions() as s:
        post = s.get(Post, scene["ids"]["waiting"])
        assert post.status == PostStatus.SUBMITTED
        assert post.scheduled_at.astimezone(WITA).strftime("%H:%M") == "15:30"


# -- in a real Chromium ---------------------------------------------------------------------


def _browser_scene(core, make_user, make_channel, make_post):  # type: ignore[no-untyped-def]
    """For the live server (its clock runs): an approved post two days from now at 09:00 WIB,
    and the approver who may move it keeping its approval."""
    from publisher.services import posts as post_svc

    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a", email="penyetuju@dinsos.go.id")
    author = make_user(Role.OPERATOR, "a")
    wib = ZoneInfo("Asia/Jakarta")
    day = core.now().astimezone(wib).date() + timedelta(days=2)
    when = datetime.combine(day, datetime.min.time().replace(hour=9), wib).astimezone(UTC)
    post_id = make_post(author, [ch], body="Kabar posko banjir", state="submitted")
    with core.sessions.begin() as s:
        s.get(Post, post_id).scheduled_at = when
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, approver.id), post_id)
    return post_id, day, approver


def _login(page, live: str, email: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.goto(live + "/masuk")
    page.get_by_label("Surel").fill(email)
    page.get_by_label("Kata sandi").fill("rahasia123")
    page.keyboard.press("Enter")
    page.wait_for_url(live + "/")


def _local_time(core, post_id: int) -> str:
    with core.sessions() as s:
        at = s.get(Post, post_id).scheduled_at
        return at.astimezone(ZoneInfo("Asia/Jakarta")).strftime("%Y-%m-%dT%H:%M")


FOCUSED = """() => { const el = document.activeElement;
  const item = el && el.closest('.ev-item');
  return [el ? el.tagName : null, el ? (el.name || '') : '',
          item ? item.querySelector('a.ev').getAttribute('href') : null]; }"""


@pytest.mark.browser
def test_reschedule_by_keyboard_only(live, core, make_user, make_channel, make_post):  # noqa: F811
    from playwright.sync_api import sync_playwright

    post_id, day, approver = _browser_scene(core, make_user, make_channel, make_post)
    target = day + timedelta(days=1)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID")
        _login(page, live, approver.email)
        page.goto(f"{live}/kalender?d={day.isoformat()}")
        for _ in range(300):  # Tab through the page to the item's menu button
            page.keyboard.press("Tab")
            tag, _name, href = page.evaluate(FOCUSED)
            if tag == "SUMMARY" and href == f"/unggahan/{post_id}":
                break
        else:
            pytest.fail("the item's menu cannot be reached with Tab")
        page.keyboard.press("Enter")
        assert page.locator(".ev-menu[open]").count() == 1
        page.keyboard.press("Tab")
        assert page.evaluate(FOCUSED)[:2] == ["INPUT", "when"]
        # Chromium's datetime field: month, day, year, then the time (12-hour clock here)
        page.keyboard.type(f"{target.month:02d}{target.day:02d}{target.year}")
        page.keyboard.press("ArrowRight")
        page.keyboard.type("0245P")
        value = page.evaluate("document.activeElement.value")
        assert value == f"{target.isoformat()}T14:45", value
        shot(page, "calendar-menu-keyboard")
        for _ in range(6):  # Tab walks the field's own parts first, then leaves it
            page.keyboard.press("Tab")
            if page.evaluate(FOCUSED)[0] != "INPUT":
                break
        assert page.evaluate(FOCUSED)[0] == "BUTTON"
        page.keyboard.press("Enter")
        page.wait_for_selector("text=Unggahan sudah dijadwalkan ulang")
        assert _local_time(core, post_id) == f"{target.isoformat()}T14:45"
        with core.sessions() as s:
            assert s.get(Post, post_id).status == PostStatus.APPROVED  # approver: kept
        # a past time, by keyboard again: refused with the message, nothing moved
        page.goto(f"{live}/kalender?d={target.isoformat()}")
        page.locator(f".ev-item:has(a[href='/unggahan/{post_id}']) summary").focus()
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        page.keyboard.type("01012025")
        page.keyboard.press("Enter")  # Enter in the field submits its form
        page.wait_for_selector("text=Waktu terbit sudah lewat")
        assert _local_time(core, post_id) == f"{target.isoformat()}T14:45"
        browser.close()


@pytest.mark.browser
def test_reschedule_by_tapping_on_a_phone(live, core, make_user, make_channel,  # noqa: F811
                                          make_post):
    from playwright.sync_api import sync_playwright

    post_id, day, approver = _browser_scene(core, make_user, make_channel, make_post)
    target = day + timedelta(days=3)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="id-ID",
                                is_mobile=True, has_touch=True)
        _login(page, live, approver.email)
        page.goto(f"{live}/kalender?d={day.isoformat()}")
        item = page.locator(f".ev-item:has(a[href='/unggahan/{post_id}'])")
        item.locator("summary").tap()
        field = item.get_by_label("Tanggal dan jam baru (WIB)")
        assert field.is_visible()
        box = item.locator("form").bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390  # on the screen
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        shot(page, "calendar-menu-phone")
        field.fill(f"{target.isoformat()}T16:00")  # what the phone's picker sets
        item.get_by_role("button", name="Jadwalkan ulang").tap()
        page.wait_for_selector("text=Unggahan sudah dijadwalkan ulang")
        assert _local_time(core, post_id) == f"{target.isoformat()}T16:00"
        browser.close()


@pytest.mark.parametrize(("lang", "hidden"), [("id", "cannot"), ("en", "tidak")])
def test_a_date_beyond_the_calendar_speaks_one_language(client, core, login_as, lang, hidden):
    user = login_as(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        s.get(User, user.id).locale = lang
    r = client.get("/kalender?d=9999-12-31", headers={"Accept": "application/json"})
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert " / " not in text and hidden not in text.lower()
