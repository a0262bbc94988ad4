"""The posts page's search and filters (one service query with the API), and duplicating a
post (a service rule the page only calls)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, Post, PostStatus, Role, User
from publisher.reports.campaigns import create_campaign
from publisher.services import channels as channel_service
from publisher.services import posts as post_service
from publisher.services.errors import NotFound
from publisher.services.posts import PostInput
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


@pytest.mark.parametrize("clock", ["wib-before-midnight", "wib-after-midnight", "month-end-wib",
                                   None], indirect=True)
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
    today = clock.now.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()  # the unit's day
    page = listed(client, **{"from": today, "to": today})
    assert "Kabar baru" in page and "Kabar lama" not in page


def test_ui_date_filter_outside_the_storable_range_is_ignored_not_a_crash(client, login_as,
                                                                          make_user, make_channel,
                                                                          make_post):
    """0001-01-01 in WIB is before the first instant a datetime can hold: the page used to
    answer 500; it now treats the date like any other unreadable filter."""
    make_post(make_user(Role.OPERATOR, "a"), [make_channel(make_user(Role.ADMIN, None))],
              body="Kabar apa saja")
    login_as(Role.OPERATOR, "a")
    assert "Kabar apa saja" in listed(client, **{"from": "0001-01-01", "to": "9999-12-31"})

def test_duplicate_copies_content_without_disabled_channels(client, core, login_as, make_user,
                                                            make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    approver = make_user(Role.APPROVER, "a")
    ch_fb, ch_tg = make_channel(admin), make_channel(admin, name="Dinsos TG", account="dinsos-tg")
    author = login_as(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        campaign = create_campaign(s, s.get(User, admin.id), name="Bansos", description="",
                                   due_at=None, unit_ids=[author.unit_id], now=core.now()).id
        original = post_service.create_post(core, s, s.get(User, author.id), PostInput(
            body="Penyaluran bansos", channels=[ch_fb, ch_tg], link="https://dinsos.go.id",
            campaign=campaign, overrides={str(ch_fb): {"body": "FB"}, str(ch_tg): {"body": "TG"}}
        )).id
        post_service.cancel_post(core, s, s.get(User, author.id), original)
        channel_service.set_channel_disabled(core, s, s.get(User, approver.id), ch_tg, True)

    r = client.post(f"/unggahan/{original}/duplikat", data={"keep_overrides": "1"})
    with core.sessions() as s:
        copy = s.execute(select(Post).where(Post.id != original)).unique().scalar_one()
        assert r.status_code == 302 and r.location.endswith(f"/unggahan/{copy.id}/ubah")
        assert (copy.status, copy.unit_id, copy.author_id) == (PostStatus.DRAFT,
                                                               author.unit_id, author.id)
        assert (copy.body, copy.link, copy.campaign_id) == ("Penyaluran bansos",
                                                            "https://dinsos.go.id", campaign)
        assert copy.channel_ids == [ch_fb] and copy.overrides == {str(ch_fb): {"body": "FB"}}
        assert s.get(Post, original).status == PostStatus.CANCELLED
        actions = s.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "post", AuditEvent.object_id == copy.id)).scalars().all()
        assert actions == ["post.create"]


def test_duplicate_is_a_service_rule_scoped_to_the_unit(core, make_user, make_channel,
                                                        make_post):
    admin = make_user(Role.ADMIN, None)
    post_b = make_post(make_user(Role.OPERATOR, "b"),
                       [make_channel(admin, "b", name="Bappeda FB", account="bappeda-fb")])
    with core.sessions.begin() as s:
        with pytest.raises(NotFound):
            post_service.duplicate_post(core, s, s.get(User, make_user(Role.OPERATOR, "a").id),
                                        post_b)
    with core.sessions.begin() as s:
        copy = post_service.duplicate_post(core, s, s.get(User, admin.id), post_b)
        assert copy.unit_id == s.get(Post, post_b).unit_id and copy.id != post_b


def test_duplicate_asks_before_keeping_per_channel_texts(client, core, login_as, make_user,
                                                         make_channel):
    """After rewriting the main text, a silently kept override would still send the old
    words to that channel: the copy drops them unless the operator ticks the box, and the
    composer shows on the collapsed section that a channel has its own text."""
    ch = make_channel(make_user(Role.ADMIN, None))
    author = login_as(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        original = post_service.create_post(core, s, s.get(User, author.id), PostInput(
            body="Penyaluran bansos", channels=[ch], overrides={str(ch): {"body": "FB lama"}})).id
    detail = client.get(f"/unggahan/{original}").get_data(as_text=True)
    assert 'name="keep_overrides"' in detail and "Salin juga teks khusus per akun (1)" in detail
    edit = client.get(f"/unggahan/{original}/ubah").get_data(as_text=True)
    assert "data-override-set" in edit.split(f'data-channel="{ch}"')[1].split("</summary>")[0]
    r = client.post(f"/unggahan/{original}/duplikat")
    with core.sessions() as s:
        copy = s.execute(select(Post).where(Post.id != original)).unique().scalar_one()
        assert copy.overrides == {} and copy.body == "Penyaluran bansos"
    assert "data-override-set" not in client.get(r.location).get_data(as_text=True)
