"""Meta OAuth helpers against the fake Graph server."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.errors import AuthExpired
from adapters.oauth.meta import MetaApp, authorize_url, connect


@pytest.fixture(autouse=True)
def _plain_http_fake(monkeypatch):
    """oauthlib refuses plain http; the local fake is http (production is https)."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


def make_app(fake) -> MetaApp:
    return MetaApp(fake.app_id, fake.app_secret, "https://warta.example.go.id/connect/meta",
                   graph_base=fake.url + "/v25.0")


def test_authorize_url_has_scopes_and_state(graph_fake):
    url, state = authorize_url(make_app(graph_fake))
    q = parse_qs(urlsplit(url).query)
    assert url.startswith("https://www.facebook.com/v25.0/dialog/oauth?")
    assert q["client_id"] == [graph_fake.app_id] and q["state"] == [state]
    scopes = q["scope"][0].split()
    assert {"pages_manage_posts", "pages_read_engagement", "instagram_content_publish",
            "instagram_manage_insights"} <= set(scopes)
    assert graph_fake.app_secret not in url


def test_connect_returns_page_and_instagram_credentials(graph_fake):
    accounts = connect(make_app(graph_fake), "good-code")
    fb, insta = accounts
    assert (fb.platform, fb.credentials) == ("facebook", {
        "page_id": graph_fake.page_id, "access_token": graph_fake.page_token})
    assert insta.platform == "instagram_graph" and insta.username == graph_fake.ig_username
    assert insta.credentials["ig_user_id"] == graph_fake.ig_user_id
    exchange = [r for r in graph_fake.calls("GET", "/oauth/access_token")]
    assert exchange[-1].query["grant_type"] == "fb_exchange_token"
    (accounts_call,) = graph_fake.calls("GET", "/me/accounts")
    assert accounts_call.headers["Authorization"] == f"Bearer {graph_fake.long_user_token}"
    assert graph_fake.page_token not in repr(fb)


def test_bad_code_is_auth_error(graph_fake):
    with pytest.raises(AuthExpired) as info:
        connect(make_app(graph_fake), "bad-code")
    assert graph_fake.app_secret not in info.value.detail
