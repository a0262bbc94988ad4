"""Connecting a YouTube channel: Google OAuth 2.0 (web server flow, offline access, PKCE).

``access_type=offline`` and ``prompt=consent`` make Google return a refresh token every time,
even when the office connected the same Google account before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from adapters.oauth import AuthorizationRequest
from adapters.oauth import authorization_request as _authorization_request
from adapters.oauth import exchange_code as _exchange_code

AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPES = ("https://www.googleapis.com/auth/youtube.upload",
          "https://www.googleapis.com/auth/youtube.readonly")


def authorization_request(client_id: str, redirect_uri: str, *,
                          scopes: Sequence[str] = SCOPES,
                          authorize_url: str = AUTHORIZE_URL) -> AuthorizationRequest:
    return _authorization_request(client_id, redirect_uri, scopes, authorize_url,
                                  access_type="offline", prompt="consent",
                                  include_granted_scopes="true")


def exchange_code(client_id: str, client_secret: str, redirect_uri: str, code: str,
                  code_verifier: str, *, token_url: str = TOKEN_URL, timeout: float = 30.0,
                  now: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Credentials for ``YouTubeAdapter`` (client id/secret + refresh token)."""
    return _exchange_code("youtube", client_id=client_id, client_secret=client_secret,
                          redirect_uri=redirect_uri, code=code, code_verifier=code_verifier,
                          token_url=token_url, auth_method="client_secret_post",
                          timeout=timeout, now=now)
