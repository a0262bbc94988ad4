"""Connecting a TikTok account: OAuth 2.0 (Login Kit for Web) and token refresh with rotation.

TikTok calls the client id ``client_key`` and wants it, with the secret, in the form body of
``POST /v2/oauth/token/`` (platform-apis-2.md §2.1), which generic OAuth clients do not send,
so the two form posts are written out here (no cryptography is involved). The web flow needs
no PKCE (TikTok requires it only for desktop and mobile apps); ``state`` guards the callback.

The access token lives 24 hours and the refresh token 365 days; a refresh may hand out a new
refresh token, so every answer's ``refresh_token`` replaces the old one and the caller saves
the credentials at once. ``expires_at`` and ``refresh_expires_at`` are Unix seconds counted
from the caller's clock, as for the other platforms.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

from adapters.errors import AuthExpired, RetryLater, safe_detail

PLATFORM = "tiktok"
AUTHORIZE_URL = "https://www.tiktok.com/v2/auth/authorize/"
TOKEN_URL = "https://open.tiktokapis.com/v2/oauth/token/"
#: Profile (open id, name), Direct Post, and the video list/query used by lookup and metrics.
SCOPES = ("user.info.basic", "user.info.profile", "video.publish", "video.list")
ACCESS_LIFETIME = 86_400
REFRESH_LIFETIME = 31_536_000


def authorization_url(client_key: str, redirect_uri: str, *, scopes: Sequence[str] = SCOPES,
                      authorize_url: str = AUTHORIZE_URL,
                      state: str | None = None) -> tuple[str, str]:
    """The TikTok sign-in URL and the ``state`` to keep in the session for the callback."""
    state = state or _secrets.token_urlsafe(24)
    query = urlencode({"client_key": client_key, "scope": ",".join(scopes),
                       "response_type": "code", "redirect_uri": redirect_uri, "state": state})
    return f"{authorize_url}?{query}", state


def credentials_from(base: Mapping[str, Any], token: Mapping[str, Any],
                     issued: datetime) -> dict[str, Any]:
    """``base`` updated from a token answer: new access token, the rotated refresh token when
    one came (else the old one stays), both expiries, the granted scopes and the open id."""
    now = int(issued.timestamp())
    new = {**base, "access_token": str(token["access_token"]),
           "expires_at": now + int(token.get("expires_in") or ACCESS_LIFETIME)}
    if token.get("refresh_token"):
        new["refresh_token"] = str(token["refresh_token"])
        new["refresh_expires_at"] = now + int(token.get("refresh_expires_in")
                                              or REFRESH_LIFETIME)
    for name in ("open_id", "scope"):
        if token.get(name):
            new[name] = str(token[name])
    return new


def _post(form: Mapping[str, str], token_url: str, timeout: float,
          http: requests.Session | None, hide: Sequence[str]) -> dict[str, Any] | None:
    """The token answer, None when TikTok refused (``{"error": ...}``); unreachable or a 5xx
    is ``RetryLater``: nothing is wrong with the account then."""
    try:
        resp = (http or requests).post(token_url, data=dict(form), timeout=timeout,
                                       headers={"Cache-Control": "no-cache"})
    except requests.RequestException as exc:
        raise RetryLater(PLATFORM, "TikTok tidak dapat dihubungi untuk memperbarui token.",
                         "TikTok could not be reached to refresh the token.", code="network",
                         detail=safe_detail(str(exc), hide)) from None
    if resp.status_code >= 500 or resp.status_code == 429:
        raise RetryLater(PLATFORM, "Server token TikTok sedang bermasalah; dicoba lagi.",
                         "TikTok's token server is failing; trying again.", code="server_error",
                         detail=safe_detail(resp.text, hide), http_status=resp.status_code)
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict) or not body.get("access_token"):
        return None
    return body


def exchange_code(client_key: str, client_secret: str, redirect_uri: str, code: str, *,
                  token_url: str = TOKEN_URL, timeout: float = 30.0,
                  now: Callable[[], datetime] | None = None,
                  http: requests.Session | None = None) -> dict[str, Any]:
    """Trade the callback's ``code`` for the credentials of ``TikTokAdapter``."""
    hide = [client_secret, code]
    token = _post({"client_key": client_key, "client_secret": client_secret, "code": code,
                   "grant_type": "authorization_code", "redirect_uri": redirect_uri},
                  token_url, timeout, http, hide)
    if token is None:
        raise AuthExpired(PLATFORM, "TikTok menolak kode masuk; ulangi penyambungan akun.",
                          "TikTok refused the sign-in code; connect the account again.",
                          code="oauth_failed")
    issued = (now or (lambda: datetime.now(UTC)))()
    return credentials_from({"client_key": client_key, "client_secret": client_secret},
                            token, issued)


def refresh(creds: Mapping[str, Any], *, token_url: str = TOKEN_URL, timeout: float = 30.0,
            now: datetime, http: requests.Session | None = None) -> dict[str, Any] | None:
    """New credentials from the refresh token (rotated when TikTok sends a new one), or None
    when TikTok refuses it (expired after 365 days, revoked): only reconnecting helps then."""
    hide = [str(creds.get(k) or "") for k in ("client_secret", "refresh_token", "access_token")]
    if not creds.get("refresh_token") or not creds.get("client_key"):
        return None
    token = _post({"client_key": str(creds["client_key"]),
                   "client_secret": str(creds.get("client_secret") or ""),
                   "grant_type": "refresh_token", "refresh_token": str(creds["refresh_token"])},
                  token_url, timeout, http, hide)
    return None if token is None else credentials_from(creds, token, now)
