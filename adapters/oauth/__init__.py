"""Pure OAuth helpers for connecting accounts (no Flask): authorize URL, then code exchange.

The web layer stores ``AuthorizationRequest.state`` and ``code_verifier`` in the session,
redirects to ``url``, and on the callback checks ``state`` and calls ``exchange_code``; the dict
it returns becomes the channel's (encrypted) credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from adapters.errors import AuthExpired, RetryLater, safe_detail


@dataclass(frozen=True)
class AuthorizationRequest:
    url: str
    state: str
    code_verifier: str


def authorization_request(client_id: str, redirect_uri: str, scopes: Sequence[str],
                          authorize_url: str, **extra: str) -> AuthorizationRequest:
    """An authorize URL with PKCE (S256) and a fresh ``state``."""
    verifier = generate_token(64)
    with OAuth2Session(client_id, redirect_uri=redirect_uri, scope=" ".join(scopes),
                       code_challenge_method="S256") as session:
        url, state = session.create_authorization_url(authorize_url, code_verifier=verifier,
                                                      **extra)
    return AuthorizationRequest(url, state, verifier)


def exchange_code(platform: str, *, client_id: str, client_secret: str | None,
                  redirect_uri: str, code: str, code_verifier: str, token_url: str,
                  auth_method: str, timeout: float = 30.0,
                  now: Callable[[], datetime] | None = None) -> dict[str, Any]:
    """Trade the callback's ``code`` for tokens; returns the channel's credentials dict."""
    import requests  # local: only the connect flow needs it here

    with OAuth2Session(client_id, client_secret or None, redirect_uri=redirect_uri,
                       token_endpoint_auth_method=auth_method if client_secret else "none"
                       ) as session:
        try:
            token = session.fetch_token(token_url, grant_type="authorization_code", code=code,
                                        code_verifier=code_verifier, timeout=timeout)
        except requests.RequestException as exc:
            raise RetryLater(platform, "Server otorisasi tidak dapat dihubungi; coba lagi.",
                             "The authorisation server could not be reached; try again.",
                             code="network", detail=safe_detail(str(exc))) from None
        except Exception as exc:  # noqa: BLE001 - Authlib's OAuthError family
            raise AuthExpired(platform, "Otorisasi akun gagal atau dibatalkan. Ulangi "
                              "penyambungan akun.", "Authorising the account failed or was "
                              "cancelled. Connect the account again.", code="oauth_failed",
                              detail=safe_detail(str(exc), [client_secret or ""])) from None
    issued = (now or (lambda: datetime.now(UTC)))().timestamp()
    creds: dict[str, Any] = {"client_id": client_id, "access_token": token["access_token"],
                             "expires_at": int(issued + int(token.get("expires_in") or 3600)),
                             "scope": token.get("scope", "")}
    if client_secret:
        creds["client_secret"] = client_secret
    if token.get("refresh_token"):
        creds["refresh_token"] = token["refresh_token"]
    return creds
