"""Instagram Stories (Graph API, ``media_type=STORIES``) against the fake Graph server: the
container, the rules checked before upload, the story insights and their 24-hour expiry."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.base import OutgoingPost, Published
from adapters.instagram_graph import InstagramGraphAdapter
from tests.adapters.test_instagram_graph import NOW, make_adapter, run

STORY = {"ig_type": "story"}


@pytest.mark.parametrize("kind, field", [("image", "image_url"), ("video", "video_url")])
def test_story_container_and_publish(graph_fake, make_media, kind, field):
    m = make_media(kind, size=(1080, 1920))
    result, _ = run(make_adapter(graph_fake), OutgoingPost("k", "Info banjir #warga",
                                                           media=(m,), options=STORY))
    (create,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    # no caption: the API sets none on a story
    assert create.form == {"media_type": "STORIES", field: m.public_url}
    assert isinstance(result, Published) and result.metrics_schedule == "story"
    assert graph_fake.objects[result.external_id]["media_product_type"] == "STORY"
    assert "/stories/" in (result.permalink or "")


def test_feed_post_keeps_the_default_schedule(graph_fake, make_media):
    result, _ = run(make_adapter(graph_fake), OutgoingPost("k", "x", media=(make_media(),)))
    assert result.metrics_schedule == "default"


def test_fake_refuses_a_story_with_both_urls(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    with pytest.raises(Exception, match="one image_url or one video_url"):
        adapter.flow.create({"media_type": "STORIES", "image_url": "a", "video_url": "b"})


def _codes(adapter: InstagramGraphAdapter, *media, **opts) -> list[str]:
    return [p.code for p in adapter.validate(OutgoingPost("k", "x", media=media,
                                                          options={**STORY, **opts}))]


def test_story_rules_from_the_measured_media(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    assert _codes(adapter, make_media("video", size=(1080, 1920))) == []
    assert _codes(adapter, make_media(size=(1080, 1920))) == []
    assert _codes(adapter, make_media(), make_media()) == ["story_needs_one_media"]
    assert "story_needs_one_media" in _codes(adapter)
    vid = make_media("video", size=(1080, 1920))
    # the duration Warta read from the video container, whatever the file is called
    assert _codes(adapter, replace(vid, duration=61.0)) == ["story_duration"]
    assert _codes(adapter, replace(vid, duration=2.5)) == ["story_duration"]
    assert _codes(adapter, replace(vid, duration=60.0)) == []
    assert _codes(adapter, replace(vid, size=100_000_001)) == ["story_too_large"]
    assert _codes(adapter, replace(make_media(), size=8_000_001)) == ["media_too_large"]
    assert _codes(adapter, replace(vid, width=2000, height=100)) == ["story_aspect"]
    # a 61-second video is a fine reel but not a story
    assert "video_duration" not in _codes(adapter, replace(vid, duration=61.0),
                                          ig_type="reel")


def test_story_images_are_not_padded_to_the_feed_aspect():
    assert InstagramGraphAdapter.image_aspect_for(STORY) == (0.01, 10.0)
    assert InstagramGraphAdapter.image_aspect_for({}) == (0.8, 1.91)


def _story(graph_fake, mid: str, age: timedelta) -> None:
    graph_fake.objects[mid] = {"id": mid, "kind": "ig_media", "media_product_type": "STORY",
                               "published": (NOW - age).timestamp(),
                               "insights": {"views": 40, "reach": 31, "replies": 2,
                                            "shares": 1}}


def test_story_insights_asked_with_story_metrics(graph_fake):
    graph_fake.clock = lambda: NOW
    _story(graph_fake, "17800001", timedelta(hours=1))
    graph_fake.objects["17800002"] = {"id": "17800002", "kind": "ig_media", "like_count": 3,
                                      "comments_count": 1, "media_product_type": "FEED",
                                      "insights": {"views": 9, "reach": 8, "saved": 1}}
    out = make_adapter(graph_fake).fetch_metrics(["17800001", "17800002"])
    s, f = out["17800001"], out["17800002"]
    # a story has no like/comment counts or saves: None, not 0
    assert (s.views, s.reach, s.shares, s.likes, s.comments, s.saves) == (
        40, 31, 1, None, None, None)
    assert (f.likes, f.views, f.saves) == (3, 9, 1)
    urls = [i["relative_url"] for i in json.loads(graph_fake.calls("POST", "/")[0]
                                                  .form["batch"])]
    assert "saved" not in urls[0] and "replies" in urls[0] and "saved" in urls[1]


def test_story_insights_expire_after_24_hours_in_the_fake(graph_fake):
    graph_fake.clock = lambda: NOW
    _story(graph_fake, "17800003", timedelta(hours=24, seconds=1))
    m = make_adapter(graph_fake).fetch_metrics(["17800003"])["17800003"]
    assert (m.views, m.reach, m.shares) == (None, None, None)


def test_story_lookup_uses_the_stories_edge(graph_fake, make_media):
    graph_fake.clock = lambda: NOW
    adapter = make_adapter(graph_fake)
    feed, _ = run(adapter, OutgoingPost("k", "Info banjir", media=(make_media(),)))
    post = OutgoingPost("k", "Info banjir", media=(make_media(size=(1080, 1920)),),
                        options=STORY)
    story, _ = run(adapter, post)
    found = adapter.lookup(post, NOW - timedelta(minutes=5))
    assert found is not None and found.external_id == story.external_id != feed.external_id
    assert found.metrics_schedule == "story"
    assert graph_fake.calls("GET", f"/{graph_fake.ig_user_id}/stories")
    # taken by another publication, or of the other kind, or older than the attempt: not ours
    assert adapter.lookup(replace(post, taken_ids=frozenset({story.external_id})),
                          NOW - timedelta(minutes=5)) is None
    assert adapter.lookup(replace(post, media=(make_media("video"),)),
                          NOW - timedelta(minutes=5)) is None
    assert adapter.lookup(post, NOW + timedelta(minutes=1)) is None
