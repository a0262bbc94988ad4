"""Every Facebook and Instagram (Graph) post type through the real worker against the Graph
fake: approve → ``run_once`` (+ clock for container polls) → published with a permalink, and
what Meta received (paths, counts, form fields). Then platform errors through the worker land
in the right publication state with the operator's message."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from publisher.models import ChannelStatus, PublicationStatus
from publisher.worker import run_once
from publisher.worker.reconcile import PLATFORM_SLACK
from tests.adapters import worker_e2e as e2e

S = PublicationStatus

# -- Facebook -------------------------------------------------------------------------------
FB_CASES = [
    pytest.param({"photos": 0}, id="text"),
    pytest.param({"photos": 0, "link": "https://kotacontoh.go.id/berita/ktp"}, id="text-link"),
    pytest.param({"photos": 1}, id="one-photo"),
    pytest.param({"photos": 2}, id="two-photos"),
    pytest.param({"photos": 3}, id="three-photos"),
    pytest.param({"video": True}, id="video"),
]


@pytest.mark.parametrize("case", FB_CASES)
def test_facebook_post_type_through_the_worker(meta_core, clock, people, graph_fake,  # type: ignore[no-untyped-def]
                                               case):
    core, (op, ap), fake = meta_core, people, graph_fake
    fb = e2e.fb_channel(core, op, fake)
    n = case.get("photos", 0)
    media = ([e2e.video(core, op, (1280, 720))] if case.get("video")
             else [e2e.photo(core, op, i) for i in range(n)])
    body = "Pelayanan KTP keliling hari Sabtu."
    pub_id = e2e.approved(core, op, ap, fb, body=body, media=media, link=case.get("link"))
    fake.requests.clear()

    pub = e2e.run_until_settled(core, clock, pub_id)
    assert pub.status == S.PUBLISHED, pub.error_en
    assert pub.error is None and pub.published_at is not None
    page = fake.page_id
    feed = fake.calls("POST", f"/{page}/feed")
    photos = fake.calls("POST", f"/{page}/photos")
    videos = fake.calls("POST", f"/{page}/videos")

    if case.get("video"):
        assert (len(feed), len(photos), len(videos)) == (0, 0, 1)
        (call,) = videos
        assert call.files["source"][1] > 0 and call.form["description"] == body
        assert pub.permalink == f"https://www.facebook.com/{page}/videos/{pub.external_id}/"
        assert fake.objects[pub.external_id]["kind"] == "video"
    elif n == 0:
        assert (len(feed), len(photos), len(videos)) == (1, 0, 0)
        assert feed[0].form["message"] == body
        assert feed[0].form.get("link") == case.get("link")
        assert not any(k.startswith("attached_media") for k in feed[0].form)
        assert pub.permalink == f"https://www.facebook.com/{pub.external_id}"
        assert fake.objects[pub.external_id]["link"] == case.get("link")
    elif n == 1:
        assert (len(feed), len(photos), len(videos)) == (0, 1, 0)
        assert photos[0].form == {"caption": body, "published": "true"}
        assert photos[0].files["source"][1] > 0
        assert pub.external_id.startswith(f"{page}_")
        assert pub.permalink == f"https://www.facebook.com/{pub.external_id}"
    else:
        # N unpublished photos, then ONE feed post attaching them, in order
        assert (len(feed), len(photos), len(videos)) == (1, n, 0)
        assert [p.form.get("published") for p in photos] == ["false"] * n
        assert all(p.files["source"][1] > 0 for p in photos)
        photo_ids = [o["id"] for o in fake.objects.values() if o["kind"] == "photo"]
        attached = [json.loads(feed[0].form[f"attached_media[{i}]"])["media_fbid"]
                    for i in range(n)]
        assert attached == photo_ids and len(set(attached)) == n
        assert feed[0].form["message"] == body
        assert pub.permalink == f"https://www.facebook.com/{pub.external_id}"
        assert len(fake.objects[pub.external_id]["media"]) == n
    assert pub.attempts == 1


# -- Instagram (Graph) -------------------------------------------------------------------------
IG_CASES = [
    pytest.param({"photos": 1}, id="single-image"),
    pytest.param({"photos": 2}, id="carousel-2"),
    pytest.param({"photos": 3}, id="carousel-3"),
    pytest.param({"reel": True}, id="reel"),
]


@pytest.mark.parametrize("case", IG_CASES)
def test_instagram_graph_post_type_through_the_worker(meta_core, clock, people, graph_fake,  # type: ignore[no-untyped-def]
                                                      case):
    core, (op, ap), fake = meta_core, people, graph_fake
    ig = e2e.ig_graph_channel(core, op, fake)
    if case.get("reel"):
        media, options = [e2e.video(core, op)], {"ig_type": "reel"}
    else:
        media, options = [e2e.photo(core, op, i) for i in range(case["photos"])], None
    body = "Festival budaya kota, 12 Oktober. #kotacontoh"
    pub_id = e2e.approved(core, op, ap, ig, body=body, media=media, options=options)
    fake.requests.clear()

    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHING, "containers are made; publishing waits for a poll job"
    assert pub.pending_state and not fake.calls("POST", f"/{fake.ig_user_id}/media_publish")

    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=10)
    assert pub.status == S.PUBLISHED, pub.error_en
    assert pub.pending_state is None and pub.attempts == 1
    containers = fake.calls("POST", f"/{fake.ig_user_id}/media")
    (publish,) = fake.calls("POST", f"/{fake.ig_user_id}/media_publish")
    assert len(fake.calls("GET", f"/{fake.ig_user_id}/content_publishing_limit")) == 1
    media_obj = fake.objects[pub.external_id]
    assert media_obj["caption"] == body
    urls = [c.form.get("image_url") or c.form.get("video_url") for c in containers]
    signed = [u for u in urls if u]  # a carousel's parent container carries no URL
    assert signed and all(u.startswith(f"{e2e.PUBLIC_URL}/m/") for u in signed), "signed URLs"

    if case.get("reel"):
        (container,) = containers
        assert container.form["media_type"] == "REELS"
        assert container.form["video_url"].endswith(".mp4")
        assert container.form["share_to_feed"] == "true"
        assert media_obj["media_type"] == "VIDEO"
        assert pub.permalink.startswith("https://www.instagram.com/reel/")
        # the container stayed IN_PROGRESS for one status read: at least two polls
        assert len(fake.calls("GET", f"/{publish.form['creation_id']}")) >= 2
    elif case["photos"] == 1:
        (container,) = containers
        assert container.form["image_url"].endswith(".jpg"), "PNG converted to JPEG"
        assert container.form["caption"] == body and "media_type" not in container.form
        assert fake.objects[publish.form["creation_id"]]["form"] == container.form
        assert media_obj["media_type"] == "IMAGE"
        assert pub.permalink.startswith("https://www.instagram.com/p/")
    else:
        n = case["photos"]
        *children, parent = containers
        assert len(children) == n
        assert all(c.form["is_carousel_item"] == "true" and "caption" not in c.form
                   and c.form["image_url"].endswith(".jpg") for c in children)
        assert len({c.form["image_url"] for c in children}) == n
        assert parent.form["media_type"] == "CAROUSEL" and parent.form["caption"] == body
        child_ids = parent.form["children"].split(",")
        assert len(child_ids) == n and all(fake.objects[c]["form"]["is_carousel_item"] == "true"
                                           for c in child_ids)
        assert publish.form["creation_id"] not in child_ids
        assert fake.objects[publish.form["creation_id"]]["media_type"] == "CAROUSEL"
        assert media_obj["media_type"] == "CAROUSEL_ALBUM"
        assert [c["id"] for c in media_obj["children"]["data"]] == child_ids
        assert pub.permalink.startswith("https://www.instagram.com/p/")
    assert pub.permalink == media_obj["permalink"]


# -- platform errors through the worker --------------------------------------------------------
def test_facebook_duplicate_fails_with_the_operator_message(meta_core, clock, people,  # type: ignore[no-untyped-def]
                                                             graph_fake):
    core, (op, ap) = meta_core, people
    fb = e2e.fb_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, fb, body="Pengumuman yang sama.")
    graph_fake.fail("duplicate", path="/feed")
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.FAILED and pub.error_code == "duplicate"
    assert "Duplicate status message" in pub.error_en and "duplicate" in pub.error_en
    assert "sama dengan unggahan sebelumnya" in pub.error
    assert pub.permalink is None and pub.external_id is None
    assert e2e.channel_row(core, fb).status == ChannelStatus.ACTIVE, "the account is fine"
    clock.advance(hours=1)
    assert run_once(core) == 0, "nothing is retried"
    assert len(graph_fake.calls("POST", f"/{graph_fake.page_id}/feed")) == 1


@pytest.mark.parametrize("platform", ["facebook", "instagram_graph"])
def test_expired_token_needs_reauth_on_publication_and_channel(meta_core, people, graph_fake,  # type: ignore[no-untyped-def]
                                                               platform):
    core, (op, ap) = meta_core, people
    if platform == "facebook":
        ch, media = e2e.fb_channel(core, op, graph_fake), []
    else:
        ch, media = e2e.ig_graph_channel(core, op, graph_fake), [e2e.photo(core, op)]
    pub_id = e2e.approved(core, op, ap, ch, body="Jadwal vaksinasi.", media=media)
    graph_fake.fail("expired", times=None)
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.NEEDS_REAUTH and pub.error_code == "auth_expired"
    assert "Reconnect this account" in pub.error_en and "Sambungkan ulang" in pub.error
    channel = e2e.channel_row(core, ch)
    assert channel.status == ChannelStatus.NEEDS_REAUTH
    assert channel.last_error == pub.error


def test_instagram_throttle_requeues_then_publishes(meta_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ig, body="Lomba foto.", media=[e2e.photo(core, op)])
    graph_fake.fail("ig_throttle", path="/media", method="POST")  # 80002, regain in 3 minutes
    t0 = clock.now
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.QUEUED and pub.error_code == "rate_limited"
    assert "80002" in pub.error_en and "3 minutes" in pub.error_en
    job = e2e.job_of(core, pub)
    assert t0 + timedelta(minutes=3) <= job.run_at <= t0 + timedelta(minutes=4)
    paused = e2e.channel_row(core, ig).paused_until
    # the platform's 3 minutes and the few seconds' slack Warta adds to a platform's own time
    assert (paused.replace(tzinfo=t0.tzinfo) - t0) == timedelta(minutes=3,
                                                                 seconds=PLATFORM_SLACK)
    clock.advance(minutes=2)
    run_once(core)
    assert e2e.publication(core, pub_id).status == S.QUEUED, "not before the regain time"
    clock.advance(minutes=2)
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=10)
    assert pub.status == S.PUBLISHED and pub.error is None and pub.attempts == 2


def test_instagram_container_error_fails_at_poll(meta_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    graph_fake.container_outcome = "ERROR"
    pub_id = e2e.approved(core, op, ap, ig, body="Reel pawai.", media=[e2e.video(core, op)],
                          options={"ig_type": "reel"})
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=10)
    assert pub.status == S.FAILED and pub.error_code == "processing_failed"
    assert "2207026" in pub.error_en and "aspect ratio" in pub.error_en
    assert not graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")
