"""A Facebook Reel and Page Stories through the real worker against the Graph fake: approve →
start / transfer / finish → status polls → published with its link → the reel's first metrics
(plays and reach from video_insights; None where Meta gives nothing). A slow upload host is
waited for; the rules refuse a landscape reel before anything is uploaded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.models import MetricSnapshot, PublicationStatus
from publisher.services.errors import Invalid
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e

S = PublicationStatus


def test_reel_published_with_its_link_and_first_metrics(meta_core, clock, people,  # type: ignore[no-untyped-def]
                                                        graph_fake):
    core, (op, ap), fake = meta_core, people, graph_fake
    fake.clock = clock
    fb = e2e.fb_channel(core, op, fake)
    body = "Karnaval budaya 17 Agustus. #kotacontoh"
    pub_id = e2e.approved(core, op, ap, fb, body=body, options={"fb_type": "reel"},
                          media=[e2e.video(core, op, (1080, 1920), seconds=12)])
    fake.requests.clear()
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHING and pub.pending_state["stage"] == "reel"
    assert len(fake.published_reels()) == 1, "finish sent; Meta is processing"
    clock.advance(seconds=20)
    run_once(core)  # the first status read: still processing, and the operator reads why
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHING and pub.error_code == "still_processing"
    assert "sedang memprosesnya" in pub.error and "processing it" in pub.error_en
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=20)
    assert pub.status == S.PUBLISHED, pub.error_en
    assert pub.permalink == f"https://www.facebook.com/reel/{pub.external_id}"
    assert pub.attempts == 1 and len(fake.published_reels()) == 1
    assert pub.error is None and pub.error_en is None, "the processing note is gone"
    start, finish = fake.calls("POST", f"/{fake.page_id}/video_reels")
    assert start.form == {"upload_phase": "start"} and finish.form["description"] == body
    (transfer,) = fake.calls("POST", r"/video-upload/v25\.0/\d+")
    assert transfer.body_size > 0 and transfer.headers["Authorization"].startswith("OAuth ")
    assert not fake.calls("POST", f"/{fake.page_id}/videos")

    reel = fake.objects[pub.external_id]
    reel["counts"] = {"reactions": 9, "comments": 3}
    reel["insights"] = {"blue_reels_play_count": 480, "post_impressions_unique": 300}
    clock.advance(minutes=15)
    run_once(core)
    with core.sessions() as s:
        (snap,) = s.execute(select(MetricSnapshot)).scalars().all()
    assert (snap.views, snap.reach, snap.likes, snap.comments) == (480, 300, 9, 3)
    assert snap.shares is None and snap.saves is None, "not given: None, never 0"


@pytest.mark.parametrize("kind", ["photo", "video"])
def test_page_story_published_with_its_link(meta_core, clock, people, graph_fake, kind):  # type: ignore[no-untyped-def]
    core, (op, ap), fake = meta_core, people, graph_fake
    fake.clock = clock
    fb = e2e.fb_channel(core, op, fake)
    media = (e2e.photo(core, op, size=(1080, 1920)) if kind == "photo"
             else e2e.video(core, op, (1080, 1920), seconds=10))
    pub_id = e2e.approved(core, op, ap, fb, body="Posyandu hari ini.", media=[media],
                          options={"fb_type": "story"})
    pub = e2e.run_until_settled(core, clock, pub_id)
    assert pub.status == S.PUBLISHED, pub.error_en
    (story,) = fake.stories()
    assert pub.external_id == story["post_id"] and pub.permalink == story["url"]
    assert story["media_type"] == kind and pub.attempts == 1
    # 24 hours of life and no documented insights: the story schedule, not +3 d … +30 d
    assert pub.metrics_stage == 100 and pub.next_metrics_at is not None
    assert pub.next_metrics_at - pub.published_at == timedelta(hours=1)
    if kind == "photo":
        (photo,) = fake.calls("POST", f"/{fake.page_id}/photos")
        assert photo.form == {"published": "false"}
        assert len(fake.calls("POST", f"/{fake.page_id}/photo_stories")) == 1
    else:
        assert len(fake.calls("POST", f"/{fake.page_id}/video_stories")) == 2


def test_slow_upload_host_is_waited_for(core_with, graph_fake, clock, people):  # type: ignore[no-untyped-def]
    """Latency under the client timeout (the transfer answered after 1.5 s): one reel."""
    base = graph_fake.url + "/v25.0"
    core = core_with(WARTA_FACEBOOK_API_URL=base, WARTA_FACEBOOK_VIDEO_TIMEOUT="10",
                     WARTA_FACEBOOK_UPLOAD_URL=graph_fake.url + "/video-upload/v25.0")
    op, ap = people
    graph_fake.faults.add("hang", "POST", r"/video-upload/v25\.0/\d+")
    fb = e2e.fb_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, fb, body="Reel", options={"fb_type": "reel"},
                          media=[e2e.video(core, op, (1080, 1920), seconds=5)])
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=20)
    assert pub.status == S.PUBLISHED and len(graph_fake.published_reels()) == 1
    assert not graph_fake.faults.faults, "the slow answer was met"


def test_landscape_reel_is_refused_before_upload(meta_core, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    fb = e2e.fb_channel(core, op, graph_fake)
    video = e2e.video(core, op, (1280, 720), seconds=5)
    graph_fake.requests.clear()
    with pytest.raises(Invalid) as exc:
        e2e.approved(core, op, ap, fb, body="Reel", options={"fb_type": "reel"},
                     media=[video])
    assert exc.value.code == "platform_rules"
    said = repr(exc.value.__dict__)
    assert "harus tegak dengan rasio 9:16" in said and "1280 × 720" in said, said
    assert graph_fake.calls("POST", f"/{graph_fake.page_id}/video_reels") == []


def test_daily_reels_limit_holds_the_reel_not_the_page(meta_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    """30 API reels in the last 24 hours: the 31st waits for the oldest to age out, with the
    time in the operator's message; a text post on the same Page still goes out."""
    from publisher.models import Channel

    core, (op, ap), fake = meta_core, people, graph_fake
    fb = e2e.fb_channel(core, op, fake)
    first = clock.now - timedelta(hours=23)
    with core.sessions.begin() as s:
        ch = s.get(Channel, fb)
        ch.state = {**(ch.state or {}), "reels_log": [
            (first + timedelta(minutes=i)).isoformat() for i in range(30)]}
    reel = e2e.approved(core, op, ap, fb, body="Reel ke-31", options={"fb_type": "reel"},
                        media=[e2e.video(core, op, (1080, 1920), seconds=5)])
    text = e2e.approved(core, op, ap, fb, body="Pengumuman biasa.")
    run_once(core)
    run_once(core)
    pub = e2e.publication(core, reel)
    assert pub.status == S.QUEUED and pub.error_code == "reels_quota", pub.error_en
    assert "Menunggu kuota Facebook sampai" in pub.error and "30 Reel per 24 jam" in pub.error
    assert fake.calls("POST", f"/{fake.page_id}/video_reels") == []
    assert e2e.publication(core, text).status == S.PUBLISHED, "the Page itself is not held"
    clock.now = first + timedelta(hours=24, minutes=1)
    pub = e2e.run_until_settled(core, clock, reel, step_seconds=20)
    assert pub.status == S.PUBLISHED and len(fake.published_reels()) == 1
