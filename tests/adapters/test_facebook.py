"""Case table for the Facebook Page adapter against the fake Graph server."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, OutgoingPost, Published
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from adapters.facebook import FacebookAdapter

NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def make_adapter(fake, timeout: float = 5.0, **settings) -> FacebookAdapter:
    ctx = AdapterContext(credentials={"page_id": fake.page_id, "access_token": fake.page_token},
                         base_url=fake.url + "/v25.0", timeout=timeout, settings=settings,
                         now=lambda: NOW)
    return FacebookAdapter(ctx)


def test_registry_knows_facebook():
    assert get_adapter_class("facebook") is FacebookAdapter


def test_text_post(graph_fake):
    result = make_adapter(graph_fake).publish(OutgoingPost("warta-1", "Halo warga"))
    assert isinstance(result, Published)
    assert result.external_id.startswith(graph_fake.page_id + "_")
    assert result.permalink == f"https://www.facebook.com/{result.external_id}"
    (call,) = graph_fake.calls("POST", "/1000/feed")
    assert call.form == {"message": "Halo warga"}
    assert call.headers["Authorization"] == f"Bearer {graph_fake.page_token}"
    assert "access_token" not in call.query


def test_link_post(graph_fake):
    make_adapter(graph_fake).publish(OutgoingPost("k", "Baca", link="https://kota.go.id/x"))
    (call,) = graph_fake.calls("POST", "/1000/feed")
    assert call.form == {"message": "Baca", "link": "https://kota.go.id/x"}


def test_single_photo_is_multipart_upload(graph_fake, make_media):
    img = make_media("image")
    result = make_adapter(graph_fake).publish(
        OutgoingPost("k", "Foto", media=(img,), link="https://kota.go.id"))
    (call,) = graph_fake.calls("POST", "/1000/photos")
    assert call.files["source"][1] == img.size
    assert call.form["caption"] == "Foto\n\nhttps://kota.go.id"
    assert call.form["published"] == "true"
    assert result.external_id in graph_fake.objects  # the post id, not the photo id


def test_several_photos_unpublished_then_attached(graph_fake, make_media):
    media = tuple(make_media("image") for _ in range(3))
    result = make_adapter(graph_fake).publish(OutgoingPost("k", "Album", media=media))
    uploads = graph_fake.calls("POST", "/1000/photos")
    assert [u.form["published"] for u in uploads] == ["false"] * 3
    (feed,) = graph_fake.calls("POST", "/1000/feed")
    assert sorted(k for k in feed.form if k.startswith("attached_media")) == [
        "attached_media[0]", "attached_media[1]", "attached_media[2]"]
    assert graph_fake.objects[result.external_id]["message"] == "Album"


def test_video(graph_fake, make_media):
    vid = make_media("video")
    progress = []
    adapter = make_adapter(graph_fake)
    adapter.ctx.progress = lambda done, total: progress.append((done, total))
    result = adapter.publish(OutgoingPost("k", "Video", media=(vid,), title="Judul"))
    (call,) = graph_fake.calls("POST", "/1000/videos")
    assert call.form == {"description": "Video", "title": "Judul"}
    assert call.files["source"][1] == vid.size
    assert progress[-1] == (vid.size, vid.size)
    assert result.permalink.endswith(f"/videos/{result.external_id}/")


def test_video_must_be_alone(graph_fake, make_media):
    problems = make_adapter(graph_fake).validate(
        OutgoingPost("k", "x", media=(make_media("video"), make_media("image"))))
    assert [p.code for p in problems] == ["video_not_alone"]


# fake behaviour → expected error, code, retry_after, scope, worker state
ERROR_CASES = [
    ("expired", AuthExpired, "auth_expired", None, None),
    ("revoked", AuthExpired, "auth_expired", None, None),
    ("checkpoint", AuthExpired, "auth_expired", None, None),
    ("permission", AuthExpired, "permission_missing", None, None),
    ("throttle", RetryLater, "rate_limited", 7 * 60, "channel"),
    ("app_throttle", RetryLater, "rate_limited", 900, "channel"),
    ("page_limit", RetryLater, "rate_limited", 900, "channel"),
    ("user_limit", RetryLater, "rate_limited", 900, "channel"),
    ("custom_limit", RetryLater, "rate_limited", 900, "channel"),
    ("policy", RetryLater, "temporarily_blocked", 6 * 3600, "channel"),
    ("too_fast", RetryLater, "temporarily_blocked", 6 * 3600, "channel"),
    ("unknown", RetryLater, "transient", None, "post"),
    ("duplicate", Rejected, "duplicate", None, None),
    ("duplicate_photos", Rejected, "duplicate", None, None),
    ("invalid", Rejected, "invalid_parameter", None, None),
    ("bad_image", Rejected, "invalid_media", None, None),
    ("bad_link", Rejected, "invalid_link", None, None),
    ("server_error", OutcomeUnknown, "server_error_after_send", None, None),
    ("after_accept", OutcomeUnknown, "server_error_after_send", None, None),
]


@pytest.mark.parametrize("mode,error,code,retry_after,scope", ERROR_CASES)
def test_publish_error_table(graph_fake, mode, error, code, retry_after, scope):
    graph_fake.fail(mode, path="/feed")
    with pytest.raises(error) as info:
        make_adapter(graph_fake).publish(OutgoingPost("k", "Teks"))
    exc = info.value
    assert exc.code == code
    assert type(exc) is error  # the exact class decides what the worker does next
    if retry_after is not None:
        assert exc.retry_after == retry_after
    if scope is not None:
        assert exc.scope == scope
    for text in (exc.message_id, exc.message_en, exc.detail, str(exc)):
        assert graph_fake.page_token not in text
    assert exc.message_id and exc.message_en != exc.message_id


# Bare statuses from a proxy in front of Graph (an HTML page or a text line, no {"error": …}):
# (mode, path it hits, error, code, retry_after, scope). The feed post is the create call: a 5xx
# there may have published (unconfirmed, reconciled by lookup); a 429 was refused before Graph
# saw it. Unpublished photo uploads come before anything is public: a 5xx there is a retry.
PROXY_CASES = [
    ("proxy-429", "/feed", RetryLater, "rate_limited", None, "post"),
    ("proxy-429-120", "/feed", RetryLater, "rate_limited", 120, "post"),
    ("proxy-text-429-120", "/feed", RetryLater, "rate_limited", 120, "post"),
    ("proxy-502", "/feed", OutcomeUnknown, "server_error_after_send", None, None),
    ("proxy-503-30", "/feed", OutcomeUnknown, "server_error_after_send", None, None),
    ("proxy-text-503", "/feed", OutcomeUnknown, "server_error_after_send", None, None),
    ("proxy-504", "/feed", OutcomeUnknown, "server_error_after_send", None, None),
    ("accept-proxy-502", "/feed", OutcomeUnknown, "server_error_after_send", None, None),
    ("proxy-503", "/photos", RetryLater, "server_error", None, "post"),
    ("proxy-503-30", "/photos", RetryLater, "server_error", 30, "post"),
    ("proxy-text-502-45", "/photos", RetryLater, "server_error", 45, "post"),
    ("proxy-504", "/photos", RetryLater, "server_error", None, "post"),
    ("proxy-429-60", "/photos", RetryLater, "rate_limited", 60, "post"),
]


@pytest.mark.parametrize("mode,path,error,code,retry_after,scope", PROXY_CASES)
def test_bare_proxy_status_table(graph_fake, make_media, mode, path, error, code, retry_after,
                                 scope):
    graph_fake.fail(mode, path=path)
    media = (make_media(), make_media()) if path == "/photos" else ()
    with pytest.raises(error) as info:
        make_adapter(graph_fake).publish(OutgoingPost("k", "Teks", media=media))
    exc = info.value
    assert (exc.code, exc.http_status) == (code, int(mode.split("proxy-")[1]
                                                     .removeprefix("text-")[:3]))
    if isinstance(exc, RetryLater):
        assert (exc.retry_after, exc.scope) == (retry_after, scope)
    assert f"{exc.http_status} " in exc.detail  # the proxy's page, for the attempt log
    # only what Graph stored is public; a refused or failed-before-feed call leaves nothing
    posts = [o for o in graph_fake.objects.values() if o.get("kind") == "post"]
    assert len(posts) == (1 if mode.startswith("accept") else 0)
    if path == "/photos":
        assert graph_fake.calls("POST", "/1000/feed") == []


def test_meta_message_reaches_operator(graph_fake):
    graph_fake.fail("invalid", path="/feed")
    with pytest.raises(Rejected) as info:
        make_adapter(graph_fake).publish(OutgoingPost("k", "Teks"))
    assert "Parameter pesan tidak valid." in info.value.message_id


def test_timeout_after_create_is_outcome_unknown(graph_fake):
    graph_fake.fail("timeout_after_accept", path="/feed")
    with pytest.raises(OutcomeUnknown) as info:
        make_adapter(graph_fake, timeout=0.2).publish(OutgoingPost("k", "Teks"))
    assert info.value.code == "timeout_after_send"
    # The post may exist: the adapter sent it once and did not try again on its own.
    assert len(graph_fake.calls("POST", "/1000/feed")) == 1


def test_failure_during_unpublished_upload_is_retry(graph_fake, make_media):
    """Before the feed post nothing is public yet: a 5xx or timeout there is RetryLater."""
    graph_fake.fail("server_error", path="/photos")
    with pytest.raises(RetryLater):
        make_adapter(graph_fake).publish(
            OutgoingPost("k", "Album", media=(make_media(), make_media())))
    assert graph_fake.calls("POST", "/1000/feed") == []
    graph_fake.fail("timeout", path="/photos")
    with pytest.raises(RetryLater) as info:
        make_adapter(graph_fake, timeout=0.2).publish(
            OutgoingPost("k", "Album", media=(make_media(), make_media())))
    assert info.value.code == "network"


def test_lookup_finds_post_after_unknown_outcome(graph_fake, make_media):
    graph_fake.fail("after_accept", path="/photos")
    post = OutgoingPost("k", "Foto lookup", media=(make_media(),))
    adapter = make_adapter(graph_fake)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(post)
    found = adapter.lookup(post, NOW)
    assert found is not None and found.permalink.startswith("https://www.facebook.com/")
    (call,) = graph_fake.calls("GET", "/1000/feed")
    assert call.query["since"] == str(int(NOW.timestamp()))
    # different media count or text → not ours
    assert adapter.lookup(OutgoingPost("k", "Foto lookup"), NOW) is None
    assert adapter.lookup(OutgoingPost("k", "Lain", media=post.media), NOW) is None


def test_account(graph_fake):
    info = make_adapter(graph_fake).account()
    assert (info.external_id, info.name) == (graph_fake.page_id, graph_fake.page_name)
    graph_fake.fail("expired")
    with pytest.raises(AuthExpired):
        make_adapter(graph_fake).account()


def test_metrics_200_posts_batched(graph_fake):
    ids = [graph_fake.add_post(counts={"reactions": i, "comments": 2, "shares": 1},
                               insights={"post_media_view": 100 + i,
                                         "post_total_media_view_unique": 50})
           for i in range(200)]
    adapter = make_adapter(graph_fake)
    batch = adapter.caps.metrics_batch_size
    out = {}
    for start in range(0, len(ids), batch):  # the core chunks like this
        out.update(adapter.fetch_metrics(ids[start:start + batch]))
    assert len(graph_fake.requests) <= math.ceil(200 / batch) + 1
    assert len(graph_fake.calls("GET", "/")) == math.ceil(200 / batch)
    m = out[ids[7]]
    assert (m.likes, m.comments, m.shares, m.views, m.reach) == (7, 2, 1, 107, 50)
    assert m.saves is None and m.impressions is None
    fields = graph_fake.calls("GET", "/")[0].query["fields"]
    assert "post_media_view" in fields and "post_impressions" not in fields


def test_metrics_missing_values_are_none(graph_fake):
    pid = graph_fake.add_post(counts={"reactions": 3})
    m = make_adapter(graph_fake).fetch_metrics([pid])[pid]
    assert m.likes == 3
    assert (m.comments, m.shares, m.views, m.reach) == (None, None, None, None)


def test_metrics_deleted_post_falls_back_to_batch(graph_fake):
    good = graph_fake.add_post(counts={"reactions": 1, "comments": 0},
                               insights={"post_media_view": 9})
    out = make_adapter(graph_fake).fetch_metrics([good, "1000_999"])
    assert set(out) == {good} and out[good].views == 9 and out[good].comments == 0
    assert [r.method for r in graph_fake.requests] == ["GET", "POST"]


def test_metrics_removed_metric_name_is_refused_by_fake(graph_fake):
    """If someone configures the removed impressions metric, the read fails like Meta's."""
    pid = graph_fake.add_post(counts={"reactions": 1})
    out = make_adapter(graph_fake, insight_metrics="post_impressions").fetch_metrics([pid])
    assert out == {}


