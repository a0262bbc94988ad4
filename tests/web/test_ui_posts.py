"""The posts page's search and filters: one service query with the API."""

from __future__ import annotations

import pytest

from publisher.models import Role
from tests.helpers import WILDCARD_BODIES, WILDCARD_CASES


def listed(client, **args: str) -> str:  # type: ignore[no-untyped-def]
    r = client.get("/unggahan", query_string=args)
    assert r.status_code == 200
    return r.get_data(as_text=True)


@pytest.mark.parametrize(("needle", "expected"), WILDCARD_CASES)
def test_ui_search_text_with_wildcards_matches_literally(client, login_as, make_user, make_channel,
                                                         make_post, needle, expected):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = login_as(Role.OPERATOR, "a")
    for body in WILDCARD_BODIES:
        make_post(author, [ch], body=body)
    page = listed(client, q=needle)
    assert [b for b in WILDCARD_BODIES if b in page] == expected


def test_ui_search_is_scoped_to_the_unit(client, login_as, make_user, make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    ch_a, ch_b = make_channel(admin), make_channel(admin, "b", name="Bappeda FB",
                                                   account="bappeda-fb")
    make_post(make_user(Role.OPERATOR, "a"), [ch_a], body="Rapat koordinasi Dinsos 50%")
    make_post(make_user(Role.OPERATOR, "b"), [ch_b], body="Rapat koordinasi Bappeda")
    login_as(Role.OPERATOR, "b")
    page = listed(client, q="rapat")
    assert "Rapat koordinasi Bappeda" in page and "Dinsos" not in page
    assert "Dinsos" not in listed(client, q="%")
    assert "Dinsos" not in listed(client, channel=str(ch_a))  # another unit's channel: nothing
    login_as(Role.ADMIN, None)
    page = listed(client, q="rapat")
    assert "Rapat koordinasi Bappeda" in page and "Rapat koordinasi Dinsos" in page


def test_ui_filters_by_status_channel_author_and_day(client, login_as, make_user, make_channel,
                                                     make_post, clock):
    admin = make_user(Role.ADMIN, None)
    ch_fb, ch_tg = make_channel(admin), make_channel(admin, name="Dinsos TG", account="dinsos-tg")
    first, second = make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "a")
    make_post(first, [ch_fb], body="Kabar lama di FB")
    clock.advance(days=3)
    make_post(second, [ch_tg], body="Kabar baru di TG", state="submitted")
    login_as(Role.OPERATOR, "a")
    assert "Kabar lama" not in listed(client, status="submitted")
    assert "Kabar baru" not in listed(client, channel=str(ch_fb))
    assert "Kabar lama" not in listed(client, author=str(second.id))
    today = clock.now.date().isoformat()
    page = listed(client, **{"from": today, "to": today})
    assert "Kabar baru" in page and "Kabar lama" not in page
