"""Connect-account helpers against the fake X and Google token endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.base import AdapterContext
from adapters.errors import AuthExpired, RetryLater
from adapters.oauth import google as google_oauth
from adapters.oauth import x as x_oauth
from adapters.x import XAdapter
from adapters.youtube import YouTubeAdapter
from tests.fakes import x as x_fake
from tests.fakes import youtube as yt_fake

REDIRECT = "https://warta.example.go.id/channels/callback"




def test_x_pkce_flow(fx: x_fake.FakeX) -> None:
    req = x_oauth.authorization_request(fx.client_id, REDIRECT)
    query = parse_qs(urlsplit(req.url).query)
    assert req.url.startswith(x_oauth.AUTHORIZE_URL)
    assert query["code_challenge_method"] == ["S256"] and query["state"] == [req.state]
    assert set(query["scope"][0].split()) >= {"offline.access", "media.write", "tweet.write"}
    assert query["redirect_uri"] == [REDIRECT]
    fx.codes["abc"] = query["code_challenge"][0]  # the user approved in X
    creds = x_oauth.exchange_code(fx.client_id, fx.client_secret, REDIRECT, "abc",
                                  req.code_verifier, token_url=f"{fx.url}/2/oauth2/token")
    assert creds["access_token"] == fx.access_token and creds["refresh_token"]
    assert fx.calls("/2/oauth2/token")[0].headers["authorization"].startswith("Basic ")
    ctx = AdapterContext(credentials=creds, base_url=fx.url, timeout=5)
    assert XAdapter(ctx).account().username == x_fake.USER["username"]


def test_x_wrong_verifier_fails(fx: x_fake.FakeX) -> None:
    req = x_oauth.authorization_request(fx.client_id, REDIRECT)
    fx.codes["abc"] = parse_qs(urlsplit(req.url).query)["code_challenge"][0]
    with pytest.raises(AuthExpired) as info:
        x_oauth.exchange_code(fx.client_id, fx.client_secret, REDIRECT, "abc", "wrong" * 10,
                              token_url=f"{fx.url}/2/oauth2/token")
    assert fx.client_secret not in info.value.detail


def test_google_flow(fy: yt_fake.FakeYouTube) -> None:
    req = google_oauth.authorization_request(fy.client_id, REDIRECT)
    query = parse_qs(urlsplit(req.url).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert "https://www.googleapis.com/auth/youtube.upload" in query["scope"][0]
    fy.codes.add("4/code")
    creds = google_oauth.exchange_code(fy.client_id, fy.client_secret, REDIRECT, "4/code",
                                       req.code_verifier, token_url=f"{fy.url}/token")
    assert creds["refresh_token"] == fy.refresh_token
    assert fy.calls("/token")[0].form["client_secret"] == fy.client_secret
    ctx = AdapterContext(credentials=creds, base_url=fy.url, timeout=5,
                         settings={"token_url": f"{fy.url}/token"})
    assert YouTubeAdapter(ctx).account().external_id == yt_fake.CHANNEL["id"]
    with pytest.raises(AuthExpired):
        google_oauth.exchange_code(fy.client_id, fy.client_secret, REDIRECT, "4/code",
                                   req.code_verifier, token_url=f"{fy.url}/token")


# -- token refresh: one helper (adapters.oauth.refresh_access_token) for X and YouTube ----------

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def x_adapter(fx: x_fake.FakeX, saved: list[dict[str, Any]]) -> XAdapter:
    return XAdapter(AdapterContext(
        credentials={"client_id": fx.client_id, "client_secret": fx.client_secret,
                     "access_token": "stale", "refresh_token": fx.refresh_token},
        base_url=fx.url, timeout=5, save_credentials=lambda c: saved.append(dict(c)),
        now=lambda: NOW))


def yt_adapter(fy: yt_fake.FakeYouTube, saved: list[dict[str, Any]]) -> YouTubeAdapter:
    return YouTubeAdapter(AdapterContext(
        credentials={"client_id": fy.client_id, "client_secret": fy.client_secret,
                     "refresh_token": fy.refresh_token},
        base_url=fy.url, timeout=5, settings={"token_url": f"{fy.url}/token"},
        save_credentials=lambda c: saved.append(dict(c)), now=lambda: NOW))


def test_x_refresh_sets_expiry_from_expires_in(fx: x_fake.FakeX) -> None:
    saved: list[dict[str, Any]] = []
    old_refresh = fx.refresh_token
    new = x_adapter(fx, saved).refresh()
    assert new is not None and saved == [new]
    assert new["access_token"] == fx.access_token
    assert new["refresh_token"] == fx.refresh_token != old_refresh  # rotated, single-use
    assert new["expires_at"] == int(NOW.timestamp()) + 7200  # the fake's expires_in
    call = fx.calls("/2/oauth2/token")[0]
    assert call.headers["authorization"].startswith("Basic ")
    assert call.form["grant_type"] == "refresh_token" and call.form["refresh_token"] == old_refresh


def test_x_public_client_refreshes_without_secret(fx: x_fake.FakeX) -> None:
    saved: list[dict[str, Any]] = []
    adapter = XAdapter(AdapterContext(
        credentials={"client_id": fx.client_id, "access_token": "stale",
                     "refresh_token": fx.refresh_token},
        base_url=fx.url, timeout=5, save_credentials=lambda c: saved.append(dict(c)),
        now=lambda: NOW))
    new = adapter.refresh()
    assert new is not None and "client_secret" not in new
    call = fx.calls("/2/oauth2/token")[0]
    assert "authorization" not in call.headers and call.form["client_id"] == fx.client_id


def test_google_refresh_keeps_refresh_token_and_sets_expiry(fy: yt_fake.FakeYouTube) -> None:
    saved: list[dict[str, Any]] = []
    new = yt_adapter(fy, saved).refresh()
    assert new is not None and saved == [new]
    assert new["access_token"] == fy.access_token
    assert new["refresh_token"] == fy.refresh_token  # Google does not rotate it
    assert new["expires_at"] == int(NOW.timestamp()) + 3599
    assert fy.calls("/token")[0].form["client_secret"] == fy.client_secret


@pytest.mark.parametrize("platform", ["x", "youtube"])
def test_unreachable_token_server_is_retry_later(platform: str, fx: x_fake.FakeX,
                                                 fy: yt_fake.FakeYouTube) -> None:
    saved: list[dict[str, Any]] = []
    adapter = x_adapter(fx, saved) if platform == "x" else yt_adapter(fy, saved)
    (fx if platform == "x" else fy).stop()
    with pytest.raises(RetryLater) as info:
        adapter.refresh()
    label = "X" if platform == "x" else "Google"
    assert info.value.code == "network" and info.value.platform == platform
    assert info.value.message_en == f"{label} could not be reached to refresh the token."
    assert saved == []
