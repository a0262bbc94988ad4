"""The instagrapi adapter against the local fake of Instagram's private API
(``tests/fakes/instagram.py``), through its production client factory: the rules Warta puts
around instagrapi's own HTTP (``adapters/_instagrapi_http.py``) under real transport faults —
a timeout on every call, no configure sent twice once one went unanswered, the API URL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from adapters.base import AdapterContext, OutgoingPost, Published
from adapters.errors import OutcomeUnknown, RetryLater
from adapters.instagram import InstagramAdapter
from tests.fakes import instagram as ig_fake


@pytest.fixture
def fake(monkeypatch) -> Iterator[ig_fake.FakeInstagram]:  # type: ignore[no-untyped-def]
    ig_fake.without_pacing(monkeypatch)
    yield from ig_fake.serve()


def adapter(fake: ig_fake.FakeInstagram, timeout: float = 2.0, **settings: str
            ) -> InstagramAdapter:
    """A connected adapter (session id login done) with the production client factory."""
    ctx = AdapterContext(credentials={"sessionid": fake.sessionid}, base_url=fake.url,
                         timeout=timeout, settings={"min_gap_seconds": "0", **settings})
    a = InstagramAdapter(ctx)
    a.account()
    fake.reset_calls()
    return a


def photo_post(make_media, caption: str = "Posyandu balita Kamis pagi.") -> OutgoingPost:  # type: ignore[no-untyped-def]
    return OutgoingPost("warta-1", caption, media=(make_media(),))


def test_every_request_goes_to_the_api_url_with_instagram_payloads(fake, make_media) -> None:  # type: ignore[no-untyped-def]
    a = adapter(fake)
    result = a.publish(photo_post(make_media))
    assert isinstance(result, Published)
    assert [f"{r.method} {r.path.split('/1')[0]}" for r in fake.requests] == [
        f"GET /api/v1/feed/user/{fake.uid}/", "POST /rupload_igphoto",
        "POST /api/v1/media/configure/"]
    assert fake.unknown == [] and a.client().private_transport == "requests"
    (media,) = fake.medias
    assert (result.external_id, media["caption"]["text"]) == (media["pk"], photo_post(
        make_media).body)
    assert result.permalink == f"https://www.instagram.com/p/{media['code']}/"
    # and lookup finds it in the account's listing
    found = a.lookup(photo_post(make_media), since=result.published_at)  # type: ignore[arg-type]
    assert found is not None and found.external_id == media["pk"]


def test_a_configure_that_hangs_times_out_as_unknown(fake, make_media) -> None:  # type: ignore[no-untyped-def]
    """instagrapi sets no timeout: without Warta's, a worker slot waits as long as Instagram
    does. With it, a reply later than ``WARTA_INSTAGRAM_TIMEOUT`` is an unknown outcome."""
    fake.faults.add("hang", "POST", ig_fake.CONFIGURE)
    a = adapter(fake, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknown) as info:
        a.publish(photo_post(make_media))
    assert time.monotonic() - started < fake.faults.hang_seconds
    assert info.value.code == "failed_after_send" and len(fake.medias) == 1


def test_uploads_have_their_own_timeout(fake, make_media) -> None:  # type: ignore[no-untyped-def]
    """A slow photo upload (longer than the API timeout) is not cut by it."""
    fake.faults.add("hang", "POST", r"/rupload_igphoto/.*")
    a = adapter(fake, timeout=0.3, upload_timeout="5")
    assert isinstance(a.publish(photo_post(make_media)), Published)
    assert len(fake.medias) == 1


def test_an_upload_that_hangs_past_its_timeout_is_retried_later(fake, make_media) -> None:  # type: ignore[no-untyped-def]
    fake.faults.add("hang", "POST", r"/rupload_igphoto/.*")
    a = adapter(fake, timeout=0.3, upload_timeout="0.3")
    with pytest.raises(RetryLater) as info:  # nothing was configured: safe to send again
        a.publish(photo_post(make_media))
    assert info.value.code == "transient" and fake.medias == []


@pytest.mark.parametrize("fault", ["drop", "5xx_after"])
def test_an_unanswered_configure_is_never_sent_again(fake, make_media, fault: str) -> None:  # type: ignore[no-untyped-def]
    """instagrapi resends a request after a broken answer, and its requests transport retries
    a 5xx POST: each resent configure is one more post. Warta sends it once and reconciles."""
    fake.faults.add(fault, "POST", ig_fake.CONFIGURE)
    a = adapter(fake)
    with pytest.raises(OutcomeUnknown):
        a.publish(photo_post(make_media))
    assert (len(fake.calls("/media/configure")), len(fake.medias)) == (1, 1)


def test_a_408_after_configure_is_not_sent_again(fake, make_media) -> None:  # type: ignore[no-untyped-def]
    """instagrapi waits a minute after a 408 and sends the same configure again."""
    fake.answer_after.append(408)
    a = adapter(fake)
    with pytest.raises(OutcomeUnknown):
        a.publish(photo_post(make_media))
    assert (len(fake.calls("/media/configure")), len(fake.medias)) == (1, 1)
