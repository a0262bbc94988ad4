"""Issue 18's "done means", as one scenario through the real components: an operator
connects TikTok and Threads through the web connect routes (against the fakes), has an
Instagram (Graph) and a Facebook Page channel in the same unit, composes ONE post in the
composer with a video and two photos: a TikTok video (a privacy level the creator offers),
a Threads carousel (all three media), an Instagram Story and a Facebook Reel (the video
alone, by the per-channel media choice); a second person approves it from the approvals
page; the real worker publishes all four, each with its link, and the first metrics
arrive, ``None`` where a platform gives no number."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.models import MetricSnapshot, Post, PostStatus, Publication, Role
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.web.test_oauth_connect import channels, start


@pytest.fixture
def test_env(test_env, ftk, threads_fake, graph_fake):  # type: ignore[no-untyped-def]
    """One installation with the TikTok, Threads and Meta Graph APIs pointed at the fakes."""
    graph = graph_fake.url + "/v25.0"
    return {**test_env,
            "WARTA_TIKTOK_CLIENT_KEY": ftk.client_key,
            "WARTA_TIKTOK_CLIENT_SECRET": ftk.client_secret, "WARTA_TIKTOK_API_URL": ftk.url,
            "WARTA_TIKTOK_POLL_SECONDS": "5", "WARTA_TIKTOK_MODERATION_POLL_SECONDS": "20",
            "WARTA_THREADS_APP_ID": threads_fake.app_id,
            "WARTA_THREADS_APP_SECRET": threads_fake.app_secret,
            "WARTA_THREADS_API_URL": threads_fake.url + "/v1.0",
            "WARTA_THREADS_OAUTH_URL": threads_fake.url, "WARTA_THREADS_POLL_SECONDS": "5",
            "WARTA_FACEBOOK_API_URL": graph, "WARTA_INSTAGRAM_GRAPH_API_URL": graph,
            "WARTA_FACEBOOK_UPLOAD_URL": graph_fake.url + "/video-upload/v25.0",
            "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "5", "WARTA_PUBLIC_URL": e2e.PUBLIC_URL}


@pytest.fixture
def app(core):  # type: ignore[no-untyped-def]
    """The app with CSRF off, as in tests/web (CSRF itself is tested there)."""
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return application


def connect(client, provider: str) -> None:  # type: ignore[no-untyped-def]
    """'Connect with …' → the platform's consent → back to Warta with a code."""
    _url, q = start(client, provider)
    r = client.get(f"/akun/sambung/{provider}/kembali?code=good-code&state={q['state'][0]}")
    assert (r.status_code, r.headers["Location"]) == (302, "/akun"), r.get_data(as_text=True)


def offered_privacy(html: str, channel_id: int) -> list[str]:
    """The privacy levels the composer offers for a TikTok channel (from creator_info)."""
    select_html = re.search(rf'<select id="o_opt_{channel_id}_privacy_level".*?</select>', html,
                            re.S)
    assert select_html, "the composer shows the TikTok privacy choice"
    return [v for v in re.findall(r'<option value="([^"]*)"', select_html.group(0)) if v]


