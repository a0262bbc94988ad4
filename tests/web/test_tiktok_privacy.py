"""TikTok's per-account privacy rules on the pages: the unaudited-app notice on the channel
page (creator_info allows "Only me" alone), and the composer offering only the privacy levels
the account's creator_info allows, with nothing preselected, refusing any other level."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from publisher.models import Channel, Post, PostStatus, Role, User
from publisher.services import posts as post_service
from publisher.services.errors import Invalid
from publisher.services.posts import PostInput
from tests.web.test_oauth_connect import start

NOTICE_ID = ("Aplikasi TikTok ini belum diaudit TikTok: unggahan hanya dapat bersifat pribadi "
             "(Hanya saya) sampai audit selesai.")
WHAT_TO_DO = "sambungkan ulang akun ini agar Warta membaca pilihan privasi yang baru"
PUBLIC_ACCOUNT = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


@pytest.fixture
def test_env(test_env, ftk):  # type: ignore[no-untyped-def]
    return {**test_env, "WARTA_TIKTOK_CLIENT_KEY": ftk.client_key,
            "WARTA_TIKTOK_CLIENT_SECRET": ftk.client_secret, "WARTA_TIKTOK_API_URL": ftk.url}


@pytest.fixture
def tiktok_row(core, units):  # type: ignore[no-untyped-def]
    """A TikTok channel as connecting leaves it, with creator_info's privacy levels cached
    (no network: the pages must work from the cache alone)."""
    def make(options: list[str] | None, name: str = "Diskominfo TikTok") -> int:
        state: dict[str, Any] = {}
        if options is not None:
            state["creator"] = {"username": "diskominfo.uji", "privacy_level_options": options,
                                "max_video_post_duration_sec": 600}
        with core.sessions.begin() as s:
            row = Channel(unit_id=units["a"].id, platform="tiktok", name=name,
                          external_id=f"open-{name}", username="diskominfo.uji",
                          credentials_encrypted=core.box.seal({
                              "client_key": "k", "client_secret": "s",
                              "access_token": "act.row", "refresh_token": "rft.row"}),
                          state=state)
            s.add(row)
            s.flush()
            return row.id
    return make


def notice_count(html: str) -> int:
    return html.count('data-notice="private_only"')


# -- 1. the unaudited-app notice -----------------------------------------------------------

def test_notice_on_a_private_only_channel_and_not_on_a_public_one(client, login_as,
                                                                  tiktok_row):
    private = tiktok_row(["SELF_ONLY"], name="TikTok belum diaudit")
    public = tiktok_row(PUBLIC_ACCOUNT, name="TikTok sudah diaudit")
    login_as(Role.OPERATOR, "a")
    html = client.get("/akun").get_data(as_text=True)
    assert notice_count(html) == 1 and NOTICE_ID in html and WHAT_TO_DO in html
    assert "has not been audited" not in html  # Indonesian, not the English msgid
    row = html[html.index("TikTok belum diaudit"):]
    assert row.index('data-notice="private_only"') < row.index("</tr>"), "in the right row"
    assert NOTICE_ID in client.get(f"/akun/{private}/sambung-ulang").get_data(as_text=True)
    assert NOTICE_ID not in client.get(f"/akun/{public}/sambung-ulang").get_data(as_text=True)


@pytest.mark.parametrize("options", [PUBLIC_ACCOUNT, ["PUBLIC_TO_EVERYONE", "SELF_ONLY"],
                                     ["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"], [], None])
def test_no_notice_unless_only_self_only(client, login_as, tiktok_row, options):
    tiktok_row(options)
    login_as(Role.OPERATOR, "a")
    html = client.get("/akun").get_data(as_text=True)
    assert notice_count(html) == 0 and NOTICE_ID not in html


def test_connecting_an_unaudited_app_shows_the_notice_at_once(client, login_as, core, ftk):
    """The creator rules read while connecting are kept, so the page says so before any
    post is tried (and the composer already offers only "Only me")."""
    ftk.unaudited = True
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "tiktok")
    r = client.get(f"/akun/sambung/tiktok/kembali?code=good-code&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Akun tersambung dan terverifikasi." in html and NOTICE_ID in html
    with core.sessions() as s:
        ch = s.execute(select(Channel)).scalar_one()
        assert ch.state["creator"]["privacy_level_options"] == ["SELF_ONLY"]
    assert privacy_values(client.get("/unggahan/baru").get_data(as_text=True), ch.id) == [
        "", "SELF_ONLY"]


def test_reconnecting_after_the_audit_removes_the_notice(client, login_as, core, ftk):
    ftk.unaudited = True
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "tiktok")
    client.get(f"/akun/sambung/tiktok/kembali?code=good-code&state={q['state'][0]}")
    with core.sessions() as s:
        ch_id = s.execute(select(Channel.id)).scalar_one()
    ftk.unaudited = False  # TikTok approved the app
    ftk.codes.add("kode-2")
    _url, q = start(client, "tiktok", channel=ch_id)
    client.get(f"/akun/sambung/tiktok/kembali?code=kode-2&state={q['state'][0]}")
    assert NOTICE_ID not in client.get("/akun").get_data(as_text=True)
    with core.sessions() as s:
        assert s.get(Channel, ch_id).state["creator"]["privacy_level_options"] == \
            PUBLIC_ACCOUNT


# -- 2. the composer offers the account's levels only --------------------------------------

def privacy_select(html: str, channel_id: int) -> str:
    m = re.search(rf'<select id="o_opt_{channel_id}_privacy_level"[^>]*>(.*?)</select>', html,
                  re.S)
    assert m, "the TikTok privacy select is on the page"
    return m.group(1)


def privacy_values(html: str, channel_id: int) -> list[str]:
    return re.findall(r'<option value="([^"]*)"', privacy_select(html, channel_id))


def test_composer_offers_exactly_the_creators_levels_none_chosen(client, login_as,
                                                                 tiktok_row):
    ch = tiktok_row(["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"])
    login_as(Role.OPERATOR, "a")
    html = client.get("/unggahan/baru").get_data(as_text=True)
    assert privacy_values(html, ch) == ["", "SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"]
    options = privacy_select(html, ch)
    assert "selected" not in options, "TikTok forbids a default privacy"
    assert '<option value="">Pilih siapa yang boleh melihat</option>' in options
    assert "Hanya saya" in options and "Semua orang" not in options
    assert "TikTok · Diskominfo TikTok" in html  # the platform's own spelling, not "Tiktok"


def test_composer_offers_every_level_before_tiktok_was_asked(client, login_as, tiktok_row):
    ch = tiktok_row(None)
    login_as(Role.OPERATOR, "a")
    html = client.get("/unggahan/baru").get_data(as_text=True)
    assert privacy_values(html, ch) == ["", "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS",
                                        "FOLLOWER_OF_CREATOR", "SELF_ONLY"]


def posts(core) -> list[Post]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(Post)).scalars())


@pytest.mark.parametrize("action", ["submit", "draft"])
def test_a_level_the_account_does_not_allow_is_a_field_error(client, login_as, core,
                                                             tiktok_row, action):
    ch = tiktok_row(["SELF_ONLY", "MUTUAL_FOLLOW_FRIENDS"])
    login_as(Role.OPERATOR, "a")
    r = client.post("/unggahan/baru", data={
        "body": "Festival budaya", "channels": [str(ch)], "when": "now", "action": action,
        f"o_opt_{ch}_privacy_level": "PUBLIC_TO_EVERYONE"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert ("TikTok tidak mengizinkan pilihan ini untuk Diskominfo TikTok; pilih salah satu: "
            "Hanya saya, Teman (saling mengikuti).") in html
    assert re.search(rf'<select id="o_opt_{ch}_privacy_level" name="[^"]+" aria-invalid="true"',
                     html)
    assert re.search(rf'<details class="override" data-channel="{ch}" open>', html)
    assert posts(core) == [], "nothing is saved, let alone approved"
    # the allowed level is taken
    r = client.post("/unggahan/baru", data={
        "body": "Festival budaya", "channels": [str(ch)], "when": "now", "action": "draft",
        f"o_opt_{ch}_privacy_level": "MUTUAL_FOLLOW_FRIENDS"})
    assert r.status_code == 302
    (post,) = posts(core)
    assert post.status == PostStatus.DRAFT
    assert post.overrides[str(ch)]["options"] == {"privacy_level": "MUTUAL_FOLLOW_FRIENDS"}


def test_the_service_refuses_the_level_too(core, make_user, tiktok_row):
    """Whatever the form does, submitting checks the choice against the cached creator rules
    (``rule_problems``), so a post with a level the account may not use is never approved."""
    op = make_user(Role.OPERATOR, "a")
    ch = tiktok_row(["SELF_ONLY"])
    with core.sessions.begin() as s:
        post = post_service.create_post(core, s, s.get(User, op.id), PostInput(
            body="Uji", channels=[ch],
            overrides={str(ch): {"options": {"privacy_level": "PUBLIC_TO_EVERYONE"}}}))
        post_id = post.id
    with core.sessions.begin() as s, pytest.raises(Invalid) as info:
        post_service.submit_post(core, s, s.get(User, op.id), post_id)
    (message,) = info.value.fields.values()
    assert "PUBLIC_TO_EVERYONE tidak diizinkan TikTok untuk akun ini" in str(message)
    with core.sessions() as s:
        assert s.get(Post, post_id).status == PostStatus.DRAFT
        assert s.execute(select(func.count()).select_from(Post).where(
            Post.status == PostStatus.APPROVED)).scalar_one() == 0
