"""Facebook Page Reels and Page Stories against the fake Graph: the three-phase upload with its
real paths, headers and payloads, the rules checked before upload, the daily reels limit, a
transfer that breaks midway, a finish whose answer is lost (looked up, never sent twice), and
the reels metrics."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from adapters.base import AdapterContext, OutgoingPost, Pending, Published
from adapters.errors import OutcomeUnknown, Rejected, RetryLater
from adapters.facebook import FacebookAdapter
from tests.adapters.test_facebook import NOW

REEL = {"fb_type": "reel"}
STORY = {"fb_type": "story"}


def make_adapter(fake, state=None, timeout: float = 5.0, now=NOW, **settings) -> FacebookAdapter:
    saved: list[dict] = []
    st = state if state is not None else {}
    ctx = AdapterContext(credentials={"page_id": fake.page_id, "access_token": fake.page_token},
                         base_url=fake.url + "/v25.0", timeout=timeout, now=lambda: now,
                         settings={"upload_url": fake.url + "/video-upload/v25.0",
                                   "video_timeout": str(timeout), **settings},
                         state=st, save_state=lambda: saved.append(dict(st)))
    adapter = FacebookAdapter(ctx)
    adapter.saved = saved  # type: ignore[attr-defined]
    return adapter


def test_reel_three_phases_then_status_polls(graph_fake, make_media):
    vid = make_media("video", size=(1080, 1920))
    adapter = make_adapter(graph_fake)
    pending = adapter.publish(OutgoingPost("warta-7", "Festival #kota", media=(vid,),
                                           options=REEL))
    assert isinstance(pending, Pending) and pending.state["stage"] == "reel"
    start, finish = graph_fake.calls("POST", "/1000/video_reels")
    assert start.form == {"upload_phase": "start"}
    video_id = pending.state["video_id"]
    (transfer,) = graph_fake.calls("POST", f"/video-upload/v25.0/{video_id}")
    assert transfer.headers["Authorization"] == f"OAuth {graph_fake.page_token}"
    assert "file_size" in transfer.raw_header_names and transfer.headers["Offset"] == "0"
    assert transfer.body_size == vid.size == int(transfer.headers["File-Size"])
    assert finish.form == {"upload_phase": "finish", "video_id": video_id,
                           "video_state": "PUBLISHED", "description": "Festival #kota"}
    # the upload id was saved BEFORE the finish call (what lookup needs after a crash)
    assert adapter.saved[-1]["fb_uploads"]["warta-7"]["video_id"] == video_id
    assert not graph_fake.calls("POST", "/1000/videos") and not graph_fake.calls(
        "POST", "/1000/feed")
    again = adapter.poll(pending)
    assert isinstance(again, Pending) and again.state["polls"] == 1, "still processing"
    done = adapter.poll(again)
    assert isinstance(done, Published) and done.external_id == video_id
    assert done.permalink == f"https://www.facebook.com/reel/{video_id}"
    assert len(graph_fake.calls("GET", f"/{video_id}")) == 2
    assert graph_fake.calls("GET", f"/{video_id}")[0].query == {"fields": "status"}


def test_photo_story_is_an_unpublished_photo_then_photo_stories(graph_fake, make_media):
    img = make_media("image", size=(1080, 1920))
    result = make_adapter(graph_fake).publish(OutgoingPost("k", "tidak dikirim", media=(img,),
                                                           options=STORY))
    (photo,) = graph_fake.calls("POST", "/1000/photos")
    assert photo.form == {"published": "false"} and photo.files["source"][1] == img.size
    (story,) = graph_fake.calls("POST", "/1000/photo_stories")
    assert story.form["photo_id"] == graph_fake.stories()[0]["media_id"]
    assert isinstance(result, Published) and result.external_id == graph_fake.stories()[0]["id"]
    assert result.permalink == graph_fake.stories()[0]["url"]
    assert result.metrics_schedule == "story"


def test_video_story_three_phases(graph_fake, make_media):
    vid = make_media("video", size=(1080, 1920))
    result = make_adapter(graph_fake).publish(OutgoingPost("k", "x", media=(vid,),
                                                           options=STORY))
    start, finish = graph_fake.calls("POST", "/1000/video_stories")
    assert start.form == {"upload_phase": "start"}
    assert finish.form == {"upload_phase": "finish", "video_id": finish.form["video_id"]}
    assert graph_fake.calls("POST", f"/video-upload/v25.0/{finish.form['video_id']}")
    (story,) = graph_fake.stories()
    assert isinstance(result, Published) and result.external_id == story["post_id"]
    assert story["media_type"] == "video" and story["media_id"] == finish.form["video_id"]


def _codes(adapter, *media, **opts) -> list[str]:
    return [p.code for p in adapter.validate(OutgoingPost("k", "x", media=media, options=opts))]


def test_rules_before_upload_from_the_measured_media(graph_fake, make_media):
    a = make_adapter(graph_fake)
    v = make_media("video", size=(1080, 1920))
    assert _codes(a, v, **REEL) == [] and _codes(a, v, **STORY) == []
    for seconds, ok in ((2.9, False), (3.0, True), (90.0, True), (90.5, False)):
        assert (_codes(a, replace(v, duration=seconds), **REEL) == []) is ok, seconds
    assert _codes(a, replace(v, duration=61.0), **STORY) == ["video_duration"]
    assert _codes(a, replace(v, duration=60.0), **STORY) == []
    assert _codes(a, replace(v, duration=None), **REEL) == ["video_duration_unknown"]
    assert _codes(a, replace(v, width=1920, height=1080), **REEL) == ["video_aspect"]
    assert _codes(a, replace(v, width=1080, height=1080), **STORY) == ["video_aspect"]
    assert _codes(a, replace(v, width=360, height=640), **REEL) == ["video_too_small"]
    assert _codes(a, replace(v, width=None), **REEL) == ["video_size_unknown"]
    assert _codes(a, make_media(), **REEL) == ["reel_needs_one_video"]
    assert _codes(a, v, v, **REEL) == ["reel_needs_one_video"]
    assert _codes(a, make_media(), make_media(), **STORY) == ["story_needs_one_media"]
    img = make_media(size=(1080, 1920))
    assert _codes(a, img, **STORY) == []
    assert _codes(a, replace(img, size=4_000_001), **STORY) == ["story_too_large"]
    assert _codes(a, v, fb_type="carousel") == ["bad_fb_type"]
    # a feed video keeps the feed's rules (16:9 is fine there)
    assert _codes(a, replace(v, width=1920, height=1080)) == []
    (p,) = a.validate(OutgoingPost("k", "x", media=(replace(v, duration=95.0),), options=REEL))
    assert "3 sampai 90 detik" in p.message_id and "95" in p.message_id


def test_daily_reels_limit_waits_without_calling_meta(graph_fake, make_media):
    log = [(NOW - timedelta(hours=23, minutes=30) + timedelta(minutes=i)).isoformat()
           for i in range(30)]
    adapter = make_adapter(graph_fake, state={"reels_log": log})
    with pytest.raises(RetryLater) as exc:
        adapter.publish(OutgoingPost("k", "x", media=(make_media("video", size=(1080, 1920)),),
                                     options=REEL))
    assert exc.value.code == "reels_quota" and exc.value.scope != "channel"
    assert exc.value.retry_after == pytest.approx(30 * 60, abs=1), "until the oldest ages out"
    assert "30 Reel per 24 jam" in exc.value.message_id
    assert graph_fake.requests == []
    # 29 in the window: the 30th goes out and is counted
    adapter = make_adapter(graph_fake, state={"reels_log": log[1:]})
    adapter.publish(OutgoingPost("k", "x", media=(make_media("video", size=(1080, 1920)),),
                                 options=REEL))
    assert len(adapter.ctx.state["reels_log"]) == 30


@pytest.mark.parametrize("fault", ["drop", "5xx_before", "5xx_after"])
def test_transfer_failing_midway_is_a_retry_never_unknown(graph_fake, make_media, fault):
    graph_fake.faults.add(fault, "POST", r"/video-upload/v25\.0/\d+")
    with pytest.raises(RetryLater) as exc:
        make_adapter(graph_fake).publish(OutgoingPost(
            "k", "x", media=(make_media("video", size=(1080, 1920)),), options=REEL))
    assert not isinstance(exc.value, OutcomeUnknown)
    assert not graph_fake.calls("POST", "/1000/video_reels")[1:], "no finish after a failure"
    assert graph_fake.published_reels() == []


def test_transfer_refused_by_rupload_is_rejected_with_its_message(graph_fake, make_media):
    vid = make_media("video", size=(1080, 1920))
    adapter = make_adapter(graph_fake)
    bad = replace(vid, size=vid.size + 5)  # file_size disagrees with the bytes sent
    with pytest.raises(Rejected) as exc:
        adapter.publish(OutgoingPost("k", "x", media=(bad,), options=REEL))
    assert exc.value.code == "invalid_media" and "does not match" in exc.value.message_en


def test_finish_answer_lost_is_unknown_then_found_by_its_own_status(graph_fake, make_media):
    post = OutgoingPost("warta-9", "Reel", media=(make_media("video", size=(1080, 1920)),),
                        options=REEL)
    graph_fake.faults.add("drop", "POST", r"/\d+/video_reels#finish")
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    assert adapter.saved[-1]["fb_uploads"]["warta-9"]["video_id"], "saved before the finish"
    with pytest.raises(RetryLater) as exc:  # processing: not "absent"
        adapter.lookup(post, NOW)
    assert exc.value.code == "processing"
    found = adapter.lookup(post, NOW)
    assert isinstance(found, Published) and found.permalink.endswith(f"/reel/{found.external_id}")
    assert adapter.lookup(replace(post, taken_ids=frozenset({found.external_id})), NOW) is None
    assert len(graph_fake.published_reels()) == 1


def test_without_a_saved_upload_the_pages_reels_are_read_by_description(graph_fake,
                                                                       make_media):
    """The channel state was lost: the Page's reels since the attempt, by description, not
    one another publication already holds."""
    graph_fake.clock = lambda: NOW + timedelta(minutes=1)
    vid = make_media("video", size=(1080, 1920))
    post = OutgoingPost("warta-5", "Reel kota", media=(vid,), options=REEL)
    pending = make_adapter(graph_fake).publish(post)
    reel_id = pending.state["video_id"]
    forgetful = make_adapter(graph_fake, state={})
    found = forgetful.lookup(post, NOW)
    assert isinstance(found, Published) and found.external_id == reel_id
    (read,) = graph_fake.calls("GET", "/1000/video_reels")
    assert read.query["since"] == str(int(NOW.timestamp()))
    assert forgetful.lookup(replace(post, body="Teks lain"), NOW) is None
    assert forgetful.lookup(replace(post, taken_ids=frozenset({reel_id})), NOW) is None
    assert forgetful.lookup(post, NOW + timedelta(minutes=5)) is None, "older than the attempt"


def test_finish_never_received_is_absent(graph_fake, make_media):
    post = OutgoingPost("warta-9", "Reel", media=(make_media("video", size=(1080, 1920)),),
                        options=REEL)
    graph_fake.faults.add("5xx_before", "POST", r"/\d+/video_reels#finish")
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    with pytest.raises(RetryLater) as exc:  # within the grace "not started" may be Meta lagging
        adapter.lookup(post, NOW)
    assert exc.value.code == "not_yet_visible" and exc.value.retry_after
    later = make_adapter(graph_fake, state=adapter.ctx.state, now=NOW + timedelta(minutes=46))
    assert later.lookup(post, NOW) is None and graph_fake.published_reels() == []


def test_status_lagging_after_a_lost_finish_is_looked_at_again(graph_fake, make_media):
    """The finish arrived, its answer was lost, and the first reads still say ``not_started``
    (or give no status at all): look again, never "absent" (that would send a second reel)."""
    post = OutgoingPost("warta-9", "Reel", media=(make_media("video", size=(1080, 1920)),),
                        options=REEL)
    graph_fake.reel_lag_reads = 1
    graph_fake.faults.add("drop", "POST", r"/\d+/video_reels#finish")
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    with pytest.raises(RetryLater) as exc:
        adapter.lookup(post, NOW)
    assert exc.value.code == "not_yet_visible"
    assert graph_fake.objects[adapter.ctx.state["fb_uploads"]["warta-9"]["video_id"]][
        "finished"], "Meta has it: 'absent' here would be a second reel"
    graph_fake.reel_status = lambda obj: {}  # the status field missing: not "absent" either
    with pytest.raises(RetryLater):
        adapter.lookup(post, NOW)
    assert len(graph_fake.published_reels()) == 1


@pytest.mark.parametrize("kind", ["image", "video"])
def test_story_answer_lost_is_found_by_its_media_id(graph_fake, make_media, kind):
    post = OutgoingPost("warta-3", "x", media=(make_media(kind, size=(1080, 1920)),),
                        options=STORY)
    call = r"/\d+/photo_stories" if kind == "image" else r"/\d+/video_stories#finish"
    graph_fake.faults.add("drop", "POST", call)
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    (story,) = graph_fake.stories()
    found = adapter.lookup(post, NOW)
    assert isinstance(found, Published) and found.external_id == story["post_id"]
    assert found.permalink == story["url"]
    # another publication's story with the same kind is not ours
    other = OutgoingPost("warta-4", "x", media=post.media, options=STORY)
    assert make_adapter(graph_fake, state={"fb_uploads": {"warta-4": {
        "kind": "story", "media_id": "999",
        "at": (NOW - timedelta(hours=2)).isoformat()}}}).lookup(other, NOW) is None


def test_story_never_received_is_absent(graph_fake, make_media):
    post = OutgoingPost("warta-3", "x", media=(make_media(size=(1080, 1920)),), options=STORY)
    graph_fake.faults.add("5xx_before", "POST", r"/\d+/photo_stories")
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    with pytest.raises(RetryLater) as exc:
        adapter.lookup(post, NOW)
    assert exc.value.code == "not_yet_visible"
    later = make_adapter(graph_fake, state=adapter.ctx.state, now=NOW + timedelta(hours=1))
    assert later.lookup(post, NOW) is None and graph_fake.stories() == []
    # a day later a story would have expired either way: a person checks
    gone = make_adapter(graph_fake, state=adapter.ctx.state, now=NOW + timedelta(hours=25))
    with pytest.raises(OutcomeUnknown) as unk:
        gone.lookup(post, NOW)
    assert unk.value.code == "story_expired"


def test_story_without_a_saved_upload_never_claims_a_page_story(graph_fake, make_media):
    """No saved media id: a story staff posted by hand (same kind, after the attempt) is not
    taken for ours; a person checks."""
    img = make_media(size=(1080, 1920))
    make_adapter(graph_fake).publish(OutgoingPost("by-hand", "x", media=(img,), options=STORY))
    assert len(graph_fake.stories()) == 1
    post = OutgoingPost("warta-3", "x", media=(img,), options=STORY)
    with pytest.raises(OutcomeUnknown) as exc:
        make_adapter(graph_fake, state={}).lookup(post, NOW - timedelta(minutes=5))
    assert exc.value.code == "story_no_record"


def test_photo_story_upload_without_an_id_is_a_retry(graph_fake, make_media, monkeypatch):
    """The unpublished photo is reversible: no id from it is a retry, before any record."""
    monkeypatch.setattr(graph_fake, "_post_photos", lambda node, rec: (200, {"success": True}))
    adapter = make_adapter(graph_fake)
    with pytest.raises(RetryLater) as exc:
        adapter.publish(OutgoingPost("warta-3", "x", media=(make_media(size=(1080, 1920)),),
                                     options=STORY))
    assert not isinstance(exc.value, OutcomeUnknown) and exc.value.code == "no_upload_id"
    assert not graph_fake.calls("POST", "/1000/photo_stories") and graph_fake.stories() == []


def test_throttled_start_waits_for_the_usage_header(graph_fake, make_media):
    graph_fake.fail("throttle", path="/video_reels")
    with pytest.raises(RetryLater) as exc:
        make_adapter(graph_fake).publish(OutgoingPost(
            "k", "x", media=(make_media("video", size=(1080, 1920)),), options=REEL))
    assert exc.value.scope == "channel" and exc.value.retry_after == 7 * 60
    assert graph_fake.calls("POST", r"/video-upload/.*") == []


def test_reel_metrics_plays_and_reach_none_where_not_given(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    pending = adapter.publish(OutgoingPost("k", "x", media=(make_media("video", size=(
        1080, 1920)),), options=REEL))
    reel = graph_fake.objects[pending.state["video_id"]]
    reel["counts"] = {"reactions": 5, "comments": 2}
    reel["insights"] = {"blue_reels_play_count": 321, "post_impressions_unique": 150}
    bare = make_adapter(graph_fake).publish(OutgoingPost("k2", "y", media=(make_media(
        "video", size=(1080, 1920)),), options=REEL))
    graph_fake.objects[bare.state["video_id"]]["counts"] = {"reactions": 1}
    graph_fake.requests.clear()
    out = adapter.fetch_metrics([reel["id"], bare.state["video_id"]])
    m = out[reel["id"]]
    assert (m.views, m.reach, m.likes, m.comments, m.shares) == (321, 150, 5, 2, None)
    n = out[bare.state["video_id"]]
    assert (n.views, n.reach, n.likes) == (None, None, 1), "no insights yet: None, not 0"
    (batch,) = graph_fake.calls("POST", "/")
    assert "video_insights?metric=blue_reels_play_count,post_impressions_unique" in batch.form[
        "batch"]
    assert len(graph_fake.calls("GET", "/")) == 1, "one multi-id read for the counts"
