"""A bad value in a page's address (a month that does not exist, a day past the calendar's
range) answers 400 with the view's own sentence in the page's language: once a generic "the
form may have expired", which sent people reloading a page that could never work."""

from __future__ import annotations

import pytest

from publisher.models import Role, User

CASES = [("/publik/laporan?bulan=2026-13", None), ("/kalender?d=9999-12-31", Role.OPERATOR)]


@pytest.mark.parametrize("path,role", CASES)
def test_the_400_page_says_what_is_wrong_in_one_language(client, core, login_as, path, role):
    user = login_as(role, "a") if role else None
    pages = {}
    for language in ("id", "en"):
        client.set_cookie("lang", language)
        if user is not None:
            with core.sessions.begin() as s:
                s.get(User, user.id).locale = language
        r = client.get(path)
        assert r.status_code == 400
        page = r.get_data(as_text=True)
        said = page.split('id="said">', 1)
        assert len(said) == 2, f"{path}: no sentence of the view's own in the page"
        pages[language] = said[1].split("</p>", 1)[0]
    assert pages["id"] != pages["en"], pages
    assert " / " not in pages["id"] and " / " not in pages["en"], pages
