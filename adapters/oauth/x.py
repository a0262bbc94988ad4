"""Connecting an X account: OAuth 2.0 Authorization Code with PKCE (S256).

``offline.access`` is what makes X hand out a refresh token; ``media.write`` is needed by the
v2 media upload. URLs are arguments so tests (and a future X domain move) need no code change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from adapters.oauth import AuthorizationRequest
from adapters.oauth import authorization_request as _authorization_request
from adapters.oauth import exchange_code as _exchange_code

AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
TOKEN_URL = "https://api.x.com/2/oauth2/token"
SCOPES = ("tweet.read", "tweet.write", "users.read", "offline.access", "media.write")


def authorization_request(client_id: str, redirect_uri: str, *,
                          scopes: Sequence[str] = SCOPES,
                          authorize_url: str = AUTHORIZE_URL) -> AuthorizationRequest:
    return _authorization_request(client_id, redirect_uri, scopes, authorize_url)


def exchange_code(client_id: str, client_secret: str | None, redirect_uri: str, code: str,
                  code_verifier: str, *, token_url: str = TOKEN_URL, timeout: float = 30.0,
                  now: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Credentials for ``XAdapter``; confidential clients authenticate with HTTP Basic."""
    return _exchange_code("x", client_id=client_id, client_secret=client_secret,
                          redirect_uri=redirect_uri, code=code, code_verifier=code_verifier,
                          token_url=token_url, auth_method="client_secret_basic",
                          timeout=timeout, now=now)
