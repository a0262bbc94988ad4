"""The per-channel media choice (``overrides[<channel>]["media"]``): one post whose video goes
alone to a one-video channel while another channel gets every medium. Through the API and the
composer: what is accepted and stored, what is refused with a field message (and nothing
saved), the choice following the post's media when they change, the approval bound to it,
and the platform checks and the outgoing post seeing only the chosen media."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from publisher.models import Post, Publication, Role, User
from publisher.runtime import build_outgoing, preview_post
from publisher.services import posts as post_service
from publisher.services.approval import content_hash
from publisher.services.posts import PostInput
from tests.adapters import worker_e2e as e2e
from tests.helpers import approved_post, sandbox_channel


@pytest.fixture
def scene(core, make_user):  # type: ignore[no-untyped-def]
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    return {"op": op, "ap": ap, "one": sandbox_channel(core, op, "satu"),
            "all": sandbox_channel(core, op, "semua"),
            "first": e2e.photo(core, op, 7), "photos": [e2e.photo(core, op, 0),
                                                        e2e.photo(core, op, 1)]}


def n_posts(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(Post)).scalar_one()


def test_api_stores_the_choice_and_the_channel_sees_only_it(core, api_as, scene):
    op = api_as(scene["op"])
    media = [scene["first"], *scene["photos"]]
    r = op.post("/posts", json={"body": "Festival", "channels": [scene["one"], scene["all"]],
                                "media": media,
                                "overrides": {str(scene["one"]): {"media": [scene["first"]]}}})
    assert r.status_code == 201, r.json
    assert r.json["overrides"] == {str(scene["one"]): {"media": [scene["first"]]}}
    with core.sessions() as s:
        post = s.get(Post, r.json["id"])
        from publisher.models import Channel
        one, every = (preview_post(post, s.get(Channel, c), core.settings.media_dir)
                      for c in (scene["one"], scene["all"]))
        assert [m.sha256 for m in one.media] == [post.media[0].sha256]
        assert len(every.media) == 3, "no choice: all of the post's media"


@pytest.mark.parametrize("choice, said", [
    ([999], "tidak ada di unggahan ini"),
    ([], "minimal satu media"),
])
def test_api_refuses_a_bad_choice_and_saves_nothing(core, api_as, scene, choice, said):
    r = api_as(scene["op"]).post("/posts", json={
        "body": "Festival", "channels": [scene["one"]], "media": scene["photos"],
        "overrides": {str(scene["one"]): {"media": choice}}})
    assert r.status_code == 400, r.json
    assert said in str(r.json), r.json
    assert n_posts(core) == 0


def test_a_medium_from_outside_the_post_is_refused_on_edit(core, scene):
    """A media id that exists in the unit but is not one of this post's media."""
    with core.sessions.begin() as s:
        user = s.get(User, scene["op"].id)
        post = post_service.create_post(core, s, user, PostInput(
            body="x", channels=[scene["one"]], media=scene["photos"]))
        post_id = post.id
    with core.sessions.begin() as s, pytest.raises(post_service.Invalid) as err:
        post_service.update_post(core, s, s.get(User, scene["op"].id), post_id, PostInput(
            channels=[scene["one"]],
            overrides={str(scene["one"]): {"media": [scene["first"]]}}))
    assert "tidak ada di unggahan ini" in str(err.value.fields["overrides"])


def test_the_choice_follows_the_posts_media(core, scene):
    one = str(scene["one"])
    with core.sessions.begin() as s:
        user = s.get(User, scene["op"].id)
        post = post_service.create_post(core, s, user, PostInput(
            body="x", channels=[scene["one"]], media=[scene["first"], *scene["photos"]],
            overrides={one: {"media": [scene["first"], scene["photos"][0]],
                             "options": {"a": 1}}}))
        post_service.update_post(core, s, user, post.id, PostInput(
            media=[scene["first"], scene["photos"][1]]))
        assert post.overrides[one] == {"options": {"a": 1}, "media": [scene["first"]]}
        post_service.update_post(core, s, user, post.id, PostInput(media=scene["photos"]))
        assert post.overrides[one] == {"options": {"a": 1}}, \
            "nothing chosen is left: the channel gets all media again"


