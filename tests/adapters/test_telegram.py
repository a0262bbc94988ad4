"""Telegram adapter against the fake Bot API: a table of fake behaviours → results/errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import get_adapter_class
from adapters.base import AdapterContext, MediaFile, OutgoingPost, Published
from adapters.errors import (
    AdapterError,
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    RetryLater,
)
from adapters.telegram import TelegramAdapter, escape
from tests.fakes.telegram import CHAT_ID, TOKEN, FakeTelegram, serve


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    yield from serve()


def media(tmp_path: Path, name: str, kind: str = "image", size: int = 2048) -> MediaFile:
    path = tmp_path / name
    data = (name.encode() * (size // len(name) + 1))[:size]
    path.write_bytes(data)
    mime = "image/jpeg" if kind == "image" else "video/mp4"
    return MediaFile(str(path), kind, mime, size, hashlib.sha256(data).hexdigest(),  # type: ignore[arg-type]
                     width=640, height=480, duration=3.0 if kind == "video" else None)


def make(fake: FakeTelegram, channel: str = "@diskominfo_test", **settings: str
         ) -> TelegramAdapter:
    ctx = AdapterContext(credentials={"bot_token": TOKEN, "channel": channel},
                         base_url=fake.url, timeout=5, settings=settings)
    return TelegramAdapter(ctx)


def assert_no_token(exc: AdapterError) -> None:
    secret = TOKEN.split(":")[1]
    for text in (str(exc), repr(exc), exc.detail, exc.message_id, exc.message_en):
        assert TOKEN not in text and secret not in text
    assert exc.__cause__ is None or TOKEN not in str(exc.__cause__)


def test_registered() -> None:
    assert get_adapter_class("telegram") is TelegramAdapter


def test_text_message_with_html_escaping(fake_telegram: FakeTelegram) -> None:
    adapter = make(fake_telegram)
    post = OutgoingPost("warta-1", "Jadwal <vaksin> & info", link="https://example.go.id/a",
                        options={"link_preview": False})
    assert adapter.validate(post) == []
    result = adapter.publish(post)
    assert isinstance(result, Published)
    assert result.permalink == f"https://t.me/diskominfo_test/{result.external_id}"
    (call,) = fake_telegram.calls("/sendMessage")
    assert call.json["text"] == "Jadwal &lt;vaksin&gt; &amp; info\n\nhttps://example.go.id/a"
    assert call.json["parse_mode"] == "HTML"
    assert call.json["link_preview_options"] == {"is_disabled": True}


def test_markdown_escaping() -> None:
    assert escape("a_b*c [x](y) 1.5!", "MarkdownV2") == r"a\_b\*c \[x\]\(y\) 1\.5\!"


@pytest.mark.parametrize(("kinds", "method"), [
    (("image",), "/sendPhoto"),
    (("video",), "/sendVideo"),
    (("image", "image", "video"), "/sendMediaGroup"),
])
def test_media_posts_one_call_each(fake_telegram: FakeTelegram, tmp_path: Path,
                                   kinds: tuple[str, ...], method: str) -> None:
    files = tuple(media(tmp_path, f"m{i}.bin", k) for i, k in enumerate(kinds))
    result = make(fake_telegram).publish(OutgoingPost("warta-2", "Caption", media=files))
    assert isinstance(result, Published)
    assert len(fake_telegram.requests) == 1
    (call,) = fake_telegram.calls(method)
    assert sorted(call.files.values()) == [2048] * len(kinds)
    if method == "/sendMediaGroup":
        items = json.loads(call.form["media"])
        assert items[0]["caption"] == "Caption" and "caption" not in items[1]
        assert result.external_id == str(fake_telegram.messages[0]["message_id"])
    else:
        assert call.form["caption"] == "Caption"


def test_private_channel_permalink(fake_telegram: FakeTelegram) -> None:
    fake_telegram.username = None
    result = make(fake_telegram, channel=str(CHAT_ID)).publish(OutgoingPost("warta-3", "Hi"))
    assert isinstance(result, Published)
    assert result.permalink == f"https://t.me/c/1234567890/{result.external_id}"


def test_long_caption_refused_unless_followup(fake_telegram: FakeTelegram,
                                              tmp_path: Path) -> None:
    adapter = make(fake_telegram)
    photo = (media(tmp_path, "p.jpg"),)
    long = OutgoingPost("warta-4", "x" * 2000, media=photo)
    assert [p.code for p in adapter.validate(long)] == ["caption_too_long"]
    assert "long_text_followup" in adapter.validate(long)[0].message_en
    opted = OutgoingPost("warta-4", "x" * 2000, media=photo,
                         options={"long_text_followup": True})
    assert adapter.validate(opted) == []
    result = adapter.publish(opted)
    assert isinstance(result, Published)
    assert "caption" not in fake_telegram.calls("/sendPhoto")[0].form
    assert fake_telegram.calls("/sendMessage")[0].json["text"] == "x" * 2000
    too_long = OutgoingPost("warta-5", "😀" * 2100)  # 4200 UTF-16 units
    assert [p.code for p in adapter.validate(too_long)] == ["too_long"]


def test_followup_failure_is_unconfirmed_not_retried(fake_telegram: FakeTelegram,
                                                    tmp_path: Path) -> None:
    fake_telegram.fail("sendMessage", "server_error")
    post = OutgoingPost("warta-6", "y" * 1500, media=(media(tmp_path, "p.jpg"),),
                        options={"long_text_followup": True})
    with pytest.raises(OutcomeUnknown) as info:
        make(fake_telegram).publish(post)
    assert info.value.code == "followup_failed"
    assert "https://t.me/diskominfo_test/" in info.value.message_en


@pytest.mark.parametrize(("mode", "error", "code", "retry_after"), [
    ("throttle", RetryLater, "rate_limited", 35),
    ("unauthorized", AuthExpired, "auth", None),
    ("kicked", AuthExpired, "auth", None),
    ("bad_request", Rejected, "rejected", None),
    ("server_error", OutcomeUnknown, "server_error", None),
    ("drop", OutcomeUnknown, "timeout", None),
    # Bare statuses from a proxy in front of the Bot API (HTML or text, no {"ok": false}):
    # a 429 waits for Retry-After when given (else 30 s); any 5xx on sendMessage may have
    # posted the message, so it is unconfirmed, never retried and never a crash.
    ("proxy-429", RetryLater, "rate_limited", 30),
    ("proxy-429-120", RetryLater, "rate_limited", 120),
    ("proxy-text-429-7", RetryLater, "rate_limited", 7),
    ("proxy-502", OutcomeUnknown, "server_error", None),
    ("proxy-503-30", OutcomeUnknown, "server_error", None),
    ("proxy-text-503", OutcomeUnknown, "server_error", None),
    ("proxy-504", OutcomeUnknown, "server_error", None),
    ("accept-proxy-502", OutcomeUnknown, "server_error", None),
])
def test_publish_errors(fake_telegram: FakeTelegram, mode: str, error: type[AdapterError],
                        code: str, retry_after: int | None) -> None:
    fake_telegram.fail("sendMessage", mode)
    with pytest.raises(error) as info:
        make(fake_telegram).publish(OutgoingPost("warta-7", "Halo"))
    exc = info.value
    assert exc.code == code
    assert type(exc) is error  # the exact class decides what the worker does next
    if retry_after is not None:
        assert isinstance(exc, RetryLater) and exc.retry_after == retry_after
    if isinstance(exc, Rejected):
        assert "wrong file identifier" in exc.message_en
    assert_no_token(exc)
    if mode.startswith(("proxy", "accept-proxy")):
        assert exc.http_status == int(mode.split("proxy-")[1].removeprefix("text-")[:3])
    # only a message Telegram stored is public: a 429 or a refusal leaves nothing behind
    assert len(fake_telegram.messages) == (1 if mode in ("drop", "accept-proxy-502") else 0)


@pytest.mark.parametrize(("mode", "code", "retry_after"), [
    ("proxy-503", "server_error", None),
    ("proxy-503-30", "server_error", 30),
    ("proxy-text-502-45", "server_error", 45),
    ("proxy-504", "server_error", None),
    ("proxy-429", "rate_limited", 30),
    ("proxy-429-120", "rate_limited", 120),
])
def test_bare_proxy_status_on_a_read_is_retry(fake_telegram: FakeTelegram, mode: str,
                                               code: str, retry_after: int | None) -> None:
    """getChat (checking the account) publishes nothing: a bare 5xx or 429 there is a retry,
    with the proxy's Retry-After as the wait."""
    fake_telegram.fail("getChat", mode)
    with pytest.raises(RetryLater) as info:
        make(fake_telegram).account()
    assert (info.value.code, info.value.retry_after) == (code, retry_after)
    assert_no_token(info.value)


