"""Case table for the TikTok adapter against the fake TikTok (tests/fakes/tiktok.py):
creator rules before each post, FILE_UPLOAD chunk rules, photo posts by URL, status polling
with moderation, error classification, lookup, batched metrics and token rotation."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from adapters import get_adapter_class
from adapters._tiktok import MiB, chunk_plan, chunk_ranges, seconds_to_next_day
from adapters.base import AdapterContext, MediaFile, OutgoingPost, Pending, Published
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater, StartOver
from adapters.oauth import tiktok as tiktok_oauth
from adapters.tiktok import TikTokAdapter

NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE"}


def make_adapter(fake, state=None, saved=None, timeout: float = 5.0, now=NOW, creds=None,
                 **settings) -> TikTokAdapter:
    ctx = AdapterContext(
        credentials=creds or {"client_key": fake.client_key, "client_secret": fake.client_secret,
                              "access_token": fake.access_token,
                              "refresh_token": fake.refresh_token,
                              "expires_at": int(now.timestamp()) + 3600},
        base_url=fake.url, timeout=timeout, settings=settings,
        state=state if state is not None else {}, now=lambda: now,
        save_credentials=(saved.append if saved is not None else (lambda c: None)))
    return TikTokAdapter(ctx)


def video_file(tmp_path, size: int = 300_000, duration: float = 12.0) -> MediaFile:
    path = tmp_path / f"v{size}.mp4"
    with open(path, "wb") as fh:
        fh.write(os.urandom(min(size, 1 << 20)))
        fh.truncate(size)
    return MediaFile(str(path), "video", "video/mp4", size, "0" * 64, 1080, 1920, duration)


def run(adapter, post, max_polls: int = 10):
    result = adapter.publish(post)
    polls = 0
    while isinstance(result, Pending):
        assert polls < max_polls
        result = adapter.poll(Pending(json.loads(json.dumps(dict(result.state)))))
        polls += 1
    return result, polls


def test_registry_and_caps():
    cls = get_adapter_class("tiktok")
    assert cls is TikTokAdapter
    assert cls.caps.metrics_batch_size == 20 and cls.caps.renews_tokens
    assert "privacy_level" in cls.caps.option_names and cls.caps.needs_public_urls
    assert cls.caps.image_mimes == {"image/jpeg", "image/webp"}  # PNG is converted first


@pytest.mark.parametrize(("size", "preferred", "plan"), [
    (300_000, 10 * MiB, (300_000, 1)),  # under 5 MB: whole
    (4 * MiB, 1, (4 * MiB, 1)),  # under 5 MB even if a tiny chunk is asked for
    (9 * MiB, 10 * MiB, (9 * MiB, 1)),  # fits one chunk
    (16 * MiB, 5 * MiB, (5 * MiB, 3)),  # floor(16/5) = 3, the last one takes 6 MB
    (16 * MiB, 1 * MiB, (5 * MiB, 3)),  # a chunk below 5 MB is raised to 5 MB
    (300 * MiB, 100 * MiB, (64 * MiB, 4)),  # above 64 MB is lowered; last 108 MB < 128 MB
    (4000 * MiB, 5 * MiB, (5 * MiB, 800)),  # a 4 GB video: 800 chunks
    (6000 * MiB, 5 * MiB, (6 * MiB, 1000)),  # never more than 1000 chunks
])
def test_chunk_plan_follows_tiktoks_rules(size, preferred, plan):
    assert chunk_plan(size, preferred) == plan
    chunk, count = plan
    ranges = chunk_ranges(size, chunk, count)
    assert sum(length for _, length in ranges) == size and len(ranges) == count
    assert ranges[-1][1] < 128 * MiB + (0 if count > 1 else size)


def test_video_is_posted_after_creator_info_and_polled_through_moderation(ftk, tmp_path):
    state: dict = {}
    adapter = make_adapter(ftk, state=state)
    saves = []
    adapter.ctx.save_state = lambda: saves.append(json.dumps(state))
    first = adapter.publish(OutgoingPost("warta-1", "Vaksinasi gratis #sehat",
                                         media=(video_file(tmp_path),), options=PUBLIC))
    assert [c.path for c in ftk.requests][:2] == ["/v2/post/publish/creator_info/query/",
                                                  "/v2/post/publish/video/init/"]
    init = ftk.calls("/video/init/")[0].json
    assert init["source_info"] == {"source": "FILE_UPLOAD", "video_size": 300_000,
                                   "chunk_size": 300_000, "total_chunk_count": 1}
    assert init["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert init["post_info"]["title"] == "Vaksinasi gratis #sehat"
    assert init["post_info"].get("disable_stitch") is True, "the creator switched stitch off"
    assert "disable_comment" not in init["post_info"]
    # the publish id was saved before the upload: a crash mid-upload can still be looked up
    assert saves and first.state["publish_id"] in saves[0]
    (put,) = ftk.calls("/upload/", "PUT")
    assert put.headers["content-range"] == "bytes 0-299999/300000" and put.body_len == 300_000
    processing = adapter.poll(first)
    assert isinstance(processing, Pending) and not processing.message_en
    moderating = adapter.poll(processing)
    assert isinstance(moderating, Pending) and "moderat" in moderating.message_en
    assert moderating.poll_after == 60.0
    done = adapter.poll(moderating)
    assert isinstance(done, Published)
    assert done.permalink == f"https://www.tiktok.com/@{ftk.username}/video/{done.external_id}"
    assert len(ftk.posts) == 1


def test_big_video_goes_in_chunks_by_the_rules(ftk, tmp_path):
    video = video_file(tmp_path, 16 * MiB)
    progress = []
    adapter = make_adapter(ftk, chunk_size=str(5 * MiB))
    adapter.ctx.progress = lambda done, total: progress.append(done)
    result, _ = run(adapter, OutgoingPost("k", "Rapat", media=(video,), options=PUBLIC))
    assert isinstance(result, Published)
    init = ftk.calls("/video/init/")[0].json["source_info"]
    assert (init["chunk_size"], init["total_chunk_count"]) == (5 * MiB, 3)
    puts = ftk.calls("/upload/", "PUT")
    assert [p.headers["content-range"] for p in puts] == [
        f"bytes 0-{5 * MiB - 1}/{16 * MiB}", f"bytes {5 * MiB}-{10 * MiB - 1}/{16 * MiB}",
        f"bytes {10 * MiB}-{16 * MiB - 1}/{16 * MiB}"]
    assert [p.body_len for p in puts] == [5 * MiB, 5 * MiB, 6 * MiB]
    assert progress[-1] == 16 * MiB


def test_privacy_is_never_guessed(ftk, tmp_path):
    adapter = make_adapter(ftk)
    post = OutgoingPost("k", "x", media=(video_file(tmp_path),))
    assert "privacy_required" in [p.code for p in adapter.validate(post)]
    with pytest.raises(Rejected) as info:
        adapter.publish(post)
    assert info.value.code == "privacy_required"
    assert ftk.requests == [], "nothing is sent without the operator's choice"


def test_privacy_outside_the_creators_options_is_refused_before_init(ftk, tmp_path):
    ftk.unaudited = True  # an unaudited app: creator_info offers SELF_ONLY only
    state: dict = {}
    adapter = make_adapter(ftk, state=state)
    post = OutgoingPost("k", "x", media=(video_file(tmp_path),), options=PUBLIC)
    with pytest.raises(Rejected) as info:
        adapter.publish(post)
    assert info.value.code == "privacy_not_allowed" and "SELF_ONLY" in info.value.message_en
    assert ftk.calls("/video/init/") == []
    # the rules are cached: validate (no I/O) now says so before approval
    assert state["creator"]["privacy_level_options"] == ["SELF_ONLY"]
    assert "privacy_not_allowed" in [p.code for p in adapter.validate(post)]


def test_private_post_is_published_without_a_link(ftk, tmp_path):
    result, _ = run(make_adapter(ftk), OutgoingPost(
        "k", "Uji", media=(video_file(tmp_path),), options={"privacy_level": "SELF_ONLY"}))
    assert isinstance(result, Published) and result.permalink is None
    assert result.external_id.startswith("v_pub_file")


def test_video_longer_than_the_creator_may_post_is_refused(ftk, tmp_path):
    ftk.max_duration = 60
    with pytest.raises(Rejected) as info:
        make_adapter(ftk).publish(OutgoingPost(
            "k", "x", media=(video_file(tmp_path, duration=90),), options=PUBLIC))
    assert info.value.code == "video_too_long"


def test_comment_switch_forced_when_the_creator_disabled_comments(ftk, tmp_path):
    ftk.comment_disabled = True
    make_adapter(ftk).publish(OutgoingPost("k", "x", media=(video_file(tmp_path),),
                                           options=PUBLIC))
    assert ftk.calls("/video/init/")[0].json["post_info"]["disable_comment"] is True


def test_photo_post_by_signed_public_links(ftk, make_media):
    photos = (make_media(), make_media())
    result, _ = run(make_adapter(ftk), OutgoingPost("k", "Album kegiatan", title="Kegiatan",
                                                    media=photos, options=PUBLIC))
    body = ftk.calls("/content/init/")[0].json
    assert body["media_type"] == "PHOTO" and body["post_mode"] == "DIRECT_POST"
    assert body["source_info"] == {"source": "PULL_FROM_URL", "photo_cover_index": 0,
                                   "photo_images": [p.public_url for p in photos]}
    assert body["post_info"]["title"] == "Kegiatan"
    assert body["post_info"]["description"] == "Album kegiatan"
    assert "disable_duet" not in body["post_info"]
    assert isinstance(result, Published) and "/photo/" in result.permalink


def test_photo_without_a_public_url_or_from_an_unverified_domain(ftk, make_media):
    with pytest.raises(Rejected) as info:
        make_adapter(ftk).publish(OutgoingPost("k", "x", media=(make_media(public=False),),
                                               options=PUBLIC))
    assert info.value.code == "public_url_missing"
    ftk.verified_prefix = "https://other.example/"
    with pytest.raises(Rejected) as info:
        make_adapter(ftk).publish(OutgoingPost("k", "x", media=(make_media(),), options=PUBLIC))
    assert info.value.code == "url_ownership_unverified"
    assert "WARTA_PUBLIC_URL" in info.value.message_en


@pytest.mark.parametrize(("route", "mode", "kind", "code", "scope"), [
    ("init", "rate", RetryLater, "rate_limited", "channel"),
    ("init", "spam", RetryLater, "spam_risk_too_many_posts", "channel"),
    ("init", "auth", AuthExpired, "auth_expired", None),
    ("creator", "scope", AuthExpired, "scope_not_authorized", None),
    ("init", "invalid", Rejected, "invalid_param", None),
    ("init", "banned", Rejected, "spam_risk_user_banned_from_posting", None),
    ("init", "unaudited", Rejected, "unaudited_app", None),
    ("init", "mismatch", Rejected, "privacy_level_option_mismatch", None),
    ("init", "server_error", RetryLater, "server_error", "post"),  # nothing posted yet
    ("upload", "server_error", OutcomeUnknown, "server_error_after_send", None),  # last chunk
    ("photo", "server_error", OutcomeUnknown, "server_error_after_send", None),
    ("init", "proxy-429-120", RetryLater, "rate_limited", "channel"),
    ("init", "proxy-503", RetryLater, "server_error", "post"),
    ("photo", "accept-proxy-502", OutcomeUnknown, "server_error_after_send", None),
])
def test_error_classification(ftk, tmp_path, make_media, route, mode, kind, code, scope):
    ftk.fail(route, mode)
    media = (make_media(),) if route == "photo" else (video_file(tmp_path),)
    with pytest.raises(kind) as info:
        make_adapter(ftk).publish(OutgoingPost("k", "x", media=media, options=PUBLIC))
    assert info.value.code == code
    if scope is not None:
        assert info.value.scope == scope
    if code == "spam_risk_too_many_posts":
        assert info.value.retry_after == seconds_to_next_day(NOW)  # 21 h: tomorrow (UTC)
    if mode == "proxy-429-120":
        assert info.value.retry_after == 120
    if mode == "rate":
        assert info.value.retry_after == 60


def test_daily_cap_waits_until_the_next_day_at_least_an_hour():
    assert seconds_to_next_day(datetime(2026, 6, 10, 3, 0, tzinfo=UTC)) == 21 * 3600
    assert seconds_to_next_day(datetime(2026, 6, 10, 23, 50, tzinfo=UTC)) == 3600


def test_failed_status_is_rejected_with_tiktoks_reason(ftk, tmp_path):
    ftk.fail_reason = "duration_check_failed"
    with pytest.raises(Rejected) as info:
        run(make_adapter(ftk), OutgoingPost("k", "x", media=(video_file(tmp_path),),
                                            options=PUBLIC))
    assert info.value.code == "duration_check_failed"
    ftk.fail_reason = "spam_risk_too_many_posts"
    with pytest.raises(StartOver):  # dropped by the daily cap: start again (init then waits)
        run(make_adapter(ftk), OutgoingPost("k2", "y", media=(video_file(tmp_path),),
                                            options=PUBLIC))


def test_drop_on_the_last_chunk_is_unknown_and_lookup_follows_the_publish_id(ftk, tmp_path):
    state: dict = {}
    adapter = make_adapter(ftk, state=state, moderation_poll_seconds="30")
    post = OutgoingPost("warta-7", "Pengumuman", media=(video_file(tmp_path),), options=PUBLIC)
    ftk.faults.add("drop", "PUT", "/upload/")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    assert len(ftk.posts) == 1, "TikTok took the upload"
    # still processing, then moderating: TikTok has it, look again later (not "absent")
    for _ in range(2):
        with pytest.raises(RetryLater) as info:
            adapter.lookup(post, NOW - timedelta(minutes=10))
        assert info.value.retry_after == 30
    found = adapter.lookup(post, NOW - timedelta(minutes=10))
    assert isinstance(found, Published) and found.permalink
    assert adapter.lookup(replace_taken(post, found.external_id), NOW) is None


def replace_taken(post: OutgoingPost, taken: str) -> OutgoingPost:
    from dataclasses import replace

    return replace(post, taken_ids=frozenset({taken}))


def test_incomplete_upload_is_clearly_absent(ftk, tmp_path):
    state: dict = {}
    adapter = make_adapter(ftk, state=state)
    post = OutgoingPost("warta-8", "x", media=(video_file(tmp_path),), options=PUBLIC)
    ftk.faults.add("5xx_before", "PUT", "/upload/")
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    assert ftk.posts == []
    assert adapter.lookup(post, NOW - timedelta(minutes=10)) is None


def test_lookup_without_a_publish_id_reads_recent_videos(ftk):
    ftk.clock = lambda: NOW
    ftk.seed(3)
    ftk.videos[-1]["video_description"] = "Car free day  Minggu"
    adapter = make_adapter(ftk, state={"creator": {"username": ftk.username}})
    post = OutgoingPost("warta-9", "Car free day Minggu", media=())
    found = adapter.lookup(post, NOW - timedelta(days=2))
    assert isinstance(found, Published) and found.external_id == ftk.videos[-1]["id"]
    assert adapter.lookup(post, NOW) is None, "older than since"
    assert adapter.lookup(replace_taken(post, found.external_id), NOW - timedelta(days=2)) \
        is None
    listing = ftk.calls("/v2/video/list/")[0]
    assert listing.json["max_count"] == 20 and "create_time" in listing.query["fields"]


def test_metrics_in_batches_of_twenty(ftk):
    ids = ftk.seed(45)
    out = make_adapter(ftk).fetch_metrics([*ids, "v_pub_file~v2-1.9"])
    calls = ftk.calls("/v2/video/query/")
    assert [len(c.json["filters"]["video_ids"]) for c in calls] == [20, 20, 5]
    assert set(out) == set(ids), "a private post's publish id is not asked for"
    m = out[ids[3]]
    assert (m.views, m.likes, m.comments, m.shares) == (103, 3, 2, 1)
    assert m.reach is None and m.saves is None and m.impressions is None


def test_expired_access_token_is_refreshed_and_the_rotated_refresh_token_saved(ftk):
    saved: list = []
    old_refresh = ftk.refresh_token
    creds = {"client_key": ftk.client_key, "client_secret": ftk.client_secret,
             "access_token": "act.stale", "refresh_token": old_refresh,
             "expires_at": int(NOW.timestamp()) - 10}
    adapter = make_adapter(ftk, saved=saved, creds=creds)
    info = adapter.account()
    assert info.external_id == ftk.open_id and info.username == ftk.username
    assert len(saved) == 1 and saved[0]["refresh_token"] == ftk.refresh_token != old_refresh
    assert saved[0]["access_token"] == ftk.access_token
    assert saved[0]["expires_at"] == int(NOW.timestamp()) + 86400
    assert saved[0]["refresh_expires_at"] == int(NOW.timestamp()) + 31536000
    token_call = ftk.calls("/v2/oauth/token/")[0]
    assert token_call.form["grant_type"] == "refresh_token"
    assert token_call.form["client_key"] == ftk.client_key
    # the old refresh token is spent: a second adapter still holding it must reconnect
    with pytest.raises(AuthExpired):
        make_adapter(ftk, creds=creds).account()


def test_refused_refresh_is_a_reconnect_and_an_unreachable_one_a_retry(ftk):
    creds = {"client_key": ftk.client_key, "client_secret": ftk.client_secret,
             "access_token": "act.stale", "refresh_token": ftk.refresh_token,
             "expires_at": int(NOW.timestamp()) - 10}
    ftk.fail("token", "invalid_grant")
    with pytest.raises(AuthExpired):
        make_adapter(ftk, creds=creds).account()
    ftk.fail("token", "proxy-503")
    with pytest.raises(RetryLater):
        make_adapter(ftk, creds=creds).account()


def test_oauth_authorize_url_and_code_exchange(ftk):
    url, state = tiktok_oauth.authorization_url(ftk.client_key,
                                                "https://warta.example.go.id/cb")
    assert url.startswith(tiktok_oauth.AUTHORIZE_URL) and f"state={state}" in url
    assert "client_key=awfakeclientkey" in url and "video.publish" in url
    creds = tiktok_oauth.exchange_code(ftk.client_key, ftk.client_secret,
                                       "https://warta.example.go.id/cb", "good-code",
                                       token_url=f"{ftk.url}/v2/oauth/token/", now=lambda: NOW)
    assert creds["open_id"] == ftk.open_id and creds["access_token"] == ftk.access_token
    assert creds["refresh_expires_at"] == int(NOW.timestamp()) + 31536000
    with pytest.raises(AuthExpired):
        tiktok_oauth.exchange_code(ftk.client_key, ftk.client_secret, "https://x/cb",
                                   "good-code", token_url=f"{ftk.url}/v2/oauth/token/")


def test_validate_counts_a_video_caption_in_utf16(ftk, tmp_path, make_media):
    adapter = make_adapter(ftk)
    emoji = "\U0001F600" * 1101  # 2202 UTF-16 units
    codes = [p.code for p in adapter.validate(OutgoingPost(
        "k", emoji, media=(video_file(tmp_path),), options=PUBLIC))]
    assert codes == ["too_long"]
    assert adapter.validate(OutgoingPost("k", emoji, media=(make_media(),),
                                         options=PUBLIC)) == []  # photo description: 4000
    mixed = OutgoingPost("k", "x", media=(video_file(tmp_path), make_media()), options=PUBLIC)
    assert "one_video" in [p.code for p in adapter.validate(mixed)]


def test_secrets_stay_out_of_error_details(ftk, tmp_path):
    ftk.fail("upload", "invalid")
    with pytest.raises(Rejected) as info:
        make_adapter(ftk).publish(OutgoingPost("k", "x", media=(video_file(tmp_path),),
                                               options=PUBLIC))
    assert ftk.access_token not in info.value.detail
