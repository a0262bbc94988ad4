"""Connecting Facebook Pages and Instagram business accounts through Facebook Login.

Pure functions over ``requests`` (no Flask): the web layer calls ``authorize_url`` to send the
operator to Facebook, then ``connect`` with the returned ``code``. The OAuth part (state,
code exchange) uses requests-oauthlib with its Facebook compliance fix rather than hand-written
OAuth; the Graph-specific steps (long-lived token, ``/me/accounts``) are plain Graph calls.
Base URLs are parameters so tests run against the fake Graph server.

The result is one credentials dict per Page (and per linked Instagram business account), ready
for the ``facebook`` and ``instagram_graph`` adapters. Page tokens obtained from a long-lived
user token do not expire, which is why Warta asks for the exchange.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from requests_oauthlib import OAuth2Session
from requests_oauthlib.compliance_fixes import facebook_compliance_fix

from adapters._graph import GraphClient
from adapters.errors import AuthExpired, safe_detail

GRAPH_BASE = "https://graph.facebook.com/v25.0"
DIALOG_BASE = "https://www.facebook.com/v25.0/dialog/oauth"
#: Permissions for publishing to Pages and Instagram and reading their statistics (§1.1, §2.1).
SCOPES = ("pages_show_list", "pages_manage_posts", "pages_read_engagement",
          "pages_read_user_engagement", "read_insights", "publish_video",
          "business_management", "instagram_basic", "instagram_content_publish",
          "instagram_manage_insights")


@dataclass(frozen=True)
class MetaApp:
    app_id: str
    app_secret: str
    redirect_uri: str
    graph_base: str = GRAPH_BASE
    dialog_base: str = DIALOG_BASE
    scopes: tuple[str, ...] = SCOPES


@dataclass(frozen=True)
class ConnectedAccount:
    """One account the operator can add as a channel."""

    platform: str  # "facebook" or "instagram_graph"
    external_id: str
    name: str
    credentials: dict[str, str] = field(repr=False)
    username: str | None = None


def _session(app: MetaApp, state: str | None = None) -> OAuth2Session:
    return facebook_compliance_fix(OAuth2Session(app.app_id, redirect_uri=app.redirect_uri,
                                                 scope=list(app.scopes), state=state))


def authorize_url(app: MetaApp, state: str | None = None) -> tuple[str, str]:
    """The Facebook Login URL to send the operator to, and the ``state`` to keep in the
    session and compare when Facebook redirects back (CSRF protection)."""
    return _session(app, state).authorization_url(app.dialog_base)


def exchange_code(app: MetaApp, code: str, state: str | None = None,
                  http: requests.Session | None = None, timeout: float = 30) -> str:
    """Trade the redirect's ``code`` for a short-lived user access token."""
    oauth = _session(app, state)
    if http is not None:
        oauth.mount("http://", http.get_adapter("http://"))
        oauth.mount("https://", http.get_adapter("https://"))
    try:
        token = oauth.fetch_token(f"{app.graph_base}/oauth/access_token", code=code,
                                  client_secret=app.app_secret, include_client_id=True,
                                  method="GET", timeout=timeout)
    except Exception as exc:  # oauthlib raises its own error classes for a bad answer
        raise AuthExpired("facebook", "Facebook menolak kode masuk; ulangi penyambungan akun.",
                          "Facebook refused the login code; connect the account again.",
                          code="oauth_code",
                          detail=safe_detail(f"{type(exc).__name__}: {exc}",
                                             [app.app_secret, code])) from None
    return str(token["access_token"])


def long_lived_token(app: MetaApp, user_token: str, http: requests.Session | None = None,
                     timeout: float = 30) -> str:
    """Exchange a short-lived user token for a long-lived one (≈ 60 days).

    The answer's ``expires_in`` is the user token's lifetime, not the Page tokens': those
    listed with a long-lived user token do not expire, so the credentials built from them carry
    no ``expires_at`` and their channels show no token expiry (none is invented)."""
    graph = GraphClient("facebook", app.graph_base, user_token, http or requests.Session(),
                        timeout)
    result = graph.call("GET", "oauth/access_token", params={
        "grant_type": "fb_exchange_token", "client_id": app.app_id,
        "client_secret": app.app_secret, "fb_exchange_token": user_token})
    return str(result["access_token"])


def list_accounts(app: MetaApp, user_token: str, http: requests.Session | None = None,
                  timeout: float = 30) -> list[ConnectedAccount]:
    """The Pages the user manages, each with its Page token, plus each Page's Instagram
    business account (published with the same Page token)."""
    graph = GraphClient("facebook", app.graph_base, user_token, http or requests.Session(),
                        timeout)
    out: list[ConnectedAccount] = []
    params: dict[str, Any] | None = {
        "fields": "id,name,access_token,tasks,instagram_business_account{id,username}",
        "limit": 100}
    path = "me/accounts"
    for _ in range(20):  # pages of 100 Pages each; more is not a real office
        result = graph.call("GET", path, params=params)
        for page in result.get("data", []):
            token = str(page.get("access_token") or "")
            if not token:
                continue
            out.append(ConnectedAccount("facebook", str(page["id"]), str(page.get("name", "")),
                                        {"page_id": str(page["id"]), "access_token": token}))
            igba = page.get("instagram_business_account")
            if isinstance(igba, dict) and igba.get("id"):
                out.append(ConnectedAccount(
                    "instagram_graph", str(igba["id"]),
                    str(igba.get("username") or page.get("name", "")),
                    {"ig_user_id": str(igba["id"]), "access_token": token},
                    igba.get("username")))
        after = (result.get("paging") or {}).get("next")
        if not after:
            break
        path, params = after.replace(app.graph_base, "").lstrip("/"), None
    return out


def connect(app: MetaApp, code: str, state: str | None = None,
            http: requests.Session | None = None) -> list[ConnectedAccount]:
    """The whole callback: code → user token → long-lived token → Pages and IG accounts."""
    short = exchange_code(app, code, state, http)
    return list_accounts(app, long_lived_token(app, short, http), http)