def test_metrics_throttled_is_retry(graph_fake):
    pid = graph_fake.add_post(counts={"reactions": 1})
    graph_fake.fail("throttle")
    with pytest.raises(RetryLater) as info:
        make_adapter(graph_fake).fetch_metrics([pid])
    assert info.value.retry_after == 420


def test_meta_message_echoing_a_token_is_cleaned_before_it_reaches_the_operator():
    import requests

    from adapters._graph import classify

    resp = requests.Response()
    resp.status_code, resp.reason = 400, "Bad Request"
    resp._content = (b'{"error": {"code": 100, "message": '
                     b'"Invalid parameter access_token=EAAsecretTOKEN123"}}')
    err = classify("facebook", resp, after_create=False, secrets=["EAAsecretTOKEN123"])
    for text in (err.message_id, err.message_en, err.detail):
        assert "EAAsecretTOKEN123" not in text
    assert "Invalid parameter" in err.message_en


@pytest.mark.parametrize("platform,creds", [
    ("facebook", {"page_id": "", "access_token": "t"}),
    ("facebook", {"page_id": "123"}),
    ("instagram_graph", {"ig_user_id": "17841", "access_token": "  "}),
    ("instagram_graph", {"access_token": "t"}),
])
def test_missing_graph_credentials_ask_to_reconnect(platform, creds):
    """Both Graph adapters refuse half-filled credentials in their own words."""
    with pytest.raises(AuthExpired) as err:
        get_adapter_class(platform)(AdapterContext(credentials=creds, now=lambda: NOW))
    assert err.value.code == "missing_credentials"
    word = "Halaman" if platform == "facebook" else "Instagram"
    assert word in err.value.message("id") and "Connect the account" in err.value.message("en")


def test_a_dropped_answer_after_the_post_is_an_unknown_outcome(graph_fake):
    """The connection breaks in the middle of Meta's answer (requests raises
    ChunkedEncodingError, not ConnectionError): the post may be live, so this is an
    ``OutcomeUnknown`` for the reconcile path, not an unexpected exception."""
    graph_fake.faults.add("drop", "POST", r"/1000/feed")
    with pytest.raises(OutcomeUnknown) as caught:
        make_adapter(graph_fake).publish(OutgoingPost("warta-1", "Halo warga"))
    assert caught.value.code == "timeout_after_send"
    assert len(graph_fake.calls("POST", "/1000/feed")) == 1
