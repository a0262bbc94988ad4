"""Every X and Telegram media post type through the real worker against the fakes: approve →
``run_once`` (+ clock for X video processing) → published with a permalink, and what the
platform received. Then rate limits and a lost bot through the worker: the right state, the
operator's message, and the job's next run at (or after) the time the platform named.

Not checked: Telegram's video width/height/duration fields. Uploads do not probe videos
(``publisher.mediafiles`` leaves width, height and duration empty for MP4/MOV/WebM), so the
adapter has nothing to send."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from publisher.models import ChannelStatus, PublicationStatus
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.fakes import x as x_fake

S = PublicationStatus


# -- X ----------------------------------------------------------------------------------------
X_CASES = [
    pytest.param(["image"], id="one-image"),
    pytest.param(["image"] * 4, id="four-images"),
    pytest.param(["video"], id="video"),
]


@pytest.mark.parametrize("kinds", X_CASES)
def test_x_media_post_through_the_worker(xt_core, clock, people, fx, kinds):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    media = [e2e.video(core, op, (1280, 720)) if k == "video" else e2e.photo(core, op, i)
             for i, k in enumerate(kinds)]
    body = "Jalan Sudirman ditutup Minggu pagi untuk car free day."
    pub_id = e2e.approved(core, op, ap, ch, body=body, media=media)

    run_once(core)
    pub = e2e.publication(core, pub_id)
    if kinds == ["video"]:
        assert pub.status == S.PUBLISHING, "X is processing the video: a poll job follows"
        assert pub.pending_state["processing"] and not fx.calls("/2/tweets", "POST")
        pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=5)
        # finalize said "pending", the first STATUS "in_progress", the second "succeeded"
        assert len(fx.calls("/2/media/upload", "GET")) == 2
    assert pub.status == S.PUBLISHED, pub.error_en
    assert pub.pending_state is None and pub.attempts == 1

    inits = fx.calls("/initialize", "POST")
    finals = fx.calls("/finalize", "POST")
    assert len(inits) == len(finals) == len(kinds)
    assert len(fx.calls("/append", "POST")) >= len(kinds)
    want = ["tweet_video" if k == "video" else "tweet_image" for k in kinds]
    assert [c.json["media_category"] for c in inits] == want
    (create,) = fx.calls("/2/tweets", "POST")
    media_ids = create.json["media"]["media_ids"]
    assert len(media_ids) == len(kinds) == len(set(media_ids))
    for mid, init in zip(media_ids, inits, strict=True):
        item = fx.media[mid]
        assert item["received"] == item["total_bytes"] == init.json["total_bytes"] > 0
    assert create.json["text"] == body
    assert pub.external_id in fx.tweets
    assert pub.permalink == f"https://x.com/diskominfo_uji/status/{pub.external_id}"


# -- Telegram ---------------------------------------------------------------------------------
TG_CASES = [
    pytest.param(["image"], id="photo"),
    pytest.param(["video"], id="video"),
    pytest.param(["image", "image"], id="album-2-photos"),
    pytest.param(["image", "video", "image"], id="album-3-mixed"),
]


@pytest.mark.parametrize("kinds", TG_CASES)
def test_telegram_media_post_through_the_worker(xt_core, clock, people, ft, kinds):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.tg_channel(core, op)
    media = [e2e.video(core, op, (1280, 720)) if k == "video" else e2e.photo(core, op, i)
             for i, k in enumerate(kinds)]
    body = "Posyandu balita buka Sabtu pukul 08.00 & gratis."
    pub_id = e2e.approved(core, op, ap, ch, body=body, media=media)

    pub = e2e.run_until_settled(core, clock, pub_id)
    assert pub.status == S.PUBLISHED, pub.error_en
    assert pub.attempts == 1
    assert pub.permalink == f"https://t.me/diskominfo_test/{pub.external_id}"
    first = ft.messages[0]
    assert str(first["message_id"]) == pub.external_id
    assert not ft.calls("/sendMessage"), "the text goes in the caption"
    if len(kinds) == 1:
        method, part = ("sendPhoto", "photo") if kinds == ["image"] else ("sendVideo", "video")
        (call,) = ft.calls(f"/{method}")
        assert call.files[part] > 0 and call.form["chat_id"] == "@diskominfo_test"
        assert call.form["caption"] == "Posyandu balita buka Sabtu pukul 08.00 &amp; gratis."
        assert call.form["parse_mode"] == "HTML"
        if part == "video":
            # no width/height/duration: uploads do not probe videos (module docstring)
            assert call.form["supports_streaming"] == "true"
        assert len(ft.messages) == 1
    else:
        (call,) = ft.calls("/sendMediaGroup")
        assert not ft.calls("/sendPhoto") and not ft.calls("/sendVideo")
        items = json.loads(call.form["media"])
        assert [i["type"] for i in items] == ["photo" if k == "image" else "video"
                                              for k in kinds]
        assert [i["media"] for i in items] == [f"attach://m{n}" for n in range(len(kinds))]
        assert sorted(call.files) == [f"m{n}" for n in range(len(kinds))]
        assert all(size > 0 for size in call.files.values())
        assert "caption" in items[0] and all("caption" not in i for i in items[1:])
        assert len(ft.messages) == len(kinds), "one message per album item"


# -- rate limits and a lost bot through the worker -------------------------------------------
def test_x_rate_limit_requeues_until_the_reset(xt_core, clock, people, fx, monkeypatch):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    reset = int(clock.now.timestamp()) + 900
    monkeypatch.setattr(x_fake, "RESET_AT", reset)  # the x-rate-limit-reset header X sends
    ch = e2e.x_channel(core, op, fx)
    pub_id = e2e.approved(core, op, ap, ch, body="Info pemadaman listrik.",
                          media=[e2e.photo(core, op)])
    fx.fail("tweets", "rate_limit")
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.QUEUED and pub.error_code == "rate_limited"
    assert "X is rate limiting; retrying automatically in 15 minutes" in pub.error_en
    assert "15 menit" in pub.error
    job = e2e.job_of(core, pub)
    assert job.run_at.timestamp() >= reset, "not before X's own reset time"
    assert job.run_at.timestamp() <= reset + 0.2 * 900 + 1
    assert e2e.channel_row(core, ch).paused_until is None, "a per-endpoint limit, not a pause"

    clock.advance(seconds=890)
    assert run_once(core) == 0
    clock.advance(seconds=200)
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHED and pub.error is None and pub.attempts == 2
    assert len(fx.calls("/2/tweets", "POST")) == 2 and len(fx.tweets) == 1


def test_telegram_rate_limit_requeues_after_retry_after(xt_core, clock, people, ft):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.tg_channel(core, op)
    pub_id = e2e.approved(core, op, ap, ch, body="Album kegiatan.",
                          media=[e2e.photo(core, op, 0), e2e.photo(core, op, 1)])
    ft.fail("sendMediaGroup", "throttle")  # 429, parameters.retry_after = 35
    t0 = clock.now
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.QUEUED and pub.error_code == "rate_limited"
    assert pub.error_en == ("Telegram is rate limiting; retrying in 35 seconds. Waiting for the "
                            "Telegram limit until 10.00 WIB.")  # t0 is 03:00 UTC, 35 s + slack
    job = e2e.job_of(core, pub)
    assert t0 + timedelta(seconds=35) <= job.run_at <= t0 + timedelta(seconds=43)
    clock.advance(seconds=34)
    assert run_once(core) == 0
    clock.advance(seconds=10)
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHED and pub.attempts == 2 and len(ft.messages) == 2


def test_telegram_bot_kicked_needs_reauth(xt_core, people, ft):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.tg_channel(core, op)
    pub_id = e2e.approved(core, op, ap, ch, body="Foto.", media=[e2e.photo(core, op)])
    ft.fail("sendPhoto", "kicked")
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.NEEDS_REAUTH and pub.error_code == "auth"
    assert "bot was kicked" in pub.error_en and "Jadikan bot admin" in pub.error
    assert e2e.channel_row(core, ch).status == ChannelStatus.NEEDS_REAUTH


def test_x_token_rotated_while_connecting_is_the_one_stored(xt_core, clock, people, fx):  # type: ignore[no-untyped-def]
    """X refresh tokens are single-use: when the connect check had to refresh, the rotated
    pair must be stored, or the worker's first post finds only spent tokens."""
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx, expires_at=int(clock.now.timestamp()) - 10)
    assert len(fx.calls("/2/oauth2/token")) == 1, "the stale token was refreshed once"
    stored = core.box.open(e2e.channel_row(core, ch).credentials_encrypted)
    assert (stored["access_token"], stored["refresh_token"]) == (fx.access_token,
                                                                 fx.refresh_token)
    pub_id = e2e.approved(core, op, ap, ch, body="Token baru.", media=[e2e.photo(core, op)])
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == S.PUBLISHED, pub.error_en
    assert len(fx.calls("/2/oauth2/token")) == 1, "no second refresh"
