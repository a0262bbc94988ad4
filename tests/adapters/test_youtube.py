"""YouTube adapter against the fake Data API: uploads, resumes, quota, metrics, errors."""

from __future__ import annotations

import hashlib
import math
import os
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, MediaFile, OutgoingPost, Published
from adapters.errors import AdapterError, AuthExpired, OutcomeUnknown, Rejected, RetryLater
from adapters.youtube import YouTubeAdapter
from tests.fakes.youtube import CHANNEL, FakeYouTube, serve

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # 05:00 in Los Angeles (PDT)
KIDS = {"made_for_kids": False}
CHUNK = 256 * 1024


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    yield from serve()


def make(fake: FakeYouTube, state: dict[str, Any] | None = None, **settings: str
         ) -> YouTubeAdapter:
    saved: list[dict[str, Any]] = []
    progress: list[tuple[int, int]] = []
    ctx = AdapterContext(
        credentials={"client_id": fake.client_id, "client_secret": fake.client_secret,
                     "refresh_token": fake.refresh_token},
        base_url=fake.url, timeout=5, state=state if state is not None else {},
        settings={"token_url": f"{fake.url}/token", "chunk_size": str(CHUNK), **settings},
        save_credentials=lambda c: saved.append(dict(c)),
        progress=lambda d, t: progress.append((d, t)), now=lambda: NOW)
    adapter = YouTubeAdapter(ctx)
    adapter.saved, adapter.progress_seen = saved, progress  # type: ignore[attr-defined]
    return adapter


def video(tmp_path: Path, size: int = 3 * CHUNK + 1000, name: str = "v.mp4") -> MediaFile:
    path = tmp_path / name
    data = os.urandom(size)
    path.write_bytes(data)
    return MediaFile(str(path), "video", "video/mp4", size, hashlib.sha256(data).hexdigest())


def post(files: tuple[MediaFile, ...], **options: Any) -> OutgoingPost:
    return OutgoingPost("warta-1", "Deskripsi kegiatan", media=files, title="Rapat Paripurna",
                        options={**KIDS, **options})


def test_registered() -> None:
    assert get_adapter_class("youtube") is YouTubeAdapter


def test_upload_in_chunks_with_metadata(fake: FakeYouTube, tmp_path: Path) -> None:
    adapter = make(fake)
    v = video(tmp_path)
    p = OutgoingPost("warta-1", "Deskripsi", media=(v,), title="Judul", link="https://kab.go.id",
                     options={"made_for_kids": True, "privacy": "private",
                              "publish_at": "2026-10-02T01:00:00Z", "tags": ["pemda", "rapat"],
                              "category": "25", "notify_subscribers": False})
    assert adapter.validate(p) == []
    result = adapter.publish(p)
    assert isinstance(result, Published)
    assert result.permalink == f"https://www.youtube.com/watch?v={result.external_id}"
    stored = fake.videos[result.external_id]
    assert stored["sha256"] == v.sha256
    assert stored["resource"] == {
        "snippet": {"title": "Judul", "description": "Deskripsi\n\nhttps://kab.go.id",
                    "categoryId": "25", "tags": ["pemda", "rapat"]},
        "status": {"privacyStatus": "private", "selfDeclaredMadeForKids": True,
                   "publishAt": "2026-10-02T01:00:00Z"}}
    assert stored["query"]["notifySubscribers"] == "false"
    puts = fake.calls("/upload/youtube/v3/videos", "PUT")
    assert len(puts) == 4
    assert puts[0].headers["content-range"] == f"bytes 0-{CHUNK - 1}/{v.size}"
    assert adapter.progress_seen[-1] == (v.size, v.size)  # type: ignore[attr-defined]
    init = fake.calls("/upload/youtube/v3/videos", "POST")[0]
    assert init.headers["x-upload-content-length"] == str(v.size)
    assert adapter.ctx.state["quota"] == {"day": "2026-10-01", "used": 1600}
    assert adapter.saved[0]["access_token"] == fake.access_token  # type: ignore[attr-defined]