def test_approval_is_bound_to_the_choice_and_the_worker_sends_only_it(core, scene):
    from adapters import get_adapter_class

    post_id = approved_post(core, scene["op"], scene["ap"], [scene["one"], scene["all"]],
                            media=[scene["first"], *scene["photos"]],
                            overrides={str(scene["one"]): {"media": [scene["first"]]}})
    with core.sessions.begin() as s:
        post = s.get(Post, post_id)
        before = content_hash(post)
        pubs = {p.channel_id: p for p in s.execute(
            select(Publication).where(Publication.post_id == post_id)).scalars()}
        sent = {cid: build_outgoing(core, get_adapter_class("sandbox"), pub_id=p.id,
                                    body=post.body, overrides=post.overrides, channel_id=cid,
                                    link=None, media=post.media, scheduled_at=None)
                for cid, p in pubs.items()}
        assert len(sent[scene["one"]].media) == 1 and len(sent[scene["all"]].media) == 3
        post_service.update_post(core, s, s.get(User, scene["op"].id), post_id, PostInput(
            overrides={str(scene["one"]): {"media": scene["photos"]}}))
        assert content_hash(post) != before and post.approval_hash is None, \
            "another choice is another post: the approval is voided"


def test_composer_offers_and_keeps_the_choice(client, login_as, core, scene):
    user = login_as(Role.OPERATOR, "a")
    one, every = scene["one"], scene["all"]
    media = [scene["first"], *scene["photos"]]
    # channels created by another operator of the same unit are this unit's channels
    r = client.post("/unggahan/baru", data={
        "body": "Festival", "channels": [str(one), str(every)],
        "media": [str(m) for m in media], "when": "now", "action": "draft",
        f"o_media_{one}": [str(scene["first"])]})
    assert r.status_code == 302, r.get_data(as_text=True)
    with core.sessions() as s:
        (post,) = s.execute(select(Post)).scalars().all()
        assert post.author_id == user.id
        assert post.overrides == {str(one): {"media": [scene["first"]]}}, \
            "none ticked for the other channel: no choice stored"
        post_id = post.id
    html = client.get(f"/unggahan/{post_id}/ubah").get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="o_media_(\d+)" value="(\d+)" (checked)?',
                       html)
    assert (str(one), str(scene["first"]), "checked") in boxes
    assert (str(one), str(scene["photos"][0]), "") in boxes
    assert all(c == "" for cid, _m, c in boxes if cid == str(every))
    assert "Foto dan video untuk akun ini" in html
    summary = html.split(f'data-channel="{one}"')[1].split("</summary>")[0]
    assert "data-override-set" not in summary, "a media choice is not 'own text set'"


def test_composer_shows_no_choice_for_a_single_medium(client, login_as, core, scene):
    login_as(Role.OPERATOR, "a")
    r = client.post("/unggahan/baru", data={
        "body": "Festival", "channels": [str(scene["one"])], "media": [str(scene["first"])],
        "when": "now", "action": "draft"})
    assert r.status_code == 302
    assert 'name="o_media_' not in client.get(r.headers["Location"]).get_data(as_text=True)


def test_the_approver_sees_what_each_channel_gets(client, login_as, core, scene):
    with core.sessions.begin() as s:
        user = s.get(User, scene["op"].id)
        post = post_service.create_post(core, s, user, PostInput(
            body="Festival", channels=[scene["one"], scene["all"]],
            media=[scene["first"], *scene["photos"]],
            overrides={str(scene["one"]): {"media": [scene["first"]]}}))
        post_service.submit_post(core, s, user, post.id)
    login_as(Role.APPROVER, "a")
    html = client.get("/persetujuan").get_data(as_text=True)
    previews = dict(re.findall(r'<article class="preview" aria-label="[^"]*">.*?· ([^<]+)</header>'
                               r"(.*?)</article>", html, re.S))
    assert previews["satu"].count("<figure>") == 1
    assert previews["semua"].count("<figure>") == 3
