"""Case table for the instagrapi adapter: the REAL instagrapi code runs, its HTTP is
intercepted with ``responses`` (requests transport; platform-apis.md §3.2), so a change in
instagrapi's call sequence makes these tests fail."""

from __future__ import annotations

import itertools
import json
import re
import sys
from datetime import UTC, datetime, timedelta

import pytest
import responses
from instagrapi import Client

from adapters import get_adapter_class
from adapters.base import AdapterContext, OutgoingPost, Published
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater
from adapters.instagram import InstagramAdapter

NOW = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
UID = "123456789"
SESSIONID = UID + "%3AsecretSessionValue0123456789abcdef"
PASSWORD = "Sandi-Rahasia-42"
API = "https://i.instagram.com"


def media_json(pk: str, caption: str = "hello", media_type: int = 1, likes: int = 5,
               product_type: str = "feed", **extra) -> dict:
    m = {"pk": pk, "id": f"{pk}_{UID}", "code": f"C{pk[-6:]}", "taken_at": 1788256800,
         "media_type": media_type, "product_type": product_type, "caption": {"text": caption},
         "user": {"pk": UID, "username": "diskominfo"}, "like_count": likes,
         "comment_count": 2,
         "image_versions2": {"candidates": [{"url": "https://e.com/p.jpg", "width": 1080,
                                             "height": 1080}]}}
    if media_type == 2:
        m["video_versions"] = [{"url": "https://e.com/v.mp4", "width": 1080, "height": 1920}]
    m.update(extra)
    return m


USER = {"pk": UID, "username": "diskominfo", "full_name": "Diskominfo", "is_private": False,
        "profile_pic_url": "https://e.com/a.jpg", "is_verified": False, "media_count": 1,
        "follower_count": 10, "following_count": 2, "is_business": False}


def client_for_tests(settings):
    return Client(settings=settings, private_transport="requests", request_timeout=0,
                  session_retry_total=0)


@pytest.fixture
def ig(monkeypatch):
    """``responses`` intercepting instagrapi, with its sleeps removed."""
    monkeypatch.setattr("time.sleep", lambda s: None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, re.compile(rf"{API}/api/v1/users/\d+/info/.*"),
                 json={"user": USER, "status": "ok"})
        yield rsps


def make_adapter(creds=None, state=None, saved=None, **settings) -> InstagramAdapter:
    creds = dict(creds or {"sessionid": SESSIONID})
    ctx = AdapterContext(credentials=creds, state=state if state is not None else {},
                         settings={"client_factory": client_for_tests, **settings},
                         now=lambda: NOW)
    if saved is not None:
        ctx.save_credentials = saved.append
    return InstagramAdapter(ctx)


def paths(rsps) -> list[str]:
    return [f"{c.request.method} {re.sub(r'[?].*', '', c.request.url.replace(API, ''))}"
            for c in rsps.calls]


def add_upload_routes(rsps, configure_path="media/configure/", configure=None, status=200):
    rsps.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"),
             json={"items": [], "next_max_id": "", "status": "ok"})
    rsps.add(responses.POST, re.compile(rf"{API}/rupload_igphoto/.*"),
             json={"upload_id": "1", "status": "ok"})
    rsps.add(responses.GET, re.compile(rf"{API}/rupload_igvideo/.*"), json={"offset": 0})
    rsps.add(responses.POST, re.compile(rf"{API}/rupload_igvideo/.*"),
             json={"status": "ok"})
    rsps.add(responses.POST, re.compile(rf"{API}/upload_settings/.*"), json={"status": "ok"})
    url = re.compile(rf"{API}/api/v1/{re.escape(configure_path)}.*")
    if configure is not None:
        rsps.add(responses.POST, url, json=configure, status=status)
        return
    # Each post gets its own media pk, as on Instagram (one pk is one post: publications
    # cannot share one, see the partial unique index on published external ids).
    pks = itertools.count(3300000000000000001)

    def configured(request):  # type: ignore[no-untyped-def]
        return status, {}, json.dumps({"media": media_json(str(next(pks))), "status": "ok"})

    rsps.add_callback(responses.POST, url, callback=configured,
                      content_type="application/json")


def test_registry():
    assert get_adapter_class("instagram") is InstagramAdapter


def test_session_saved_then_reused_without_login(ig, make_media):
    add_upload_routes(ig)
    saved: list = []
    adapter = make_adapter(saved=saved)
    result = adapter.publish(OutgoingPost("k", "hello", media=(make_media(),)))
    assert isinstance(result, Published)
    assert result.permalink == "https://www.instagram.com/p/C000001/"
    assert paths(ig) == [f"GET /api/v1/users/{UID}/info/", f"GET /api/v1/feed/user/{UID}/",
                         paths(ig)[2], "POST /api/v1/media/configure/"]
    assert paths(ig)[2].startswith("POST /rupload_igphoto/")
    assert saved and saved[0]["settings"]["authorization_data"]["ds_user_id"] == UID
    # next call, from the saved settings: no login request at all
    ig.calls.reset()
    again = make_adapter(creds=saved[0], state={})
    again.publish(OutgoingPost("k", "hello", media=(make_media(),)))
    assert not any("/users/" in p for p in paths(ig))


