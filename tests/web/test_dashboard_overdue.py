"""The dashboard's "Suara warga melewati tenggat": the comments past their deadline that the
unit sees by the inbox's own rule (its posts', those forwarded to it), open ones only, oldest
deadline first, bounded, with the count, the "due today" count and a link to the inbox's
overdue filter."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from publisher.models import CitizenComment, CommentStatus, Role, User
from publisher.services import inbox
from tests.inbox.helpers import comment, published
from web.ui.dashboard.queries import LIST_LIMIT

HEADING = "Suara warga melewati tenggat"


def _due(core, cid: int, delta: timedelta) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        row = s.get(CitizenComment, cid)
        assert row is not None
        row.due_at = core.now() + delta


def _shown(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-comment="(\d+)"', html)]


def test_scoped_to_the_unit_and_what_was_forwarded_to_it(client, core, clock, login_as,
                                                        make_user, units) -> None:  # type: ignore[no-untyped-def]
    clock.now = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)  # 10.00 WIB: "today" has room left
    b = make_user(Role.OPERATOR, "b")
    a = login_as(Role.OPERATOR, "a")
    pub_a, pub_b = published(core, a), published(core, b)
    mine = comment(core, pub_a, "Bansos belum cair")
    theirs = comment(core, pub_b, "ZQXB rahasia unit B")
    to_me = comment(core, pub_b, "Diteruskan ke Dinsos")
    closed = comment(core, pub_a, "Sudah dijawab")
    not_yet = comment(core, pub_a, "Tenggat nanti malam")
    for cid, late in ((mine, 3), (theirs, 5), (to_me, 1), (closed, 9)):
        _due(core, cid, -timedelta(hours=late))
    _due(core, not_yet, timedelta(minutes=30))
    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, b.id), to_me, units["a"].id, "Urusan Dinsos",
                      now=core.now())
        inbox.set_status(s, s.get(User, a.id), closed, CommentStatus.DONE, now=core.now())

    html = client.get("/").get_data(as_text=True)
    assert f"{HEADING} (2)" in html
    assert _shown(html) == [mine, to_me]  # oldest deadline first; never B's own, never closed
    assert "ZQXB" not in html
    assert 'data-due-today="1"' in html and "1 lagi jatuh tenggat hari ini" in html
    assert "/suara-warga?overdue=1" in html

    # Unit B sees its own overdue comment, and the one it forwarded away is A's to answer now
    # but still its post's comment (the inbox's rule): both.
    with client.session_transaction() as sess:
        sess["_user_id"] = str(b.id)
    assert _shown(client.get("/").get_data(as_text=True)) == [theirs, to_me]

    # The inbox's overdue filter: the same comments, oldest deadline first.
    with client.session_transaction() as sess:
        sess["_user_id"] = str(a.id)
    page = client.get("/suara-warga?overdue=1").get_data(as_text=True)
    assert "Bansos belum cair" in page and "Diteruskan ke Dinsos" in page
    assert "Sudah dijawab" not in page and "Tenggat nanti malam" not in page
    assert page.index("Bansos belum cair") < page.index("Diteruskan ke Dinsos")
    assert "Tenggat nanti malam" in client.get("/suara-warga").get_data(as_text=True)


def test_bounded_with_a_count_and_a_link_to_the_rest(client, core, login_as) -> None:  # type: ignore[no-untyped-def]
    a = login_as(Role.OPERATOR, "a")
    pub = published(core, a)
    ids = [comment(core, pub, f"komentar {n}") for n in range(LIST_LIMIT + 3)]
    for n, cid in enumerate(ids):
        _due(core, cid, -timedelta(hours=100 - n))
    html = client.get("/").get_data(as_text=True)
    assert f"{HEADING} ({LIST_LIMIT + 3})" in html
    assert _shown(html) == ids[:LIST_LIMIT]
    assert "3 lagi melewati tenggat: buka Suara Warga" in html


def test_nothing_overdue_no_section(client, core, login_as) -> None:  # type: ignore[no-untyped-def]
    a = login_as(Role.OPERATOR, "a")
    comment(core, published(core, a), "Terima kasih")
    assert HEADING not in client.get("/").get_data(as_text=True)
