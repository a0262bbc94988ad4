"""Pure OAuth 2.0 helpers (no Flask): authorize URL, code exchange, and token refresh.

The web layer stores ``AuthorizationRequest.state`` and ``code_verifier`` in the session,
redirects to ``url``, and on the callback checks ``state`` and calls ``exchange_code``; the dict
it returns becomes the channel's (encrypted) credentials. The X and YouTube adapters renew their
access tokens with ``refresh_access_token``. Both write ``expires_at`` (Unix seconds) the same
way, from the token answer's ``expires_in`` and the caller's clock, so tests can move time and
the core can show when a token expires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import requests
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
    issued = (now or (lambda: datetime.now(UTC)))()
    base: dict[str, Any] = {"client_id": client_id}
    if client_secret:
        base["client_secret"] = client_secret
    creds = with_token(base, token, issued=issued, default_lifetime=3600)
    creds["scope"] = token.get("scope", "")
    return creds


def with_token(creds: Mapping[str, Any], token: Mapping[str, Any], *, issued: datetime,
               default_lifetime: int) -> dict[str, Any]:
    """``creds`` updated from a token endpoint's answer: the new access token, the new refresh
    token when the server rotated it (else the old one stays), and ``expires_at`` from
    ``expires_in`` counted from ``issued``. ``default_lifetime`` is the platform's documented
    lifetime, used only when the answer leaves ``expires_in`` out."""
    new = {**creds, "access_token": token["access_token"],
           "expires_at": int(issued.timestamp()
                             + int(token.get("expires_in") or default_lifetime))}
    if token.get("refresh_token"):
        new["refresh_token"] = token["refresh_token"]
    return new


def refresh_access_token(platform: str, label: str, creds: Mapping[str, Any], *,
                         token_url: str, auth_method: str, timeout: float, now: datetime,
                         default_lifetime: int, secrets: Sequence[str]) -> dict[str, Any] | None:
    """Trade ``creds["refresh_token"]`` for a new access token (``grant_type=refresh_token``).

    Returns the new credentials (the caller saves them at once: X's refresh tokens are
    single-use), or None when the token server refuses (``invalid_grant``, a deleted client):
    only a person reconnecting the account helps then. A token server that cannot be reached
    is ``RetryLater``: nothing is wrong with the account. ``label`` names the token server in
    the operator's message ("X", "Google").
    """
    session = OAuth2Session(creds.get("client_id"), creds.get("client_secret") or None,
                            token_endpoint_auth_method=auth_method)
    try:
        token = session.refresh_token(token_url, refresh_token=creds.get("refresh_token"),
                                      timeout=timeout)
    except requests.RequestException as exc:
        raise RetryLater(platform, f"{label} tidak dapat dihubungi untuk memperbarui token.",
                         f"{label} could not be reached to refresh the token.", code="network",
                         detail=safe_detail(str(exc), secrets)) from None
    except Exception:  # noqa: BLE001 - Authlib's OAuthError: invalid_grant, invalid_client
        return None
    finally:
        session.close()
    # Our clock, not Authlib's wall-clock expires_at, so tests can move time.
    return with_token(creds, token, issued=now, default_lifetime=default_lifetime)