def test_album_of_photos(ig, make_media):
    add_upload_routes(ig, "media/configure_sidecar/", {
        "media": media_json("3300000000000000002", media_type=8, carousel_media=[
            media_json("1"), media_json("2")]), "status": "ok"})
    adapter = make_adapter()
    result = adapter.publish(OutgoingPost("k", "album", media=(make_media(), make_media())))
    uploads = [p for p in paths(ig) if p.startswith("POST /rupload_igphoto/")]
    assert len(uploads) == 2 and paths(ig)[-1] == "POST /api/v1/media/configure_sidecar/"
    assert result.external_id == "3300000000000000002"


@pytest.mark.parametrize("ig_type,configure_path", [
    ("reel", "media/configure_to_clips/"), (None, "media/configure_to_clips/"),
    ("feed", "media/configure/"),
])
def test_video_with_generated_thumbnail(ig, make_media, ig_type, configure_path):
    add_upload_routes(ig, configure_path, {"media": media_json(
        "3300000000000000003", media_type=2, product_type="clips"), "status": "ok"})
    options = {"ig_type": ig_type} if ig_type else {}
    vid = make_media("video", size=(1080, 1920))
    result = make_adapter().publish(OutgoingPost("k", "reel", media=(vid,), options=options))
    assert paths(ig)[-1] == f"POST /api/v1/{configure_path}"
    assert any(p.startswith("POST /rupload_igphoto/") for p in paths(ig))  # the thumbnail
    assert "moviepy" not in sys.modules
    assert "/reel/" in result.permalink


def test_validate(make_media):
    adapter = make_adapter()
    codes = lambda post: [p.code for p in adapter.validate(post)]  # noqa: E731
    assert "album_video_unsupported" in codes(
        OutgoingPost("k", "x", media=(make_media(), make_media("video"))))
    assert codes(OutgoingPost("k", " ".join(f"#a{i}" for i in range(31)),
                              media=(make_media(),))) == ["too_many_hashtags"]
    assert "too_long" in codes(OutgoingPost("k", "x" * 2201, media=(make_media(),)))


def test_min_gap_between_posts(ig, make_media):
    state = {"last_post_at": (NOW - timedelta(seconds=60)).isoformat()}
    with pytest.raises(RetryLater) as info:
        make_adapter(state=state, min_gap_seconds="300").publish(
            OutgoingPost("k", "x", media=(make_media(),)))
    assert info.value.retry_after == 240 and info.value.code == "min_gap"
    assert len(ig.calls) == 0


ERROR_CASES = [
    # (where, status, body, expected error, code, scope). instagrapi swallows errors of the
    # feed snapshot it takes before a photo upload, so publishing errors come from configure;
    # "listing" cases go through fetch_metrics (the paged media listing).
    ("configure", 400, {"message": "feedback_required", "feedback_message": "Action blocked",
                   "spam": True, "status": "fail"}, RetryLater, "feedback_required", "channel"),
    ("configure", 400, {"message": "Please wait a few minutes before you try again.",
                   "status": "fail"}, RetryLater, "rate_limited", "channel"),
    ("configure", 429, {"message": "rate limited", "status": "fail"}, RetryLater,
     "rate_limited", "channel"),
    ("listing", 400, {"message": "rate limited", "error_type": "rate_limit_error",
                   "status": "fail"}, RetryLater, "rate_limited", "channel"),
    ("configure", 400, {"message": "challenge_required", "challenge": {
        "url": "https://i.instagram.com/challenge/1/abc/", "api_path": "/challenge/1/abc/"},
        "status": "fail"}, AuthExpired, "challenge_required", None),
    ("listing", 403, {"message": "login_required", "error_title": "You've Been Logged Out",
                   "logout_reason": 8, "status": "fail"}, AuthExpired, "login_required", None),
    ("configure", 400, {"message": "Uploaded image isn't in an allowed aspect ratio",
                        "status": "fail"}, Rejected, "rejected", None),
    ("configure", 500, {"message": "oops", "status": "fail"}, OutcomeUnknown,
     "failed_after_send", None),
    ("configure", 502, "<html>Bad gateway</html>", OutcomeUnknown, "failed_after_send", None),
    # configure answered 200 but the reply cannot be read: the post may be live
    ("configure", 200, "{not json", OutcomeUnknown, "failed_after_send", None),
    ("listing", 502, "<html>Bad gateway</html>", RetryLater, "transient", "post"),
    ("listing", 429, {"message": "throttled", "status": "fail"}, RetryLater, "transient",
     "post"),
]