def test_one_post_to_tiktok_threads_ig_story_and_fb_reel(client, login_as, core, clock, ftk,  # type: ignore[no-untyped-def]
                                                        threads_fake, graph_fake):
    for fake in (ftk, threads_fake, graph_fake):
        fake.clock = clock
    op = login_as(Role.OPERATOR, "a")
    connect(client, "tiktok")
    connect(client, "threads")
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    fb = e2e.fb_channel(core, op, graph_fake)
    by_platform = {c.platform: c.id for c in channels(core)}
    assert set(by_platform) == {"tiktok", "threads", "instagram_graph", "facebook"}
    tt, th = by_platform["tiktok"], by_platform["threads"]
    video = e2e.video(core, op, (1080, 1920), seconds=12)
    photos = [e2e.photo(core, op, 0), e2e.photo(core, op, 1)]

    # -- compose: one post, four post types, the video alone where one video is the rule ----
    page = client.get("/unggahan/baru").get_data(as_text=True)
    levels = offered_privacy(page, tt)
    assert "PUBLIC_TO_EVERYONE" in levels
    for cid in (ig, fb):
        assert f'name="o_opt_{cid}_' in page
    body = "Festival Budaya Kota Contoh 2026 #kotacontoh"
    r = client.post("/unggahan/baru", data={
        "body": body, "channels": [str(c) for c in (tt, th, ig, fb)],
        "media": [str(m) for m in (video, *photos)], "when": "now", "action": "submit",
        f"o_opt_{tt}_privacy_level": "PUBLIC_TO_EVERYONE",
        f"o_opt_{ig}_ig_type": "story", f"o_opt_{fb}_fb_type": "reel",
        f"o_media_{tt}": str(video), f"o_media_{ig}": str(video), f"o_media_{fb}": str(video)})
    assert r.status_code == 302 and "/ubah" not in r.headers["Location"], \
        "submitted, not sent back to the editor with problems"
    with core.sessions() as s:
        (post,) = s.execute(select(Post)).scalars().all()
        post_id, status = post.id, post.status
        assert post.overrides[str(fb)] == {"options": {"fb_type": "reel"}, "media": [video]}
        assert str(th) not in post.overrides, "no choice: Threads takes every medium"
    assert status == PostStatus.SUBMITTED

    # -- a second person approves what they saw ---------------------------------------------
    login_as(Role.APPROVER, "a")
    queue = client.get("/persetujuan").get_data(as_text=True)
    seen = re.search(rf'/persetujuan/{post_id}/setujui".*?name="seen" value="([0-9a-f]+)"',
                     queue, re.S)
    assert seen, "the approvals page lists the post"
    r = client.post(f"/persetujuan/{post_id}/setujui",
                    data={"seen": seen.group(1), "publish_now": "1"})
    assert r.status_code == 302

    # -- the real worker -------------------------------------------------------------------
    with core.sessions() as s:
        pubs = {p.channel_id: p.id for p in s.execute(
            select(Publication).where(Publication.post_id == post_id)).scalars()}
    assert set(pubs) == {tt, th, ig, fb}
    for _ in range(20):
        run_once(core)
        if all(e2e.publication(core, p).status not in e2e.UNSETTLED for p in pubs.values()):
            break
        clock.advance(seconds=10)
    done = {cid: e2e.publication(core, p) for cid, p in pubs.items()}
    for cid, pub in done.items():
        assert pub.status == e2e.S.PUBLISHED, (cid, pub.status, pub.error_en)
        assert pub.error is None and pub.attempts == 1

    # each with its platform's link
    assert done[tt].permalink == (f"https://www.tiktok.com/@{ftk.username}/video/"
                                  f"{done[tt].external_id}")
    assert done[th].permalink.startswith(f"https://www.threads.net/@{threads_fake.threads_username}")
    assert "/stories/" in done[ig].permalink
    assert done[fb].permalink == f"https://www.facebook.com/reel/{done[fb].external_id}"

    # each got the media its post type takes
    assert len(ftk.posts) == 1
    (init,) = ftk.calls("/v2/post/publish/video/init/")
    assert init.json["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    items = [c.form for c in threads_fake.calls("POST", f"/{threads_fake.threads_user_id}"
                                                        "/threads")]
    assert [f.get("is_carousel_item") for f in items] == ["true"] * 3 + [None]
    assert "video_url" in items[0] and all("image_url" in f for f in items[1:3])
    assert items[3]["media_type"] == "CAROUSEL" and threads_fake.posts() == 1
    (story,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert story.form["media_type"] == "STORIES" and "video_url" in story.form
    assert len(graph_fake.published_reels()) == 1
    assert not graph_fake.calls("POST", f"/{graph_fake.page_id}/videos")

    # -- the first metrics: real numbers, None where the platform gives none --------------
    ftk.videos[-1].update(view_count=321, like_count=12)
    threads_fake.objects[done[th].external_id]["insights"].update(views=88, likes=5, replies=2)
    graph_fake.objects[done[ig].external_id]["insights"] = {"views": 120, "reach": 90,
                                                            "replies": 4, "shares": 3}
    reel = graph_fake.objects[done[fb].external_id]
    reel["counts"] = {"reactions": 9, "comments": 3}
    reel["insights"] = {"blue_reels_play_count": 480, "post_impressions_unique": 300}
    latest = max(p.published_at for p in done.values())
    clock.now = latest + timedelta(hours=1, minutes=5)
    run_once(core)
    run_once(core)
    with core.sessions() as s:
        snaps = s.execute(select(MetricSnapshot).order_by(MetricSnapshot.id)).scalars().all()
        first = {}
        for snap in snaps:
            first.setdefault(snap.publication_id, snap)
    got = {cid: first.get(pub_id) for cid, pub_id in pubs.items()}
    assert all(got.values()), {cid: bool(v) for cid, v in got.items()}
    assert (got[tt].views, got[tt].likes, got[tt].reach, got[tt].saves) == (321, 12, None, None)
    assert (got[th].views, got[th].likes, got[th].comments, got[th].shares) == (88, 5, 2, None)
    assert (got[ig].views, got[ig].reach, got[ig].shares, got[ig].likes) == (120, 90, 3, None)
    assert (got[fb].views, got[fb].reach, got[fb].likes, got[fb].shares) == (480, 300, 9, None)

    # -- and the operator sees each one published with its link on the post's page --------
    login_as(Role.OPERATOR, "a")
    detail = client.get(f"/unggahan/{post_id}").get_data(as_text=True)
    for pub in done.values():
        assert pub.permalink.replace("&", "&amp;") in detail
