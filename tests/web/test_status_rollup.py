"""The rolled-up status (``Post.overall_status``: Terbit, Terbit sebagian, Gagal sebagian, …)
in the posts list's filter and the API, decided by the database (issue 14), and on the
calendar's items."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from publisher.models import Post, Publication, PublicationStatus, Role, User
from publisher.models.post import OVERALL_STATUSES, rollup_status
from publisher.services import posts as post_svc
from publisher.services.post_search import PostFilter, search_posts
from tests.helpers import approved_post, sandbox_channel

#: Every mix of one to three publication states (with repeats), one approved post each.
MIXES = [mix for n in (1, 2, 3)
         for mix in itertools.combinations_with_replacement(sorted(PublicationStatus), n)]


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "admin": make_user(Role.ADMIN, None)}


def _set_states(core, post_id: int, states: tuple[str, ...]) -> None:
    with core.sessions.begin() as s:
        pubs = s.execute(select(Publication).where(Publication.post_id == post_id)
                         .order_by(Publication.id)).scalars().all()
        assert len(pubs) == len(states)
        for pub, state in zip(pubs, states, strict=True):
            pub.status = state
            if state == PublicationStatus.PUBLISHED:
                pub.published_at = core.now()


def _draft(core, author: User, channels: list[int], body: str, then: str = "draft") -> int:
    with core.sessions.begin() as s:
        actor = s.get(User, author.id)
        post = post_svc.create_post(core, s, actor, post_svc.PostInput(body=body,
                                                                     channels=channels))
        if then == "submitted":
            post_svc.submit_post(core, s, actor, post.id)
        return post.id


def test_the_sql_filter_says_what_the_rollup_says(core, people):
    """Over every mix of publication states (and the post's own statuses), filtering by an
    overall status finds exactly the posts whose ``overall_status`` it is."""
    channels = [sandbox_channel(core, people["op"], f"akun-{i}") for i in range(3)]
    expected: dict[str, set[int]] = {status: set() for status in OVERALL_STATUSES}
    for mix in MIXES:
        post_id = approved_post(core, people["op"], people["ap"], channels[:len(mix)],
                                body=f"campuran {'+'.join(mix)}")
        _set_states(core, post_id, mix)
        expected[rollup_status("approved", list(mix))].add(post_id)
    expected["draft"].add(_draft(core, people["op"], channels[:1], "draf"))
    expected["submitted"].add(_draft(core, people["op"], channels[:1], "diajukan", "submitted"))
    rejected = _draft(core, people["op"], channels[:1], "ditolak", "submitted")
    cancelled = approved_post(core, people["op"], people["ap"], channels[:2], body="batal")
    with core.sessions.begin() as s:
        post_svc.reject_post(core, s, s.get(User, people["ap"].id), rejected, "Kurang jelas")
        post_svc.cancel_post(core, s, s.get(User, people["op"].id), cancelled)
    expected["rejected"].add(rejected)
    expected["cancelled"].add(cancelled)
    with core.sessions() as s:
        for post in s.execute(select(Post)).unique().scalars():  # the Python side agrees
            assert post.id in expected[post.overall_status]
        admin = s.get(User, people["admin"].id)
        for status in OVERALL_STATUSES:
            found = search_posts(s, admin, PostFilter(overall_status=status), per_page=100)
            assert {p.id for p in found.items} == expected[status], status
            assert found.total == len(expected[status])
    assert all(expected[status] for status in OVERALL_STATUSES)


def test_the_filter_loads_only_one_page(core, people):
    """The database filters: a page of a filtered list loads at most a page of posts (a filter
    in Python would have to load every post and its publications)."""
    channels = [sandbox_channel(core, people["op"], f"akun-{i}") for i in range(2)]
    for i in range(30):
        post_id = approved_post(core, people["op"], people["ap"], channels, body=f"kabar {i}")
        _set_states(core, post_id, ("published", "failed") if i % 2 else ("published",) * 2)
    loaded: list[int] = []

    def on_load(target, _context):  # type: ignore[no-untyped-def]
        loaded.append(target.id)

    event.listen(Post, "load", on_load)
    try:
        with core.sessions() as s:
            found = search_posts(s, s.get(User, people["admin"].id),
                                 PostFilter(overall_status="partly_failed"), per_page=5)
    finally:
        event.remove(Post, "load", on_load)
    assert found.total == 15 and len(found.items) == 5
    assert len(set(loaded)) == 5


def test_posts_page_offers_and_filters_by_rolled_up_status(client, core, login_as, people):
    channels = [sandbox_channel(core, people["op"], f"akun-{i}") for i in range(2)]
    done = approved_post(core, people["op"], people["ap"], channels, body="sudah terbit semua")
    _set_states(core, done, ("published", "published"))
    half = approved_post(core, people["op"], people["ap"], channels, body="baru separuh")
    _set_states(core, half, ("published", "queued"))
    waiting = approved_post(core, people["op"], people["ap"], channels, body="masih menunggu")
    login_as(Role.OPERATOR, "a")
    page = client.get("/unggahan").get_data(as_text=True)
    select_html = re.search(r'<select id="f-status".*?</select>', page, re.S).group(0)
    for label in ("Terbit sebagian", "Gagal sebagian", "Terbit", "Gagal", "Disetujui"):
        assert f">{label}</option>" in select_html
    for status, shown, hidden in [
            ("published", "sudah terbit semua", ["baru separuh", "masih menunggu"]),
            ("partly_published", "baru separuh", ["sudah terbit semua", "masih menunggu"]),
            ("approved", "masih menunggu", ["sudah terbit semua", "baru separuh"])]:
        html = client.get(f"/unggahan?status={status}").get_data(as_text=True)
        assert shown in html and not any(h in html for h in hidden), status
        assert f'<option value="{status}" selected>' in html
    assert waiting


def test_api_filters_by_overall_status(api_as, core, people):
    channels = [sandbox_channel(core, people["op"], f"akun-{i}") for i in range(2)]
    half = approved_post(core, people["op"], people["ap"], channels, body="gagal separuh")
    _set_states(core, half, ("published", "missed"))
    approved_post(core, people["op"], people["ap"], channels, body="menunggu")
    api = api_as(people["op"])
    r = api.get("/posts", query_string={"overall_status": "partly_failed"})
    assert r.status_code == 200 and [p["body"] for p in r.json["posts"]] == ["gagal separuh"]
    assert r.json["posts"][0]["overall_status"] == "partly_failed"
    r = api.get("/posts", query_string={"overall_status": "halfway"})
    assert r.status_code == 400
    assert "partly_failed" in r.json["error"]["fields"]["overall_status"]


def test_calendar_items_show_the_post_rollup(client, core, login_as, people, clock):
    channels = [sandbox_channel(core, people["op"], f"akun-{i}") for i in range(2)]
    when = clock.now + timedelta(hours=2)
    half = approved_post(core, people["op"], people["ap"], channels, body="Kabar separuh",
                         when=when)
    _set_states(core, half, ("published", "queued"))
    with core.sessions.begin() as s:
        s.get(Post, _draft(core, people["op"], channels[:1], "Rancangan")).scheduled_at = when
    login_as(Role.OPERATOR, "a")
    html = client.get("/kalender").get_data(as_text=True)
    items = re.findall(r'<a class="ev [^"]*".*?</a>', html, re.S)
    separuh = [i for i in items if "Kabar separuh" in i]
    assert len(separuh) == 2  # one per channel, each saying how far the post got
    assert all('<span class="ev-status">Terbit sebagian</span>' in i for i in separuh)
    assert any('<span class="ev-status">Draf</span>' in i for i in items if "Rancangan" in i)
    client.post("/profil", data={"loc-locale": "en"})
    html = client.get("/kalender").get_data(as_text=True)
    assert html.count('<span class="ev-status">Partly published</span>') == 2