@pytest.mark.parametrize("where,status,body,error,code,scope", ERROR_CASES)
def test_error_table(ig, make_media, where, status, body, error, code, scope):
    kw = {"json": body} if isinstance(body, dict) else {"body": body}
    if where == "listing":
        ig.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"), status=status,
               **kw)
    add_upload_routes(ig)
    if where == "configure":
        ig.replace(responses.POST, re.compile(rf"{API}/api/v1/media/configure/.*"),
                   status=status, **kw)
    with pytest.raises(error) as info:
        if where == "listing":
            make_adapter().fetch_metrics(["3300000000000000001"])
        else:
            make_adapter().publish(OutgoingPost("k", "x", media=(make_media(),)))
    exc = info.value
    assert exc.code == code and type(exc) is error  # the class decides the worker's next step
    if scope:
        assert exc.scope == scope
    for text in (exc.message_id, exc.message_en, exc.detail, repr(exc)):
        assert SESSIONID not in text and "secretSessionValue" not in text


def test_feedback_required_warns_operator_and_waits_hours(ig, make_media):
    add_upload_routes(ig, configure={"message": "feedback_required", "feedback_message": "x",
                                     "status": "fail"}, status=400)
    with pytest.raises(RetryLater) as info:
        make_adapter().publish(OutgoingPost("k", "x", media=(make_media(),)))
    assert info.value.retry_after >= 3600 and info.value.message_id.startswith("PERINGATAN")


def test_rejected_session_logs_in_again_once(ig, make_media, monkeypatch):
    """A stale saved session + a password: log in again (same device uuids), save, retry."""
    saved: list = []
    old = client_for_tests(None)
    old.login_by_sessionid(SESSIONID)
    stale = {"username": "diskominfo", "password": PASSWORD, "settings": old.get_settings()}
    logins = []

    def fake_login(self, username, password, relogin=False, verification_code=""):
        logins.append((username, self.uuid))  # the Bloks login flow is not faked here
        return self.login_by_sessionid(SESSIONID)

    monkeypatch.setattr(Client, "login", fake_login)
    ig.calls.reset()
    ig.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"), status=403,
           json={"message": "login_required", "status": "fail"})
    ig.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"),
           json={"items": [media_json("3300000000000000001")], "next_max_id": "",
                 "status": "ok"})
    adapter = make_adapter(creds=stale, saved=saved)
    out = adapter.fetch_metrics(["3300000000000000001"])
    assert out["3300000000000000001"].likes == 5
    assert logins == [("diskominfo", old.uuid)]
    assert saved and saved[0]["password"] == PASSWORD


def test_metrics_from_one_listing_call(ig):
    items = [media_json(f"33000000000000001{i:02d}", likes=i) for i in range(30)]
    items.append(media_json("3300000000000000999", media_type=2, play_count=777))
    ig.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"),
           json={"items": items, "next_max_id": "", "status": "ok"})
    adapter = make_adapter()
    ids = [m["pk"] for m in items]
    out = adapter.fetch_metrics(ids)
    assert len(out) == 31
    assert paths(ig).count(f"GET /api/v1/feed/user/{UID}/") == 1
    photo = out["3300000000000000105"]
    assert (photo.likes, photo.comments, photo.views) == (5, 2, None)
    assert photo.reach is None and photo.saves is None and photo.shares is None
    assert out["3300000000000000999"].views == 777


def test_lookup(ig):
    ig.add(responses.GET, re.compile(rf"{API}/api/v1/feed/user/\d+/.*"),
           json={"items": [media_json("3300000000000000555", caption="Cari saya")],
                 "next_max_id": "", "status": "ok"})
    adapter = make_adapter()
    since = datetime(2026, 9, 1, tzinfo=UTC)
    found = adapter.lookup(OutgoingPost("k", "Cari saya", media=("x",)), since)  # type: ignore[arg-type]
    assert found is not None and found.external_id == "3300000000000000555"
    assert adapter.lookup(OutgoingPost("k", "Lain", media=("x",)), since) is None  # type: ignore[arg-type]


def test_unreadable_reply_after_configure_is_unknown_not_rejected(ig, monkeypatch):
    """A parse error once the configure call was sent says nothing about whether the post is
    live: it must be reconciled (OutcomeUnknown), never marked rejected; its text is cleaned."""
    adapter = make_adapter()
    monkeypatch.setattr(adapter, "_after_create", lambda: True)
    err = adapter._classify(ValueError(f"bad media field sessionid={SESSIONID}"), create=True)
    assert isinstance(err, OutcomeUnknown) and err.code == "failed_after_send"
    before = adapter._classify(ValueError("unsupported format"), create=False)
    assert isinstance(before, Rejected) and before.code == "invalid_media"
    for text in (err.detail, before.message_id, before.message_en):
        assert SESSIONID not in text
