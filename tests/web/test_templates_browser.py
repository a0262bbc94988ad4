"""Templates and hashtag sets in a real Chromium, under the app's CSP (no inline script):
"Pakai templat" from the composer fills the text (placeholders kept and listed), "Sisipkan
tagar" appends only the missing hashtags, Enter in a field still saves the draft (the tool
buttons sit after the form), and the draft saves what the operator sees."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from publisher.models import Post, Role, User
from publisher.services import templates as T
from tests.web.test_browser import live, login, page, shot  # noqa: F401,F811 - fixtures

pytestmark = pytest.mark.browser


def test_use_template_and_insert_hashtags(live, page, core, make_user,  # type: ignore[no-untyped-def] # noqa: F811
                                          make_channel):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    op = make_user(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        actor = s.get(User, op.id)
        T.create_template(core, s, actor, name="Posyandu",
                          body="Posyandu hadir {tanggal} di {lokasi}.", channel_ids=[ch])
        T.create_set(core, s, actor, name="Sehat", tags="#SehatBersama #Posyandu")
    login(page, live, op.email)
    page.goto(live + "/unggahan/baru")
    page.locator("#body").fill("Info: #posyandu")
    page.get_by_role("button", name="Pakai templat").click()
    page.locator("#placeholders").wait_for()
    assert page.locator("#body").input_value() == \
        "Info: #posyandu\n\nPosyandu hadir {tanggal} di {lokasi}."
    assert page.get_by_label("Dinsos FB").is_checked()
    assert "{tanggal}" in page.locator("#placeholders").inner_text()
    page.get_by_role("button", name="Sisipkan tagar").click()
    page.wait_for_load_state()
    assert page.locator("#body").input_value().endswith("{lokasi}.\n\n#SehatBersama")
    shot(page, "composer-templates")
    page.locator("#link").press("Enter")  # implicit submission: the draft, not a tool
    page.wait_for_url(re.compile(r".*/unggahan/\d+/ubah$"))
    with core.sessions() as s:
        assert s.execute(select(Post.body)).scalar_one().endswith("#SehatBersama")
    assert page.csp == [], page.csp  # type: ignore[attr-defined]
