"""Case table for the Instagram (official Graph API) adapter against the fake Graph server."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, OutgoingPost, Pending, Published
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater, StartOver
from adapters.instagram_graph import InstagramGraphAdapter

NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def make_adapter(fake, state=None, timeout: float = 5.0, **settings) -> InstagramGraphAdapter:
    ctx = AdapterContext(credentials={"ig_user_id": fake.ig_user_id,
                                      "access_token": fake.page_token},
                         base_url=fake.url + "/v25.0", timeout=timeout, settings=settings,
                         state=state if state is not None else {}, now=lambda: NOW)
    return InstagramGraphAdapter(ctx)


def run(adapter, post, max_polls: int = 10):
    """Drive publish + polls like the worker would (each Pending state JSON round-tripped)."""
    result = adapter.publish(post)
    polls = 0
    while isinstance(result, Pending):
        assert polls < max_polls
        result = adapter.poll(Pending(json.loads(json.dumps(dict(result.state))),
                                      result.poll_after))
        polls += 1
    return result, polls


def test_registry_and_caps():
    cls = get_adapter_class("instagram_graph")
    assert cls is InstagramGraphAdapter
    assert cls.caps.needs_public_urls and cls.caps.image_mimes == {"image/jpeg"}
    assert cls.caps.image_aspect == (0.8, 1.91)


def test_single_image_pending_then_published(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    img = make_media()
    first = adapter.publish(OutgoingPost("k", "Halo #warga", media=(img,)))
    assert isinstance(first, Pending)
    (create,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert create.form == {"image_url": img.public_url, "caption": "Halo #warga"}
    assert graph_fake.calls("GET", f"/{graph_fake.ig_user_id}/content_publishing_limit")
    # the fake keeps the container IN_PROGRESS for one read
    second = adapter.poll(first)
    assert isinstance(second, Pending)
    assert graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish") == []
    done = adapter.poll(second)
    assert isinstance(done, Published)
    assert done.permalink == graph_fake.objects[done.external_id]["permalink"]
    assert adapter.ctx.state["published_times"] == [NOW.isoformat()]


def test_carousel_of_images(graph_fake, make_media):
    media = tuple(make_media() for _ in range(3))
    result, _ = run(make_adapter(graph_fake), OutgoingPost("k", "Album", media=media))
    creates = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert [c.form.get("is_carousel_item") for c in creates] == ["true"] * 3 + [None]
    assert "caption" not in creates[0].form  # captions are not supported on items
    assert creates[-1].form["media_type"] == "CAROUSEL"
    assert graph_fake.objects[result.external_id]["media_type"] == "CAROUSEL_ALBUM"


def test_carousel_with_video_waits_for_children(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    first = adapter.publish(OutgoingPost("k", "Campur", media=(make_media(),
                                                               make_media("video"))))
    assert first.state["stage"] == "children"
    result, polls = run(adapter, OutgoingPost("k", "Campur2", media=(make_media(),
                                                                      make_media("video"))))
    assert isinstance(result, Published) and polls >= 2


def test_reel(graph_fake, make_media):
    vid = make_media("video")
    result, _ = run(make_adapter(graph_fake),
                    OutgoingPost("k", "Reel", media=(vid,), options={"ig_type": "reel"}))
    (create,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert create.form["media_type"] == "REELS" and create.form["video_url"] == vid.public_url
    assert "/reel/" in result.permalink


def test_validate(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    codes = lambda post: [p.code for p in adapter.validate(post)]  # noqa: E731
    assert codes(OutgoingPost("k", "x")) == ["media_required"]
    assert "reel_needs_one_video" in codes(OutgoingPost("k", "x", media=(make_media(),),
                                                        options={"ig_type": "reel"}))
    assert "bad_ig_type" in codes(OutgoingPost("k", "x", media=(make_media(),),
                                               options={"ig_type": "igtv"}))
    tags = " ".join(f"#t{i}" for i in range(31))
    assert codes(OutgoingPost("k", tags, media=(make_media(),))) == ["too_many_hashtags"]
    assert "too_long" in codes(OutgoingPost("k", "a" * 2201, media=(make_media(),)))
    assert codes(OutgoingPost("k", "x", media=tuple(make_media() for _ in range(11)))) == [
        "too_many_media"]


def test_missing_public_url_is_rejected(graph_fake, make_media):
    with pytest.raises(Rejected) as info:
        make_adapter(graph_fake).publish(OutgoingPost("k", "x", media=(make_media(public=False),)))
    assert "WARTA_PUBLIC_URL" in info.value.message_id
    assert graph_fake.calls("POST") == []


def test_full_quota_is_channel_retry_until_window_frees(graph_fake, make_media):
    graph_fake.quota_usage = 50
    state = {"published_times": [(NOW - timedelta(hours=20)).isoformat()]}
    with pytest.raises(RetryLater) as info:
        make_adapter(graph_fake, state=state).publish(OutgoingPost("k", "x",
                                                                   media=(make_media(),)))
    assert info.value.scope == "channel" and info.value.code == "publishing_quota"
    assert info.value.retry_after == pytest.approx(4 * 3600)
    assert graph_fake.calls("POST") == []  # no container created


def test_quota_error_at_publish_time(graph_fake, make_media):
    """The quota filled up between container creation and media_publish (another tool)."""
    graph_fake.container_polls = 0
    adapter = make_adapter(graph_fake)
    pending = adapter.publish(OutgoingPost("k", "x", media=(make_media(),)))
    graph_fake.quota_usage = 50
    with pytest.raises(RetryLater) as info:
        adapter.poll(pending)
    assert info.value.scope == "channel" and info.value.code == "publishing_quota"
    assert "published_times" not in adapter.ctx.state


@pytest.mark.parametrize("outcome,error,code", [
    ("ERROR", Rejected, "processing_failed"),
    ("EXPIRED", StartOver, "container_expired"),
])
def test_container_end_states(graph_fake, make_media, outcome, error, code):
    graph_fake.container_outcome = outcome
    with pytest.raises(error) as info:
        run(make_adapter(graph_fake), OutgoingPost("k", "x", media=(make_media(),)))
    assert info.value.code == code


def test_too_many_polls_starts_over(graph_fake, make_media):
    graph_fake.container_polls = 100
    with pytest.raises(StartOver) as info:
        run(make_adapter(graph_fake, max_polls="3"), OutgoingPost("k", "x",
                                                                  media=(make_media(),)))
    assert info.value.code == "processing_timeout"


def test_already_published_container_is_unknown(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    graph_fake.container_polls = 0
    pending = adapter.publish(OutgoingPost("k", "Sekali", media=(make_media(),)))
    assert isinstance(adapter.poll(pending), Published)
    with pytest.raises(OutcomeUnknown):
        adapter.poll(pending)  # a second worker polling the same state must not re-publish
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")) == 1


ERROR_CASES = [
    # (fake mode, path it hits, error, code, scope)
    ("expired", "/media", AuthExpired, "auth_expired", None),
    ("permission", "/media", AuthExpired, "permission_missing", None),
    ("ig_throttle", "/media", RetryLater, "rate_limited", "channel"),
    ("app_throttle", "/content_publishing_limit", RetryLater, "rate_limited", "channel"),
    ("ig_image_too_large", "/media", Rejected, "invalid_media", None),
    ("ig_download_timeout", "/media", RetryLater, "transient", "post"),
    ("ig_spam", "/media_publish", RetryLater, "rate_limited", "channel"),
    ("ig_quota", "/media_publish", RetryLater, "publishing_quota", "channel"),
    ("invalid", "/media", Rejected, "invalid_parameter", None),
    ("server_error", "/media", RetryLater, "server_error_after_send", None),
    ("after_accept", "/media_publish", OutcomeUnknown, "server_error_after_send", None),
    ("timeout_after_accept", "/media_publish", OutcomeUnknown, "timeout_after_send", None),
]


@pytest.mark.parametrize("mode,path,error,code,scope", ERROR_CASES)
def test_error_table(graph_fake, make_media, mode, path, error, code, scope):
    if mode == "server_error":  # a 5xx on container creation is before the create: retry
        error, code = RetryLater, "transient"
    graph_fake.fail(mode, path=path)
    with pytest.raises(error) as info:
        run(make_adapter(graph_fake, timeout=0.3), OutgoingPost("k", "x", media=(make_media(),)))
    exc = info.value
    assert exc.code == code and type(exc) is error  # the class decides the worker's next step
    if scope:
        assert exc.scope == scope
    for text in (exc.message_id, exc.message_en, exc.detail):
        assert graph_fake.page_token not in text


# Bare statuses from a proxy in front of Graph (HTML or text, no {"error": …}):
# (mode, path, error, code, retry_after). Creating a container publishes nothing: a 5xx there is
# a retry; media_publish is the create call: a 5xx may have published; a 429 was refused.
PROXY_CASES = [
    ("proxy-503", "/content_publishing_limit", RetryLater, "server_error", None),
    ("proxy-503-30", "/media", RetryLater, "server_error", 30),
    ("proxy-text-502", "/media", RetryLater, "server_error", None),
    ("proxy-504", "/media", RetryLater, "server_error", None),
    ("proxy-429-120", "/media", RetryLater, "rate_limited", 120),
    ("proxy-429", "/media_publish", RetryLater, "rate_limited", None),
    ("proxy-text-429-90", "/media_publish", RetryLater, "rate_limited", 90),
    ("proxy-502", "/media_publish", OutcomeUnknown, "server_error_after_send", None),
    ("proxy-503-30", "/media_publish", OutcomeUnknown, "server_error_after_send", None),
    ("proxy-504", "/media_publish", OutcomeUnknown, "server_error_after_send", None),
    ("accept-proxy-502", "/media_publish", OutcomeUnknown, "server_error_after_send", None),
]


@pytest.mark.parametrize("mode,path,error,code,retry_after", PROXY_CASES)
def test_bare_proxy_status_table(graph_fake, make_media, mode, path, error, code, retry_after):
    graph_fake.fail(mode, path=path)
    with pytest.raises(error) as info:
        run(make_adapter(graph_fake), OutgoingPost("k", "x", media=(make_media(),)))
    exc = info.value
    assert (exc.code, exc.http_status) == (code, int(mode.split("proxy-")[1]
                                                     .removeprefix("text-")[:3]))
    if isinstance(exc, RetryLater):
        assert (exc.retry_after, exc.scope) == (retry_after, "post")
    assert f"{exc.http_status} " in exc.detail  # the proxy's page, for the attempt log
    published = [o for o in graph_fake.objects.values() if o.get("kind") == "ig_media"]
    assert len(published) == (1 if mode.startswith("accept") else 0)


def test_not_ready_at_publish_stays_pending(graph_fake, make_media):
    graph_fake.container_polls = 0
    adapter = make_adapter(graph_fake)
    pending = adapter.publish(OutgoingPost("k", "x", media=(make_media(),)))
    graph_fake.fail("not_ready", path="/media_publish")
    again = adapter.poll(pending)
    assert isinstance(again, Pending)
    assert isinstance(adapter.poll(again), Published)


def test_lookup(graph_fake, make_media):
    adapter = make_adapter(graph_fake)
    post = OutgoingPost("k", "Cari saya", media=(make_media(), make_media()))
    result, _ = run(adapter, post)
    found = adapter.lookup(post, NOW - timedelta(hours=1))
    assert found is not None and found.external_id == result.external_id
    assert adapter.lookup(OutgoingPost("k", "Cari saya", media=(make_media(),)),
                          NOW - timedelta(hours=1)) is None


def test_metrics_batched_with_none_for_missing(graph_fake):
    ids = []
    for i in range(120):
        mid = f"178{i:05d}"
        graph_fake.objects[mid] = {"id": mid, "kind": "ig_media", "like_count": i,
                                   "comments_count": 1,
                                   "insights": {"views": 10 * i, "reach": 5, "saved": 2}}
        ids.append(mid)
    adapter = make_adapter(graph_fake)
    out = {}
    batch = adapter.caps.metrics_batch_size
    for start in range(0, len(ids), batch):
        out.update(adapter.fetch_metrics(ids[start:start + batch]))
    assert len(graph_fake.requests) == 2 * math.ceil(120 / batch)
    m = out["17800007"]
    assert (m.likes, m.comments, m.views, m.reach, m.saves) == (7, 1, 70, 5, 2)
    assert m.shares is None and m.impressions is None
    sub = json.loads(graph_fake.calls("POST", "/")[0].form["batch"])[0]["relative_url"]
    assert "views" in sub and "impressions" not in sub and "plays" not in sub


def test_account(graph_fake):
    info = make_adapter(graph_fake).account()
    assert info.username == graph_fake.ig_username