def test_wrong_token_never_leaks(fake_telegram: FakeTelegram) -> None:
    """The error keeps no token. (Log lines, urllib3's included, are redacted where logging is
    configured: ``tests/test_logs.py``.)"""
    adapter = make(fake_telegram)
    fake_telegram.token = "999:other"
    with pytest.raises(AuthExpired) as info:
        adapter.publish(OutgoingPost("warta-8", "Halo"))
    assert_no_token(info.value)


def test_unreachable_before_send_is_retry_and_hides_token() -> None:
    ctx = AdapterContext(credentials={"bot_token": TOKEN, "channel": "@x"},
                         base_url="http://127.0.0.1:9", timeout=2)
    with pytest.raises(RetryLater) as info:
        TelegramAdapter(ctx).account()
    assert_no_token(info.value)
    with pytest.raises(OutcomeUnknown) as info2:
        TelegramAdapter(ctx).publish(OutgoingPost("warta-9", "Halo"))
    assert_no_token(info2.value)


@pytest.mark.parametrize(("status", "can_post", "ok"), [
    ("administrator", True, True),
    ("creator", True, True),
    ("administrator", False, False),
    ("member", True, False),
    ("left", True, False),
])
def test_account_checks_admin_rights(fake_telegram: FakeTelegram, status: str, can_post: bool,
                                     ok: bool) -> None:
    fake_telegram.member_status, fake_telegram.can_post = status, can_post
    adapter = make(fake_telegram)
    if ok:
        info = adapter.account()
        assert info.external_id == str(CHAT_ID) and info.username == "diskominfo_test"
        assert adapter.ctx.state["username"] == "diskominfo_test"
    else:
        with pytest.raises(AuthExpired) as exc:
            adapter.account()
        assert exc.value.code == "not_admin"
    assert [c.path.rsplit("/", 1)[1] for c in fake_telegram.requests] == [
        "getMe", "getChat", "getChatMember"]


def test_metrics_and_lookup_declared_unavailable(fake_telegram: FakeTelegram) -> None:
    adapter = make(fake_telegram)
    assert TelegramAdapter.caps.metrics == frozenset()
    assert TelegramAdapter.caps.supports_lookup is False
    assert adapter.fetch_metrics(["1", "2"]) == {}
    with pytest.raises(NotSupported):
        adapter.lookup(OutgoingPost("warta-10", "x"), since=None)  # type: ignore[arg-type]
    assert fake_telegram.requests == []
