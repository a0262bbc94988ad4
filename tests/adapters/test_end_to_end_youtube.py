"""YouTube through the real worker: a video post with its title and options → uploaded in
chunks, progress recorded on the publication, published with a permalink, metrics batched."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.core import Core
from publisher.models import MetricSnapshot, Publication, PublicationStatus, Role, User
from publisher.services import posts as post_svc
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.adapters.conftest import real_mp4
from tests.fakes.youtube import FakeYouTube, serve


@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    yield from serve()


@pytest.fixture
def yt_core(core_with, yt) -> Core:  # type: ignore[no-untyped-def]
    return core_with(WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token",
                     WARTA_YOUTUBE_CHUNK_SIZE=str(256 * 1024))


def test_youtube_video_through_the_worker(yt_core, clock, people, yt):  # type: ignore[no-untyped-def]
    core, (op, ap) = yt_core, people
    ch = e2e.yt_channel(core, op, yt, name="Kanal Pemda")
    # the check with Google refreshed the token: its expiry is Google's expires_in from now
    assert e2e.channel_row(core, ch).token_expires_at == clock.now + timedelta(seconds=3599)
    data = real_mp4(1280, 720, seconds=30) + os.urandom(700 * 1024)
    media_id = e2e.upload(core, op, data, "rapat.mp4")
    e2e.approved(core, op, ap, ch, body="Rekaman rapat paripurna.", media=[media_id],
                 title="Rapat Paripurna DPRD",
                 options={"made_for_kids": False, "privacy": "unlisted"})

    run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
        assert pub.permalink == f"https://www.youtube.com/watch?v={pub.external_id}"
        assert (pub.progress_done, pub.progress_total) == (len(data), len(data))
        stored = yt.videos[pub.external_id]
        assert stored["resource"]["snippet"]["title"] == "Rapat Paripurna DPRD"
        assert stored["resource"]["status"]["privacyStatus"] == "unlisted"
        assert len(yt.calls("/upload/youtube/v3/videos", "PUT")) >= 3, "chunked upload"
        channel_state = pub.channel.state
        assert channel_state["quota"]["used"] > 0, "quota use persisted per channel"

    clock.advance(hours=1, minutes=1)
    run_once(core)
    with core.sessions() as s:
        snap = s.execute(select(MetricSnapshot)).scalar_one()
        assert snap.views is not None and snap.reach is None
    # the access token had run out: the metrics job refreshed it, and the channel knows
    assert e2e.channel_row(core, ch).token_expires_at == clock.now + timedelta(seconds=3599)


def test_youtube_post_without_made_for_kids_cannot_be_submitted(yt_core, make_user, yt):  # type: ignore[no-untyped-def]
    core = yt_core
    op = make_user(Role.OPERATOR)
    ch = e2e.yt_channel(core, op, yt, name="Kanal")
    from publisher.services.errors import Invalid

    with core.sessions.begin() as s:
        user = s.get(User, op.id)
        post = post_svc.create_post(core, s, user, post_svc.PostInput(body="x", channels=[ch]))
        with pytest.raises(Invalid) as err:
            post_svc.submit_post(core, s, user, post.id)
    assert "Kanal" in " ".join(err.value.fields)


def test_youtube_429_retry_after_sets_the_retry_time(yt_core, clock, people, yt):  # type: ignore[no-untyped-def]
    """Google answers 429 with Retry-After: 120: the publication is queued again for 120 s
    after the worker's now (plus the queue's jitter), not the 30 s first backoff."""
    core, (op, ap) = yt_core, people
    ch = e2e.yt_channel(core, op, yt)
    pub_id = e2e.approved(core, op, ap, ch, body="Video kegiatan.", media=[e2e.video(core, op)],
                          title="Kegiatan", options={"made_for_kids": False})
    yt.fail("initiate", "too_many")
    yt.retry_after = "120"
    t0 = clock.now
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == PublicationStatus.QUEUED and pub.error_code == "rate_limited"
    assert "2 minutes" in pub.error_en
    job = e2e.job_of(core, pub)
    assert t0 + timedelta(seconds=120) <= job.run_at <= t0 + timedelta(seconds=144)
    clock.advance(seconds=119)
    run_once(core)
    assert e2e.publication(core, pub_id).status == PublicationStatus.QUEUED
    assert e2e.run_until_settled(core, clock, pub_id).status == PublicationStatus.PUBLISHED
