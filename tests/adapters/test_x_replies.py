"""Citizens' replies on X (issue 19): read by recent search on the post's conversation, only
on channels where a person switched it on (X charges per reply read), against the X fake's
``/2/tweets/search/recent`` (pages, authors in ``includes``, rate limits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.base import COMMENTS_OPT_IN, AdapterContext
from adapters.errors import RetryLater
from adapters.x import XAdapter
from publisher.models import AuditEvent, Channel, CitizenComment, CommentSource, Role, User
from publisher.services import channels as channel_service
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.adapters.test_comments import read_all
from tests.fakes import x as x_fake

NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)


def adapter(fx: x_fake.FakeX, state: dict | None = None, **settings: str) -> XAdapter:
    return XAdapter(AdapterContext(
        credentials={"access_token": fx.access_token}, base_url=fx.url, timeout=5,
        state=state if state is not None else {}, settings=settings, now=lambda: NOW))


def test_replies_come_newest_first_in_pages_without_the_offices_own(fx) -> None:  # type: ignore[no-untyped-def]
    root = fx.seed(1)[0]
    first = fx.add_reply(root, "Kapan bansos cair? &amp; di mana?")
    nested = fx.add_reply(root, "Saya juga", parent=first, author=None)
    fx.add_reply(root, "Terima kasih, cair Senin.", author=(x_fake.USER["id"], "diskominfo_uji",
                                                           "Diskominfo Uji"))
    late = [fx.add_reply(root, f"balasan {i}") for i in range(11)]
    fx.add_reply("other", "not this conversation")
    state: dict = {}
    got = read_all(adapter(fx, state, comments_page_size="10"), root)
    assert [c.id for c in got] == [*reversed(late), nested, first], \
        "newest first, every page, the office's own reply left out"
    assert state["user_id"] == x_fake.USER["id"], "the office's id is asked once and kept"
    by = {c.id: c for c in got}
    assert by[first].parent_id is None, "a reply to the post is a top-level comment"
    assert by[first].text == "Kapan bansos cair? & di mana?"
    assert by[first].author_name == "Warga Kota" and by[first].author_handle == "@wargaku"
    assert by[nested].parent_id == first
    assert by[nested].author_name is None and by[nested].author_handle is None
    assert by[first].created_at == datetime(2026, 6, 10, 2, tzinfo=UTC)
    calls = fx.calls("/2/tweets/search/recent", "GET")
    assert len(calls) == 2 and calls[0].query["query"] == f"conversation_id:{root}"
    assert "next_token" not in calls[0].query and calls[1].query["next_token"] == "10"
    assert len(fx.calls("/2/users/me", "GET")) == 1


def test_a_rate_limit_is_retry_later(fx) -> None:  # type: ignore[no-untyped-def]
    root = fx.seed(1)[0]
    fx.fail("recent", "rate_limit")
    with pytest.raises(RetryLater):
        adapter(fx, {"user_id": "1"}).list_comments(root, None)


def _published_x(core, people, fx):  # type: ignore[no-untyped-def]
    author, approver = people
    ch = e2e.x_channel(core, author, fx)
    pub_id = e2e.approved(core, author, approver, ch, body="Bansos tahap 2 cair hari ini.")
    e2e.run_until_settled(core, core.clock, pub_id)
    pub = e2e.publication(core, pub_id)
    assert pub.status == "published"
    return ch, pub


def test_replies_are_read_only_while_the_switch_is_on(xt_core, clock, people, fx,  # type: ignore[no-untyped-def]
                                                      make_user) -> None:
    core = xt_core
    ch, pub = _published_x(core, people, fx)
    fx.add_reply(pub.external_id, "Alhamdulillah, sudah cair di RT 3")
    clock.advance(minutes=11)
    run_once(core)
    assert fx.calls("/2/tweets/search/recent", "GET") == [], "off by default: no paid read"
    with core.sessions() as s:
        assert s.execute(select(CommentSource)).first() is None

    approver = people[1]
    with core.sessions.begin() as s:
        channel_service.set_comment_reading(core, s, s.get(User, approver.id), ch, True)
    clock.advance(minutes=1)
    run_once(core)
    with core.sessions() as s:
        (row,) = s.execute(select(CitizenComment)).scalars()
        assert row.platform == "x" and row.text == "Alhamdulillah, sudah cair di RT 3"
        assert row.author_handle == "@wargaku"
        assert s.execute(select(AuditEvent.action).where(
            AuditEvent.action == "channel.comments_on")).scalar_one()
    reads = len(fx.calls("/2/tweets/search/recent", "GET"))
    assert reads == 1

    with core.sessions.begin() as s:
        channel_service.set_comment_reading(core, s, s.get(User, approver.id), ch, False)
        assert s.get(Channel, ch).state[COMMENTS_OPT_IN] is False
    fx.add_reply(pub.external_id, "Belum cair di RT 5")
    clock.advance(hours=2)
    run_once(core)
    assert len(fx.calls("/2/tweets/search/recent", "GET")) == reads, "switched off: no read"


def test_the_switch_is_for_approvers_of_the_unit_and_paid_platforms_only(  # type: ignore[no-untyped-def]
        xt_core, people, fx, make_user, app, client, login_as) -> None:
    core = xt_core
    app.config["WTF_CSRF_ENABLED"] = False  # tested on its own (tests/web: test_csrf_enforced)
    ch = e2e.x_channel(core, people[0], fx)
    tg = e2e.tg_channel(core, people[0])
    login_as(Role.OPERATOR, "a")
    page = client.get("/akun").get_data(as_text=True)
    assert "US$0.005" in page and "tidak dibaca" in page
    assert client.post(f"/akun/{ch}/baca-komentar", data={"on": "1"}).status_code == 403
    login_as(Role.APPROVER, "b")
    assert client.post(f"/akun/{ch}/baca-komentar", data={"on": "1"}).status_code == 404
    login_as(Role.APPROVER, "a")
    assert client.post(f"/akun/{ch}/baca-komentar", data={"on": "1"}).status_code == 302
    client.post(f"/akun/{tg}/baca-komentar", data={"on": "1"})
    with core.sessions() as s:
        assert s.get(Channel, ch).state[COMMENTS_OPT_IN] is True
        assert COMMENTS_OPT_IN not in (s.get(Channel, tg).state or {}), \
            "Telegram has no paid reader: refused"
    assert "Berhenti membaca balasan" in client.get("/akun").get_data(as_text=True)
