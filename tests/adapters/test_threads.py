"""Case table for the Threads adapter against the fake Threads server (tests/fakes/threads.py):
text, image, video and carousel through the shared container flow, the publishing limit, the
500-character count, lookup, insights in batches and the 60-day token's renewal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, OutgoingPost, Pending, Published
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater, StartOver
from adapters.oauth import threads as threads_oauth
from adapters.threads import ThreadsAdapter, threads_length

NOW = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)
DAY = 86400


def make_adapter(fake, state=None, saved=None, expires_in: float = 50 * DAY, timeout=5.0,
                 **settings) -> ThreadsAdapter:
    ctx = AdapterContext(
        credentials={"threads_user_id": fake.threads_user_id, "access_token": fake.page_token,
                     "expires_at": int(NOW.timestamp() + expires_in)},
        base_url=fake.url + "/v1.0", timeout=timeout,
        settings={"oauth_url": fake.url, **settings},
        state=state if state is not None else {}, now=lambda: NOW,
        save_credentials=(saved.append if saved is not None else (lambda c: None)))
    return ThreadsAdapter(ctx)


def run(adapter, post, max_polls: int = 10):
    result = adapter.publish(post)
    polls = 0
    while isinstance(result, Pending):
        assert polls < max_polls
        result = adapter.poll(Pending(json.loads(json.dumps(dict(result.state)))))
        polls += 1
    return result, polls


def creates(fake):
    return fake.calls("POST", f"/{fake.threads_user_id}/threads")


def test_registry_and_caps():
    cls = get_adapter_class("threads")
    assert cls is ThreadsAdapter and cls.caps.max_text == 500 and cls.caps.max_media == 20
    assert cls.caps.needs_public_urls and cls.caps.renews_tokens


def test_text_post_with_a_link(threads_fake):
    result, _ = run(make_adapter(threads_fake), OutgoingPost(
        "k", "Jadwal pelayanan SIM keliling", link="https://kota.go.id/sim"))
    (create,) = creates(threads_fake)
    assert create.form == {"media_type": "TEXT", "text": "Jadwal pelayanan SIM keliling",
                           "link_attachment": "https://kota.go.id/sim"}
    assert isinstance(result, Published) and result.permalink.startswith(
        "https://www.threads.net/@")
    assert threads_fake.calls("GET", f"/{threads_fake.threads_user_id}/threads_publishing_limit")
    assert len(threads_fake.calls("POST", f"/{threads_fake.threads_user_id}/threads_publish")) == 1


def test_image_and_video_wait_for_the_container(threads_fake, make_media):
    img = make_media()
    adapter = make_adapter(threads_fake)
    first = adapter.publish(OutgoingPost("k", "Foto", media=(img,)))
    assert creates(threads_fake)[0].form == {"media_type": "IMAGE", "image_url": img.public_url,
                                             "text": "Foto"}
    second = adapter.poll(first)  # IN_PROGRESS once
    assert isinstance(second, Pending)
    assert threads_fake.calls("POST", f"/{threads_fake.threads_user_id}/threads_publish") == []
    assert isinstance(adapter.poll(second), Published)
    vid = make_media("video")
    result, _ = run(adapter, OutgoingPost("k2", "Video", media=(vid,)))
    assert creates(threads_fake)[-1].form["media_type"] == "VIDEO"
    assert isinstance(result, Published)


def test_carousel_children_then_parent(threads_fake, make_media):
    media = (make_media(), make_media(), make_media("video"))
    result, polls = run(make_adapter(threads_fake), OutgoingPost("k", "Album", media=media))
    forms = [c.form for c in creates(threads_fake)]
    assert [f.get("is_carousel_item") for f in forms] == ["true"] * 3 + [None]
    assert "text" not in forms[0], "the text goes on the parent"
    assert forms[-1]["media_type"] == "CAROUSEL" and forms[-1]["text"] == "Album"
    assert len(forms[-1]["children"].split(",")) == 3
    obj = threads_fake.objects[result.external_id]
    assert obj["media_type"] == "CAROUSEL_ALBUM" and polls >= 2


def test_publishing_limit_is_honoured_for_the_whole_channel(threads_fake):
    threads_fake.quota_usage = 250
    state = {"published_times": [(NOW - timedelta(hours=23)).isoformat()]}
    with pytest.raises(RetryLater) as info:
        make_adapter(threads_fake, state=state).publish(OutgoingPost("k", "x"))
    assert info.value.scope == "channel" and info.value.code == "publishing_quota"
    assert info.value.retry_after == pytest.approx(3600)  # our oldest post leaves the window
    assert "250" in info.value.message_en and creates(threads_fake) == []


def test_threads_counts_emoji_longer():
    assert threads_length("abc") == 3
    assert threads_length("\U0001F600") == 4
    assert ThreadsAdapter.caps.max_text == 500


def test_validate(threads_fake, make_media):
    adapter = make_adapter(threads_fake)
    codes = lambda post: [p.code for p in adapter.validate(post)]  # noqa: E731
    assert codes(OutgoingPost("k", "a" * 500)) == []
    assert codes(OutgoingPost("k", "a" * 497 + "\U0001F600")) == ["too_long"]
    assert codes(OutgoingPost("k", "")) == ["empty"]
    assert codes(OutgoingPost("k", "", media=(make_media(),))) == []
    assert codes(OutgoingPost("k", "x", media=tuple(make_media() for _ in range(21)))) == [
        "too_many_media"]


def test_container_errors_and_expiry(threads_fake, make_media):
    threads_fake.container_outcome = "ERROR"
    with pytest.raises(Rejected) as info:
        run(make_adapter(threads_fake), OutgoingPost("k", "x", media=(make_media(),)))
    assert "MEDIA_DOWNLOAD_FAILED" in info.value.message_en
    threads_fake.container_outcome = "EXPIRED"
    with pytest.raises(StartOver):
        run(make_adapter(threads_fake), OutgoingPost("k", "y", media=(make_media(),)))


@pytest.mark.parametrize(("mode", "kind"), [
    ("expired", AuthExpired), ("throttle", RetryLater), ("invalid", Rejected),
    ("proxy-503", RetryLater)])
def test_errors_on_container_creation(threads_fake, mode, kind):
    threads_fake.fail(mode, path="/threads", method="POST")
    with pytest.raises(kind):
        make_adapter(threads_fake).publish(OutgoingPost("k", "x"))


def test_5xx_after_publish_is_unknown_and_lookup_finds_it(threads_fake):
    adapter = make_adapter(threads_fake)
    first = adapter.publish(OutgoingPost("k", "Pengumuman CPNS"))
    threads_fake.fail("after_accept", path="/threads_publish")
    with pytest.raises(OutcomeUnknown):
        adapter.poll(first)
    assert threads_fake.posts() == 1
    found = adapter.lookup(OutgoingPost("k", "Pengumuman CPNS"), NOW - timedelta(minutes=10))
    assert isinstance(found, Published)
    from dataclasses import replace

    taken = replace(OutgoingPost("k", "Pengumuman CPNS"), taken_ids=frozenset({
        found.external_id}))
    assert adapter.lookup(taken, NOW - timedelta(minutes=10)) is None
    assert adapter.lookup(OutgoingPost("k", "Lain"), NOW - timedelta(minutes=10)) is None


def test_insights_in_one_batch_per_fifty(threads_fake):
    adapter = make_adapter(threads_fake)
    ids = []
    for i in range(60):
        result, _ = run(adapter, OutgoingPost(f"k{i}", f"Kabar {i}"))
        threads_fake.objects[result.external_id]["insights"].update(likes=i, views=10 * i)
        ids.append(result.external_id)
    threads_fake.requests.clear()
    out = adapter.fetch_metrics([*ids, "999"])
    batches = threads_fake.calls("POST", "/")
    assert len(batches) == 2 and len(threads_fake.requests) == 2
    assert len(json.loads(batches[0].form["batch"])) == 50
    assert out[ids[7]].likes == 7 and out[ids[7]].views == 70 and out[ids[7]].comments == 0
    assert out[ids[7]].shares is None, "the fake gives no shares: not available, not 0"
    assert out[ids[7]].reach is None and "999" not in out


def test_token_renewed_when_it_has_less_than_a_month_left(threads_fake):
    saved: list = []
    old = threads_fake.page_token
    adapter = make_adapter(threads_fake, saved=saved, expires_in=20 * DAY)
    adapter.account()
    assert threads_fake.refreshes == 1 and saved[0]["access_token"] == threads_fake.page_token
    assert saved[0]["expires_at"] == int(NOW.timestamp()) + 5_184_000
    assert threads_fake.page_token != old
    # a token with time left is not refreshed
    make_adapter(threads_fake, expires_in=50 * DAY).account()
    assert threads_fake.refreshes == 1


def test_early_refresh_refused_is_no_failure_until_the_token_expires(threads_fake):
    threads_fake.token_age = 3600  # Threads refuses refreshing a token younger than a day
    info = make_adapter(threads_fake, expires_in=20 * DAY).account()
    assert info.external_id == threads_fake.threads_user_id and threads_fake.refreshes == 0
    threads_fake.token_age = 2 * DAY
    threads_fake.fail("proxy-503", path="/refresh_access_token")  # the token server is down
    info = make_adapter(threads_fake, expires_in=20 * DAY).account()
    assert info.external_id == threads_fake.threads_user_id and threads_fake.refreshes == 0
    threads_fake.fail("proxy-503", path="/refresh_access_token")
    with pytest.raises(RetryLater):  # but an expired token cannot wait for it
        make_adapter(threads_fake, expires_in=-60).account()


def test_oauth_connect(threads_fake):
    url, state = threads_oauth.authorization_url(threads_fake.app_id, "https://w.go.id/cb")
    assert url.startswith(threads_oauth.AUTHORIZE_URL) and "threads_content_publish" in url
    creds = threads_oauth.exchange_code(threads_fake.app_id, threads_fake.app_secret,
                                        "https://w.go.id/cb", "good-code#_",
                                        oauth_base=threads_fake.url, now=lambda: NOW)
    assert creds == {"threads_user_id": threads_fake.threads_user_id,
                     "access_token": threads_fake.page_token,
                     "expires_at": int(NOW.timestamp()) + 5_184_000,
                     "refreshed_at": int(NOW.timestamp())}
    with pytest.raises(AuthExpired):
        threads_oauth.exchange_code(threads_fake.app_id, threads_fake.app_secret,
                                    "https://w.go.id/cb", "bad", oauth_base=threads_fake.url)