def test_100_mb_upload_streams_from_disk(fake: FakeYouTube, tmp_path: Path) -> None:
    size = 100 * 1024 * 1024
    path = tmp_path / "big.mp4"
    with open(path, "wb") as fh:
        fh.truncate(size)  # sparse: reads as zeros
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    big = MediaFile(str(path), "video", "video/mp4", size, digest.hexdigest())
    adapter = make(fake, chunk_size=str(8 * 1024 * 1024))
    tracemalloc.start()
    try:
        result = adapter.publish(post((big,)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(result, Published)
    assert fake.videos[result.external_id]["sha256"] == big.sha256
    assert len(fake.calls("/upload/youtube/v3/videos", "PUT")) == 13  # ceil(100 / 8)
    assert peak < 20 * 1024 * 1024, f"peak Python memory {peak / 1e6:.1f} MB"


def test_broken_chunk_resumes_from_server_range(fake: FakeYouTube, tmp_path: Path) -> None:
    v = video(tmp_path)
    fake.break_chunk(2, keep=1000)  # the server kept 1,000 bytes of chunk 2, then 503
    result = make(fake).publish(post((v,)))
    assert isinstance(result, Published)
    assert fake.videos[result.external_id]["sha256"] == v.sha256
    puts = fake.calls("/upload/youtube/v3/videos", "PUT")
    ranges = [c.headers["content-range"] for c in puts]
    assert ranges[2] == f"bytes */{v.size}"  # status query after the break
    assert ranges[3] == f"bytes {CHUNK + 1000}-{2 * CHUNK + 999}/{v.size}"


def test_drop_on_final_chunk_is_not_reuploaded(fake: FakeYouTube, tmp_path: Path) -> None:
    v = video(tmp_path, size=2 * CHUNK)
    fake.break_chunk(2, how="drop")  # final chunk arrives, video created, connection drops
    result = make(fake).publish(post((v,)))
    assert isinstance(result, Published)
    assert len(fake.videos) == 1
    assert [c.headers["content-range"] for c in fake.calls("/upload/youtube/v3/videos",
                                                           "PUT")][-1] == f"bytes */{v.size}"
    assert len(fake.calls("/upload/youtube/v3/videos", "POST")) == 1


def test_unknown_final_state_is_outcome_unknown(fake: FakeYouTube, tmp_path: Path) -> None:
    v = video(tmp_path, size=2 * CHUNK)
    fake.break_chunk(2, how="drop")
    fake.status_fails = True
    with pytest.raises(OutcomeUnknown) as info:
        make(fake).publish(post((v,)))
    assert info.value.code == "upload_unknown"


def test_break_before_final_chunk_without_status_is_retry(fake: FakeYouTube,
                                                          tmp_path: Path) -> None:
    fake.break_chunk(1, keep=0)
    fake.status_fails = True
    with pytest.raises(RetryLater) as info:
        make(fake).publish(post((video(tmp_path),)))
    assert info.value.code == "upload_broken"
    assert fake.videos == {}


@pytest.mark.parametrize(("route", "mode", "error", "code", "scope", "state"), [
    ("initiate", "quota", RetryLater, "quota_exceeded", "channel", "queued"),
    ("initiate", "rate", RetryLater, "rate_limited", "post", "queued"),
    ("initiate", "too_many", RetryLater, "rate_limited", "post", "queued"),
    ("initiate", "auth", AuthExpired, "auth", None, "needs_reauth"),
    ("initiate", "invalid_title", Rejected, "invalidTitle", None, "failed"),
    ("initiate", "server_error", RetryLater, "server_error", "post", "queued"),
    ("token", "invalid_grant", AuthExpired, "invalid_grant", None, "needs_reauth"),
    # Bare statuses from a proxy in front of Google (HTML or text, no {"error": …}): the
    # upload session was not opened, nothing exists, so a retry; never Rejected.
    ("initiate", "proxy-429", RetryLater, "rate_limited", "post", "queued"),
    ("initiate", "proxy-text-429", RetryLater, "rate_limited", "post", "queued"),
    ("initiate", "proxy-502", RetryLater, "server_error", "post", "queued"),
    ("initiate", "proxy-503", RetryLater, "server_error", "post", "queued"),
    ("initiate", "proxy-text-503", RetryLater, "server_error", "post", "queued"),
    ("initiate", "proxy-504", RetryLater, "server_error", "post", "queued"),
    # the token endpoint behind a proxy: a transient status, not a refused refresh token, so
    # never needs_reauth
    ("token", "proxy-503", RetryLater, "network", "post", "queued"),
    ("token", "proxy-text-429-60", RetryLater, "network", "post", "queued"),
    ("token", "proxy-502", RetryLater, "network", "post", "queued"),
])
def test_error_table(fake: FakeYouTube, tmp_path: Path, route: str, mode: str,
                     error: type[AdapterError], code: str, scope: str | None,
                     state: str) -> None:
    fake.fail(route, mode)
    adapter = make(fake)
    with pytest.raises(error) as info:
        adapter.publish(post((video(tmp_path),)))
    exc = info.value
    assert exc.code == code and state
    if isinstance(exc, RetryLater):
        assert exc.scope == scope
    if code == "quota_exceeded":
        # 05:00 PDT → next Pacific midnight is 19 hours away
        assert exc.retry_after == 19 * 3600  # type: ignore[attr-defined]
        assert adapter.ctx.state["quota"]["used"] == 10_000
        problems = adapter.validate(post((video(tmp_path, name="w.mp4"),)))
        assert "quota" in [p.code for p in problems]
    for secret in (fake.client_secret, fake.refresh_token, fake.access_token):
        assert secret not in exc.detail and secret not in str(exc)
    assert fake.videos == {}


@pytest.mark.parametrize(("route", "mode", "header", "wait", "code"), [
    ("initiate", "too_many", "120", 120, "rate_limited"),  # delay-seconds
    ("initiate", "too_many", "Thu, 01 Oct 2026 12:05:00 GMT", 300, "rate_limited"),  # a date
    ("initiate", "too_many", "Thu, 01 Oct 2026 11:00:00 GMT", 1, "rate_limited"),  # past
    ("initiate", "too_many", None, None, "rate_limited"),  # no header: the queue's backoff
    ("initiate", "too_many", "soon", None, "rate_limited"),  # unreadable: the same
    ("initiate", "server_error", "30", 30, "server_error"),  # 503 may carry it too
    ("videos", "too_many", "120", 120, "rate_limited"),  # reading statistics
    # a proxy's bare status with its own Retry-After (no Google JSON at all)
    ("initiate", "proxy-429-120", None, 120, "rate_limited"),
    ("initiate", "proxy-text-429-Thu, 01 Oct 2026 12:05:00 GMT", None, 300, "rate_limited"),
    ("initiate", "proxy-text-503-30", None, 30, "server_error"),
    ("initiate", "proxy-502-45", None, 45, "server_error"),
    ("initiate", "proxy-504", None, None, "server_error"),
    ("videos", "proxy-429-120", None, 120, "rate_limited"),
    ("videos", "proxy-503-30", None, 30, "server_error"),
])
def test_429_retry_after_is_honoured(fake: FakeYouTube, tmp_path: Path, route: str, mode: str,
                                     header: str | None, wait: float | None,
                                     code: str) -> None:
    """Google's Retry-After (seconds or an HTTP-date) becomes the wait, counted from the
    adapter's clock (NOW = 12:00 UTC), as X's x-rate-limit-reset does."""
    fake.fail(route, mode)
    fake.retry_after = header
    adapter = make(fake)
    with pytest.raises(RetryLater) as info:
        if route == "videos":
            adapter.fetch_metrics(fake.seed(1))
        else:
            adapter.publish(post((video(tmp_path),)))
    exc = info.value
    assert (exc.code, exc.scope, exc.retry_after) == (code, "post", wait)
    if wait == 120:
        assert "2 minutes" in exc.message_en and "2 menit" in exc.message_id
    # A refused publish uploaded nothing; a refused statistics read left the seeded video alone.
    assert [v["title"] for v in fake.videos.values()] == (["seed 0"] if route == "videos" else [])


@pytest.mark.parametrize(("chunk", "how", "status", "outcome", "code", "retry_after"), [
    # a proxy's 5xx on a middle chunk: the status query tells where to resume
    (2, "proxy-503", None, Published, None, None),
    # on the final chunk, nothing arrived: resumed, one video
    (3, "proxy-502", None, Published, None, None),
    # the final chunk arrived and YouTube made the video, then the proxy said 504: the status
    # query finds the video, which is not sent again
    (3, "accept-proxy-504", None, Published, None, None),
    # ... and when the status query also meets the proxy, nobody knows: unconfirmed
    (3, "accept-proxy-504", "proxy-text-503", OutcomeUnknown, "upload_unknown", None),
    (3, "proxy-502", "proxy-503", OutcomeUnknown, "upload_unknown", None),
    # a proxy's 429 on the final chunk refused it: nothing exists, wait as told
    (3, "proxy-429-60", None, RetryLater, "rate_limited", 60),
    (3, "proxy-text-429", None, RetryLater, "rate_limited", None),
])
def test_bare_proxy_status_during_upload(fake: FakeYouTube, tmp_path: Path, chunk: int,
                                         how: str, status: str | None, outcome: type,
                                         code: str | None, retry_after: float | None) -> None:
    v = video(tmp_path, size=2 * CHUNK + 1000)  # three chunks, the third is the final one
    fake.break_chunk(chunk, keep=0, how=how)
    if status:
        fake.status_fails = status
    adapter = make(fake)
    if outcome is Published:
        result = adapter.publish(post((v,)))
        assert isinstance(result, Published)
        assert list(fake.videos) == [result.external_id]
        assert fake.videos[result.external_id]["sha256"] == v.sha256
        sent = [c.headers["content-range"] for c in fake.calls("/upload/youtube/v3/videos",
                                                               "PUT")]
        final = f"bytes {2 * CHUNK}-{v.size - 1}/{v.size}"
        # the final chunk is sent again only when the proxy kept it from YouTube
        assert sent.count(final) == (1 if how.startswith("accept") or chunk != 3 else 2)
    else:
        with pytest.raises(outcome) as info:
            adapter.publish(post((v,)))
        exc = info.value
        assert exc.code == code
        if isinstance(exc, RetryLater):
            assert exc.retry_after == retry_after
        assert len(fake.videos) == (1 if how.startswith("accept") else 0)
    assert len(fake.calls("/upload/youtube/v3/videos", "POST")) == 1


def test_quota_budget_refuses_before_upload(fake: FakeYouTube, tmp_path: Path) -> None:
    state = {"quota": {"day": "2026-10-01", "used": 9000}}
    adapter = make(fake, state=state)
    p = post((video(tmp_path),))
    assert [pr.code for pr in adapter.validate(p)] == ["quota"]
    with pytest.raises(RetryLater) as info:
        adapter.publish(p)
    assert info.value.scope == "channel" and info.value.code == "quota_exceeded"
    assert fake.calls("/upload") == []
    # yesterday's counter does not count today; a bigger budget setting also lets it through
    assert make(fake, state={"quota": {"day": "2026-09-30", "used": 9999}}).validate(p) == []
    assert make(fake, state=dict(state), daily_quota="20000").validate(p) == []


def test_thumbnail_from_second_media(fake: FakeYouTube, tmp_path: Path) -> None:
    thumb_path = tmp_path / "t.jpg"
    thumb_path.write_bytes(b"\xff\xd8" + b"0" * 5000)
    thumb = MediaFile(str(thumb_path), "image", "image/jpeg", 5002, "0")
    result = make(fake).publish(post((video(tmp_path), thumb)))
    assert isinstance(result, Published)
    assert fake.videos[result.external_id]["thumbnail_bytes"] == 5002


def test_thumbnail_failure_keeps_the_video(fake: FakeYouTube, tmp_path: Path) -> None:
    thumb_path = tmp_path / "t.jpg"
    thumb_path.write_bytes(b"0" * 100)
    thumb = MediaFile(str(thumb_path), "image", "image/jpeg", 100, "0")
    fake.fail("thumbnail", "invalid_title")
    adapter = make(fake)
    result = adapter.publish(post((video(tmp_path), thumb)))
    assert isinstance(result, Published)
    assert adapter.ctx.state["thumbnail_failed"]["video_id"] == result.external_id


def test_metrics_120_videos_in_3_calls(fake: FakeYouTube) -> None:
    ids = fake.seed(120)
    adapter = make(fake)
    size = YouTubeAdapter.caps.metrics_batch_size
    out: dict[str, Any] = {}
    for start in range(0, len(ids), size):
        out.update(adapter.fetch_metrics(ids[start:start + size]))
    assert len(fake.calls("/youtube/v3/videos", "GET")) == math.ceil(120 / 50) == 3
    assert len(out) == 120
    m = out[ids[0]]
    assert (m.views, m.likes, m.comments) == (100, 7, 2)
    assert m.shares is None and m.saves is None and m.reach is None


def test_metrics_missing_counts_are_none(fake: FakeYouTube) -> None:
    (vid,) = fake.seed(1)
    del fake.videos[vid]["statistics"]["likeCount"]  # hidden likes
    out = make(fake).fetch_metrics([vid, "deleted01"])
    assert set(out) == {vid}
    assert out[vid].likes is None and out[vid].views == 100


def test_lookup_uses_uploads_playlist(fake: FakeYouTube, tmp_path: Path) -> None:
    adapter = make(fake)
    result = adapter.publish(post((video(tmp_path),)))
    found = adapter.lookup(post(()), since=datetime(2026, 10, 1, 2, 0, tzinfo=UTC))
    assert isinstance(found, Published) and found.external_id == result.external_id
    missing = adapter.lookup(OutgoingPost("k", "", title="Lain"),
                             since=datetime(2026, 10, 1, 2, 0, tzinfo=UTC))
    assert missing is None
    assert fake.calls("/search") == []
    assert len(fake.calls("/youtube/v3/channels")) == 1  # playlist id cached in ctx.state


def test_account(fake: FakeYouTube) -> None:
    info = make(fake).account()
    assert (info.external_id, info.name, info.username) == (CHANNEL["id"], CHANNEL["title"],
                                                            CHANNEL["customUrl"])


def test_refresh_refused_returns_none(fake: FakeYouTube) -> None:
    fake.fail("token", "invalid_grant")
    assert make(fake).refresh() is None


@pytest.mark.parametrize(("title", "options", "codes"), [
    ("Judul", {}, ["made_for_kids_required"]),
    ("", KIDS, ["title_required"]),
    ("x" * 101, KIDS, ["title_too_long"]),
    ("a <b>", KIDS, ["angle_brackets"]),
    ("Judul", {**KIDS, "privacy": "secret"}, ["privacy"]),
    ("Judul", {**KIDS, "publish_at": "2026-09-01T00:00:00Z", "privacy": "private"},
     ["publish_at"]),
    ("Judul", {**KIDS, "publish_at": "2026-10-05T00:00:00Z", "privacy": "public"},
     ["publish_at_privacy"]),
    ("Judul", {**KIDS, "tags": ["t" * 300, "u" * 300]}, ["tags_too_long"]),
    ("Judul", {**KIDS, "colour": "red"}, ["unknown_option"]),
])
def test_validate(fake: FakeYouTube, tmp_path: Path, title: str, options: dict[str, Any],
                  codes: list[str]) -> None:
    p = OutgoingPost("k", "Deskripsi", media=(video(tmp_path, size=10),), title=title,
                     options=options)
    assert [pr.code for pr in make(fake).validate(p)] == codes


def test_validate_needs_one_video_and_byte_limit(fake: FakeYouTube, tmp_path: Path) -> None:
    adapter = make(fake)
    assert "one_video" in [p.code for p in adapter.validate(post(()))]
    long = OutgoingPost("k", "é" * 2600, media=(video(tmp_path, size=10),), title="J",
                        options=KIDS)  # 2,600 characters but 5,200 bytes
    assert [p.code for p in adapter.validate(long)] == ["too_long"]
