"""X adapter against the fake X API v2: a table of fake behaviours → results/errors."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, MediaFile, OutgoingPost, Pending, Published
from adapters.errors import (
    AdapterError,
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
)
from adapters.x import XAdapter
from tests.fakes.x import RESET_AT, USER, FakeX, serve

NOW = datetime.fromtimestamp(RESET_AT - 600, UTC)  # ten minutes before the fake's reset


@pytest.fixture
def fake() -> Iterator[FakeX]:
    yield from serve()


def make(fake: FakeX, creds: dict[str, Any] | None = None, **settings: str) -> XAdapter:
    saved: list[dict[str, Any]] = []
    ctx = AdapterContext(
        credentials=creds or {"client_id": fake.client_id, "client_secret": fake.client_secret,
                              "access_token": fake.access_token,
                              "refresh_token": fake.refresh_token},
        base_url=fake.url, timeout=5, settings={"chunk_size": "1000", **settings},
        save_credentials=lambda c: saved.append(dict(c)), now=lambda: NOW)
    adapter = XAdapter(ctx)
    adapter.saved = saved  # type: ignore[attr-defined]
    return adapter


def media(tmp_path: Path, name: str, kind: str = "image", size: int = 2500,
          mime: str | None = None) -> MediaFile:
    path = tmp_path / name
    data = (name.encode() * (size // len(name) + 1))[:size]
    path.write_bytes(data)
    mime = mime or ("image/jpeg" if kind == "image" else "video/mp4")
    return MediaFile(str(path), kind, mime, size,  # type: ignore[arg-type]
                     hashlib.sha256(data).hexdigest(), duration=10.0 if kind == "video" else None)


def secrets(fake: FakeX) -> list[str]:
    return [fake.access_token, fake.refresh_token, fake.client_secret]


def test_registered() -> None:
    assert get_adapter_class("x") is XAdapter


def test_text_post_and_permalink(fake: FakeX) -> None:
    adapter = make(fake)
    result = adapter.publish(OutgoingPost("warta-1", "Halo warga", link="https://kab.go.id/a"))
    assert isinstance(result, Published)
    assert result.permalink == f"https://x.com/{USER['username']}/status/{result.external_id}"
    (call,) = fake.calls("/2/tweets", "POST")
    assert call.json == {"text": "Halo warga\n\nhttps://kab.go.id/a"}
    assert call.headers["authorization"] == f"Bearer {fake.access_token}"
    assert adapter.ctx.state["username"] == USER["username"]
    adapter.publish(OutgoingPost("warta-2", "Lagi"))
    assert len(fake.calls("/2/users/me")) == 1  # username cached in ctx.state


def test_four_images_chunked(fake: FakeX, tmp_path: Path) -> None:
    progress: list[tuple[int, int]] = []
    adapter = make(fake)
    adapter.ctx.progress = lambda d, t: progress.append((d, t))
    files = tuple(media(tmp_path, f"p{i}.jpg") for i in range(4))
    result = adapter.publish(OutgoingPost("warta-3", "Foto", media=files))
    assert isinstance(result, Published)
    assert len(fake.calls("/initialize")) == 4 and len(fake.calls("/finalize")) == 4
    assert len(fake.calls("/append")) == 12  # 2500 bytes in 1000-byte chunks, 3 each
    assert [c.form["segment_index"] for c in fake.calls("/append")[:3]] == ["0", "1", "2"]
    assert fake.calls("/initialize")[0].json == {"media_type": "image/jpeg", "total_bytes": 2500,
                                                 "media_category": "tweet_image"}
    assert len(fake.calls("/2/tweets", "POST")[0].json["media"]["media_ids"]) == 4
    assert progress[-1] == (2500, 2500)


def test_video_pending_then_poll_creates_post(fake: FakeX, tmp_path: Path) -> None:
    adapter = make(fake)
    post = OutgoingPost("warta-4", "Video", media=(media(tmp_path, "v.mp4", "video"),))
    first = adapter.publish(post)
    assert isinstance(first, Pending) and first.poll_after == 1
    assert fake.calls("/2/tweets", "POST") == []
    fake.processing_polls = 1
    second = make(fake).poll(Pending(dict(first.state)))  # a fresh adapter: another process
    assert isinstance(second, Pending) and second.poll_after == 3
    third = make(fake).poll(second)
    assert isinstance(third, Published)
    assert fake.calls("/2/tweets", "POST")[0].json["media"]["media_ids"] == first.state[
        "media_ids"]
    assert fake.calls("/2/media/upload", "GET")[0].query["command"] == "STATUS"


def test_video_processing_failure_is_rejected(fake: FakeX, tmp_path: Path) -> None:
    fake.processing_polls, fake.video_fails = 0, True
    adapter = make(fake)
    pending = adapter.publish(OutgoingPost("warta-5", "V", media=(media(tmp_path, "v.mp4",
                                                                         "video"),)))
    assert isinstance(pending, Pending)
    with pytest.raises(Rejected, match="Unsupported video codec"):
        adapter.poll(pending)


@pytest.mark.parametrize(("route", "mode", "error", "code", "scope", "retry_after", "state"), [
    ("tweets", "rate_limit", RetryLater, "rate_limited", "post", 600, "queued"),
    ("tweets", "rate_limit_24h", RetryLater, "rate_limited", "channel", 50_600, "queued"),
    ("tweets", "usage_cap", RetryLater, "usage_capped", "channel", 24 * 3600, "queued"),
    ("tweets", "credits", RetryLater, "credits_depleted", "channel", 6 * 3600, "queued"),
    ("tweets", "unauthorized", AuthExpired, "auth", None, None, "needs_reauth"),
    ("tweets", "invalid", Rejected, "invalid-request", None, None, "failed"),
    ("tweets", "server_error", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "accept_then_500", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "accept_then_drop", OutcomeUnknown, "timeout", None, None, "unconfirmed"),
    ("initialize", "server_error", RetryLater, "server_error", "post", None, "queued"),
    ("append", "rate_limit", RetryLater, "rate_limited", "post", 600, "queued"),
    # Bare statuses from a proxy in front of X: an HTML page or a text line, no problem JSON,
    # no x-rate-limit-* headers. A 429 waits for Retry-After (seconds or an HTTP-date) when
    # given, else the queue's backoff; a 5xx on POST /2/tweets may have created the post.
    ("tweets", "proxy-429", RetryLater, "rate_limited", "post", None, "queued"),
    ("tweets", "proxy-429-120", RetryLater, "rate_limited", "post", 120, "queued"),
    ("tweets", "proxy-text-429-120", RetryLater, "rate_limited", "post", 120, "queued"),
    ("tweets", "proxy-429-Sun, 17 Mar 2030 17:41:40 GMT", RetryLater, "rate_limited", "post",
     300, "queued"),  # NOW + 5 minutes
    ("tweets", "proxy-502", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "proxy-503-30", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "proxy-text-503", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "proxy-504", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("tweets", "accept-proxy-502", OutcomeUnknown, "server_error", None, None, "unconfirmed"),
    ("initialize", "proxy-503-30", RetryLater, "server_error", "post", 30, "queued"),
    ("initialize", "proxy-502", RetryLater, "server_error", "post", None, "queued"),
    ("append", "proxy-504", RetryLater, "server_error", "post", None, "queued"),
    ("append", "proxy-text-429-60", RetryLater, "rate_limited", "post", 60, "queued"),
    ("finalize", "proxy-503", RetryLater, "server_error", "post", None, "queued"),
])
def test_error_table(fake: FakeX, tmp_path: Path, route: str, mode: str,
                     error: type[AdapterError], code: str, scope: str | None,
                     retry_after: float | None, state: str) -> None:
    fake.fail(route, mode)
    post = OutgoingPost("warta-6", "Teks", media=(media(tmp_path, "p.jpg"),))
    with pytest.raises(error) as info:
        make(fake).publish(post)
    exc = info.value
    assert exc.code == code
    if isinstance(exc, RetryLater):
        assert exc.scope == scope and exc.retry_after == retry_after
    if isinstance(exc, Rejected):
        assert "parameters to your request was invalid" in exc.message_en
    for secret in secrets(fake):
        assert secret not in exc.detail and secret not in str(exc)
    expected_posts = 0 if route != "tweets" else 1
    assert len(fake.calls("/2/tweets", "POST")) == expected_posts  # never retried by itself
    assert state  # documents the worker's transition for this case
    if mode.startswith(("proxy", "accept-proxy")):
        assert exc.http_status == int(mode.split("proxy-")[1].removeprefix("text-")[:3])
        assert f"{exc.http_status} " in exc.detail  # the proxy's page, for the attempt log
    # only a post X stored is public: a 429 or a refusal leaves nothing behind
    assert len(fake.tweets) == (1 if mode.startswith("accept") else 0)


def test_credits_message_tells_operator_what_to_do(fake: FakeX) -> None:
    fake.fail("tweets", "credits")
    with pytest.raises(RetryLater) as info:
        make(fake, credits_retry_hours="12").publish(OutgoingPost("warta-7", "x"))
    assert info.value.retry_after == 12 * 3600
    assert "console.x.com" in info.value.message_id and "top up" in info.value.message_en


def test_duplicate_is_left_to_the_worker_with_xs_words(fake: FakeX) -> None:
    """The adapter does not guess which tweet a duplicate is (24 hours by text alone picked
    another publication's): it reports X's refusal; the worker looks since this
    publication's own submit time, excluding tweets other publications hold
    (``test_x_duplicate.py``)."""
    adapter = make(fake)
    adapter.publish(OutgoingPost("warta-8", "Info & link https://kab.go.id/x"))
    fake.fail("tweets", "duplicate")
    with pytest.raises(Rejected) as info:
        adapter.publish(OutgoingPost("warta-8", "Info & link https://kab.go.id/x"))
    assert info.value.code == "duplicate" and "duplicate" in info.value.message_en
    assert not fake.calls("/2/users/4242/tweets"), "no timeline search in the adapter"


def test_lookup_never_returns_a_taken_tweet(fake: FakeX) -> None:
    fake.clock = lambda: NOW
    adapter = make(fake)
    first = adapter.publish(OutgoingPost("warta-8", "Pengingat mingguan"))
    post = OutgoingPost("warta-9", "Pengingat mingguan")
    assert adapter.lookup(post, NOW - timedelta(hours=1)).external_id == first.external_id
    taken = OutgoingPost("warta-9", "Pengingat mingguan",
                         taken_ids=frozenset({first.external_id}))
    assert adapter.lookup(taken, NOW - timedelta(hours=1)) is None


def test_duplicate_of_something_else_is_rejected(fake: FakeX) -> None:
    fake.fail("tweets", "duplicate")
    with pytest.raises(Rejected) as info:
        make(fake).publish(OutgoingPost("warta-9", "Tidak ada di linimasa"))
    assert info.value.code == "duplicate"


def test_metrics_250_posts_in_3_calls(fake: FakeX) -> None:
    ids = fake.seed(250)
    adapter = make(fake)
    size = XAdapter.caps.metrics_batch_size
    result: dict[str, Any] = {}
    for start in range(0, len(ids), size):
        result.update(adapter.fetch_metrics(ids[start:start + size]))
    assert len(fake.calls("/2/tweets", "GET")) == math.ceil(250 / 100) == 3
    assert len(result) == 250
    m = result[ids[0]]
    assert (m.likes, m.comments, m.shares, m.saves, m.impressions) == (10, 3, 3, 4, 500)
    assert m.reach is None


def test_metrics_missing_impressions_are_none_and_unknown_ids_skipped(fake: FakeX) -> None:
    ids = fake.seed(2)
    fake.omit_impressions = True
    result = make(fake).fetch_metrics([*ids, "999"])
    assert set(result) == set(ids)
    assert result[ids[0]].impressions is None and result[ids[0]].views is None
    assert result[ids[0]].likes == 10


def test_expired_token_refresh_rotates_and_saves(fake: FakeX) -> None:
    adapter = make(fake)
    old_refresh = fake.refresh_token
    fake.access_token = "x-access-5"  # the server moved on: our token is stale
    fake.refresh_token = old_refresh
    with pytest.raises(AuthExpired):
        adapter.publish(OutgoingPost("warta-10", "x"))
    new = adapter.refresh()  # what the worker does once
    assert new is not None and new["access_token"] == fake.access_token
    assert new["refresh_token"] == fake.refresh_token != old_refresh
    assert adapter.saved == [new]  # type: ignore[attr-defined]
    token_call = fake.calls("/2/oauth2/token")[0]
    assert token_call.form["grant_type"] == "refresh_token"
    assert token_call.headers["authorization"].startswith("Basic ")
    assert isinstance(adapter.publish(OutgoingPost("warta-10", "x")), Published)


def test_refresh_refused_returns_none(fake: FakeX) -> None:
    fake.fail("token", "invalid_grant")
    assert make(fake).refresh() is None


@pytest.mark.parametrize("mode", ["proxy-503", "proxy-text-429-60", "proxy-502", "proxy-504"])
def test_token_endpoint_behind_a_proxy_is_retry_not_reauth(fake: FakeX, mode: str) -> None:
    """A bare 5xx/429 from the token endpoint says nothing about the refresh token: retry
    later (the same single-use refresh token still works), never "reconnect the account"."""
    fake.fail("token", mode)
    adapter = make(fake)
    with pytest.raises(RetryLater) as info:
        adapter.refresh()
    assert info.value.code == "network"
    for secret in secrets(fake):
        assert secret not in info.value.detail and secret not in str(info.value)
    assert adapter.saved == []  # type: ignore[attr-defined]
    assert adapter.refresh() is not None  # the proxy let it through this time


def test_stale_expires_at_refreshes_before_calling(fake: FakeX) -> None:
    adapter = make(fake, {"client_id": fake.client_id, "client_secret": fake.client_secret,
                          "access_token": "old", "refresh_token": fake.refresh_token,
                          "expires_at": int(NOW.timestamp()) - 5})
    assert isinstance(adapter.publish(OutgoingPost("warta-11", "x")), Published)
    assert len(fake.calls("/2/oauth2/token")) == 1


def test_oauth1_signed_requests(fake: FakeX) -> None:
    adapter = make(fake, {"api_key": fake.oauth1_consumer, "api_key_secret": "cs",
                          "access_token": "1-abc", "access_token_secret": "ts"})
    assert isinstance(adapter.publish(OutgoingPost("warta-12", "x")), Published)
    auth = fake.calls("/2/tweets", "POST")[0].headers["authorization"]
    assert auth.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA1"' in auth
    assert adapter.refresh() is None


@pytest.mark.parametrize(("body", "n_media", "codes"), [
    ("a" * 280, 0, []),
    ("a" * 281, 0, ["too_long"]),
    ("日本" * 70, 0, []),          # 140 CJK characters weigh 280
    ("日本" * 70 + "a", 0, ["too_long"]),
    ("x " * 125 + "https://example.go.id/" + "p" * 200, 0, []),  # the URL counts 23
    ("😀" * 141, 0, ["too_long"]),
    ("foto", 5, ["too_many_media"]),
])
def test_validate_weighted_length(fake: FakeX, tmp_path: Path, body: str, n_media: int,
                                  codes: list[str]) -> None:
    files = tuple(media(tmp_path, f"p{i}.jpg") for i in range(n_media))
    problems = make(fake).validate(OutgoingPost("k", body, media=files))
    assert [p.code for p in problems] == codes


def test_validate_media_mix_and_sizes(fake: FakeX, tmp_path: Path) -> None:
    adapter = make(fake)
    video, photo = media(tmp_path, "v.mp4", "video"), media(tmp_path, "p.jpg")
    assert [p.code for p in adapter.validate(OutgoingPost("k", "x", media=(video, photo)))] == [
        "media_mix"]
    big_gif = MediaFile(photo.path, "image", "image/gif", 10_000_000, "0")
    assert adapter.validate(OutgoingPost("k", "x", media=(big_gif,))) == []
    big_jpg = MediaFile(photo.path, "image", "image/jpeg", 10_000_000, "0")
    assert [p.code for p in adapter.validate(OutgoingPost("k", "x", media=(big_jpg,)))] == [
        "media_too_large"]
    long_video = MediaFile(video.path, "video", "video/mp4", 1000, "0", duration=1500)
    assert [p.code for p in adapter.validate(OutgoingPost("k", "x", media=(long_video,)))] == [
        "video_too_long"]
