"""Connecting a Threads account: Threads OAuth, then the 60-day long-lived token.

Threads has its own app id and secret inside the Meta app (not the Facebook ones), its own
authorize page and unversioned token endpoints (platform-apis-2.md §3.2): the code becomes a
one-hour token (``POST /oauth/access_token``), which is exchanged server-side for a 60-day one
(``GET /access_token?grant_type=th_exchange_token``). The adapter renews it with
``th_refresh_token`` before the 60 days run out. Plain Graph calls through ``GraphClient``, so
errors are classified like every other Meta answer.
"""

from __future__ import annotations

import secrets as _secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

from adapters._graph import GraphClient
from adapters.errors import AdapterError, AuthExpired

AUTHORIZE_URL = "https://threads.net/oauth/authorize"
OAUTH_BASE = "https://graph.threads.net"
SCOPES = ("threads_basic", "threads_content_publish", "threads_manage_insights")
LONG_LIVED = 5_184_000


def authorization_url(app_id: str, redirect_uri: str, *, scopes: Sequence[str] = SCOPES,
                      authorize_url: str = AUTHORIZE_URL,
                      state: str | None = None) -> tuple[str, str]:
    state = state or _secrets.token_urlsafe(24)
    query = urlencode({"client_id": app_id, "redirect_uri": redirect_uri,
                       "scope": ",".join(scopes), "response_type": "code", "state": state})
    return f"{authorize_url}?{query}", state


def exchange_code(app_id: str, app_secret: str, redirect_uri: str, code: str, *,
                  oauth_base: str = OAUTH_BASE, timeout: float = 30.0,
                  now: Callable[[], datetime] | None = None,
                  http: requests.Session | None = None) -> dict[str, Any]:
    """The credentials of ``ThreadsAdapter``: user id, long-lived token, ``expires_at``."""
    code = code.removesuffix("#_")  # Threads appends "#_" to the code in the redirect
    session = http or requests.Session()
    anon = GraphClient("threads", oauth_base, "", session, timeout)
    try:
        short = anon.call("POST", "oauth/access_token", data={
            "client_id": app_id, "client_secret": app_secret, "code": code,
            "grant_type": "authorization_code", "redirect_uri": redirect_uri})
        graph = GraphClient("threads", oauth_base, str(short["access_token"]), session, timeout)
        long = graph.call("GET", "access_token", params={
            "grant_type": "th_exchange_token", "client_secret": app_secret,
            "access_token": str(short["access_token"])})
    except (AuthExpired, KeyError, TypeError) as exc:
        raise AuthExpired("threads", "Threads menolak kode masuk; ulangi penyambungan akun.",
                          "Threads refused the sign-in code; connect the account again.",
                          code="oauth_failed") from (exc if isinstance(exc, AdapterError)
                                                     else None)
    except AdapterError as exc:
        if exc.kind == "rejected":
            raise AuthExpired("threads", "Threads menolak kode masuk; ulangi penyambungan "
                              "akun.", "Threads refused the sign-in code; connect the account "
                              "again.", code="oauth_failed") from exc
        raise
    issued = (now or (lambda: datetime.now(UTC)))()
    return {"threads_user_id": str(short.get("user_id") or ""),
            "access_token": str(long["access_token"]),
            "expires_at": int(issued.timestamp()) + int(long.get("expires_in") or LONG_LIVED),
            "refreshed_at": int(issued.timestamp())}
