"""'Connect with X / Google / Facebook' on the Channels page, against the fake X, Google and
Graph servers: the round trip, the state check, refusals, unit scoping and hidden buttons."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from adapters.oauth import google as google_oauth
from adapters.oauth import meta as meta_oauth
from adapters.oauth import x as x_oauth
from publisher.models import Channel, ChannelStatus, Role, Unit
from tests.fakes import x as x_fake
from tests.fakes import youtube as yt_fake


@pytest.fixture
def test_env(test_env, fx, fy, graph_fake, monkeypatch):  # type: ignore[no-untyped-def]
    """The shared installation, with all three platform apps pointed at the fakes."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the Graph fake is plain http
    graph = graph_fake.url + "/v25.0"
    return {**test_env,
            "WARTA_X_CLIENT_ID": fx.client_id, "WARTA_X_CLIENT_SECRET": fx.client_secret,
            "WARTA_X_API_URL": fx.url,
            "WARTA_YOUTUBE_CLIENT_ID": fy.client_id,
            "WARTA_YOUTUBE_CLIENT_SECRET": fy.client_secret,
            "WARTA_YOUTUBE_API_URL": fy.url, "WARTA_YOUTUBE_TOKEN_URL": f"{fy.url}/token",
            "WARTA_META_APP_ID": graph_fake.app_id, "WARTA_META_APP_SECRET": graph_fake.app_secret,
            "WARTA_FACEBOOK_API_URL": graph, "WARTA_INSTAGRAM_GRAPH_API_URL": graph}


def start(client, provider: str, **form: object) -> tuple[str, dict[str, list[str]]]:  # type: ignore[no-untyped-def]
    r = client.post(f"/akun/sambung/{provider}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    url = r.headers["Location"]
    return url, parse_qs(urlsplit(url).query)


def channels(core) -> list[Channel]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(Channel).order_by(Channel.id)).scalars())


def test_x_round_trip_creates_sealed_channel(client, login_as, core, fx):
    user = login_as(Role.OPERATOR, "a")
    url, q = start(client, "x")
    assert url.startswith(x_oauth.AUTHORIZE_URL + "?")
    assert q["client_id"] == [fx.client_id] and q["response_type"] == ["code"]
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) >= 43
    assert q["redirect_uri"] == ["http://localhost/akun/sambung/x/kembali"]
    assert "offline.access" in q["scope"][0].split()
    assert fx.client_secret not in url
    with client.session_transaction() as sess:
        assert sess["warta_oauth"]["state"] == q["state"][0]
    fx.codes["kode-x"] = q["code_challenge"][0]  # the operator approved at X
    back = f"/akun/sambung/x/kembali?code=kode-x&state={q['state'][0]}"
    r = client.get(back)
    assert r.status_code == 302 and r.headers["Location"] == "/akun"
    (ch,) = channels(core)
    assert (ch.platform, ch.name, ch.unit_id, ch.external_id, ch.username) == (
        "x", x_fake.USER["name"], user.unit_id, x_fake.USER["id"], x_fake.USER["username"])
    assert fx.access_token.encode() not in ch.credentials_encrypted
    creds = core.box.open(ch.credentials_encrypted)
    assert creds["access_token"] == fx.access_token and creds["refresh_token"] == fx.refresh_token
    assert creds["client_id"] == fx.client_id
    html = client.get("/akun").get_data(as_text=True)
    assert "Akun tersambung dan terverifikasi." in html and x_fake.USER["name"] in html
    assert fx.access_token not in html and fx.refresh_token not in html
    with client.session_transaction() as sess:
        assert "warta_oauth" not in sess  # state and verifier are single-use
    assert client.get(back).status_code == 400


def test_google_round_trip_and_public_url(client, app, login_as, core, fy):
    core.settings = core.settings.with_(public_url="https://warta.kabx.go.id")
    login_as(Role.APPROVER, "a")
    url, q = start(client, "google")
    assert url.startswith(google_oauth.AUTHORIZE_URL + "?") and q["client_id"] == [fy.client_id]
    assert q["access_type"] == ["offline"] and q["code_challenge_method"] == ["S256"]
    assert q["redirect_uri"] == ["https://warta.kabx.go.id/akun/sambung/google/kembali"]
    fy.codes.add("4/kode")
    r = client.get(f"/akun/sambung/google/kembali?code=4/kode&state={q['state'][0]}")
    assert r.status_code == 302
    (ch,) = channels(core)
    assert (ch.platform, ch.name, ch.external_id) == ("youtube", yt_fake.CHANNEL["title"],
                                                      yt_fake.CHANNEL["id"])
    assert core.box.open(ch.credentials_encrypted)["refresh_token"] == fy.refresh_token
    token_call = fy.calls("/token")[0]
    assert token_call.form["redirect_uri"] == q["redirect_uri"][0]


def test_wrong_state_is_400_and_saves_nothing(client, login_as, core, fx):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "x")
    fx.codes["kode-x"] = q["code_challenge"][0]
    r = client.get("/akun/sambung/x/kembali?code=kode-x&state=palsu")
    assert r.status_code == 400
    assert "Nothing was saved" not in r.get_data(as_text=True)
    assert "Tidak ada yang disimpan" in r.get_data(as_text=True)
    assert channels(core) == [] and fx.calls("/2/oauth2/token") == []
    # without any sign-in started (e.g. a link from elsewhere)
    r = client.get(f"/akun/sambung/x/kembali?code=kode-x&state={q['state'][0]}")
    assert r.status_code == 400 and channels(core) == []


def test_access_denied_is_a_flash_not_a_channel(client, login_as, core, fy):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "google")
    r = client.get(f"/akun/sambung/google/kembali?error=access_denied&state={q['state'][0]}",
                   follow_redirects=True)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Anda tidak mengizinkan Warta" in html and "Izinkan" in html
    assert channels(core) == [] and fy.calls("/token") == []


def test_refused_code_and_unreachable_platform(client, login_as, core, fx, fy):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "x")  # the code was never issued: X refuses it
    r = client.get(f"/akun/sambung/x/kembali?code=tidak-ada&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Ulangi penyambungan akun" in html
    assert fx.client_secret not in html and "Traceback" not in html
    _url, q = start(client, "google")
    fy.stop()  # Google is unreachable
    r = client.get(f"/akun/sambung/google/kembali?code=4/kode&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "tidak dapat dihubungi" in html
    assert channels(core) == []


def test_meta_picker_creates_chosen_pages_and_instagram(client, login_as, core, graph_fake):
    login_as(Role.OPERATOR, "a")
    url, q = start(client, "meta")
    assert url.startswith(meta_oauth.DIALOG_BASE + "?") and q["client_id"] == [graph_fake.app_id]
    assert q["redirect_uri"] == ["http://localhost/akun/sambung/meta/kembali"]
    assert graph_fake.app_secret not in url
    r = client.get(f"/akun/sambung/meta/kembali?code=good-code&state={q['state'][0]}")
    assert r.status_code == 302 and r.headers["Location"] == "/akun/sambung/meta/pilih"
    with client.session_transaction() as sess:  # the user token waits sealed, never in clear
        assert graph_fake.long_user_token not in str(dict(sess))
    page = client.get("/akun/sambung/meta/pilih").get_data(as_text=True)
    assert graph_fake.page_name in page and graph_fake.ig_username in page
    assert graph_fake.page_token not in page and graph_fake.long_user_token not in page
    assert channels(core) == []
    r = client.post("/akun/sambung/meta/pilih", data={"account": [
        f"facebook:{graph_fake.page_id}", f"instagram_graph:{graph_fake.ig_user_id}"]})
    assert r.status_code == 302
    fb, ig = channels(core)
    assert (fb.platform, fb.name, fb.external_id) == ("facebook", graph_fake.page_name,
                                                      graph_fake.page_id)
    assert core.box.open(fb.credentials_encrypted) == {"page_id": graph_fake.page_id,
                                                       "access_token": graph_fake.page_token}
    assert (ig.platform, ig.external_id) == ("instagram_graph", graph_fake.ig_user_id)
    assert core.box.open(ig.credentials_encrypted)["ig_user_id"] == graph_fake.ig_user_id
    html = client.get("/akun").get_data(as_text=True)
    assert "2 akun tersambung" in html and graph_fake.page_token not in html
    r = client.get("/akun/sambung/meta/pilih", follow_redirects=True)  # used up
    assert "kedaluwarsa" in r.get_data(as_text=True) and len(channels(core)) == 2


def test_other_unit_cannot_see_or_reconnect(client, login_as, core, fx):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "x")
    fx.codes["kode-x"] = q["code_challenge"][0]
    client.get(f"/akun/sambung/x/kembali?code=kode-x&state={q['state'][0]}")
    (ch,) = channels(core)
    login_as(Role.APPROVER, "b")
    assert x_fake.USER["name"] not in client.get("/akun").get_data(as_text=True)
    assert client.post("/akun/sambung/x", data={"channel": ch.id}).status_code == 404


def test_reconnect_with_x_same_account(client, login_as, core, fx):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "x")
    fx.codes["kode-1"] = q["code_challenge"][0]
    client.get(f"/akun/sambung/x/kembali?code=kode-1&state={q['state'][0]}")
    (ch,) = channels(core)
    with core.sessions.begin() as s:
        s.get(Channel, ch.id).status = ChannelStatus.NEEDS_REAUTH
    page = client.get(f"/akun/{ch.id}/sambung-ulang").get_data(as_text=True)
    assert "/akun/sambung/x" in page
    _url, q = start(client, "x", channel=ch.id)
    fx.codes["kode-2"] = q["code_challenge"][0]
    r = client.get(f"/akun/sambung/x/kembali?code=kode-2&state={q['state'][0]}")
    assert r.headers["Location"] == "/akun"
    (again,) = channels(core)
    assert again.status == ChannelStatus.ACTIVE
    assert core.box.open(again.credentials_encrypted)["access_token"] == fx.access_token


def test_admin_chooses_the_unit(client, login_as, make_user, core, units, fx):
    login_as(Role.ADMIN, None)
    assert client.post("/akun/sambung/x").status_code == 302  # no unit: back with a message
    _url, q = start(client, "x", unit=units["b"].id)
    fx.codes["kode-x"] = q["code_challenge"][0]
    client.get(f"/akun/sambung/x/kembali?code=kode-x&state={q['state'][0]}")
    (ch,) = channels(core)
    assert ch.unit_id == units["b"].id


def test_buttons_only_for_configured_apps(client, login_as, core):
    login_as(Role.OPERATOR, "a")
    html = client.get("/akun").get_data(as_text=True)
    for slug, label in (("x", "X"), ("google", "Google"), ("meta", "Facebook")):
        assert f'action="/akun/sambung/{slug}"' in html and f"Sambungkan dengan {label}" in html
    core.settings = dataclasses.replace(core.settings, x_client_id="", x_client_secret="",
                                        meta_app_id="", meta_app_secret="")
    html = client.get("/akun").get_data(as_text=True)
    assert "/akun/sambung/x" not in html and "/akun/sambung/meta" not in html
    assert 'action="/akun/sambung/google"' in html
    assert client.post("/akun/sambung/x").status_code == 404
    core.settings = dataclasses.replace(core.settings, youtube_client_id="",
                                        youtube_client_secret="")
    assert "/akun/sambung/" not in client.get("/akun").get_data(as_text=True)


def test_start_needs_csrf(core, make_user):
    from web.app import create_app

    app = create_app(core=core)  # not TESTING: CSRF on
    client = app.test_client()
    user = make_user(Role.OPERATOR, "a")
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(user.id), True
    assert client.post("/akun/sambung/x").status_code == 400


def test_app_settings_are_read_strictly():
    from publisher.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match="WARTA_META_APP_SECRET"):
        load_settings({"WARTA_META_APP_ID": "555"})
    with pytest.raises(SettingsError, match="WARTA_X_CLIENT_ID"):
        load_settings({"WARTA_X_CLIENT_SECRET": "rahasia"})
    settings = load_settings({"WARTA_X_CLIENT_ID": " x-client ", "WARTA_X_CLIENT_SECRET": "s3cr3t",
                              "WARTA_X_AUTHORIZE_URL": "http://fake/authorize"})
    assert settings.x_client_id == "x-client" and settings.x_client_secret == "s3cr3t"
    assert "s3cr3t" not in repr(settings)
    _base, knobs = settings.platform_settings("x")  # the app never reaches the adapter's knobs
    assert knobs == {"authorize_url": "http://fake/authorize"}


# -- token expiry: stored from the token answer, shown on the health board ---------------------

def connect_x(client, fx, **form: object) -> None:  # type: ignore[no-untyped-def]
    _url, q = start(client, "x", **form)
    fx.codes["kode-x"] = q["code_challenge"][0]
    r = client.get(f"/akun/sambung/x/kembali?code=kode-x&state={q['state'][0]}")
    assert r.status_code == 302 and r.headers["Location"] == "/akun"


def test_connect_stores_token_expiry_from_expires_in(client, login_as, core, clock, fx, fy):
    login_as(Role.OPERATOR, "a")
    connect_x(client, fx)
    _url, q = start(client, "google")
    fy.codes.add("4/kode")
    client.get(f"/akun/sambung/google/kembali?code=4/kode&state={q['state'][0]}")
    x_ch, yt_ch = channels(core)
    assert x_ch.token_expires_at == clock.now + timedelta(seconds=7200)  # X's expires_in
    assert yt_ch.token_expires_at == clock.now + timedelta(seconds=3599)  # Google's
    assert x_ch.token_expires_at.tzinfo is not None


def test_reconnect_updates_token_expiry(client, login_as, core, clock, fx):
    login_as(Role.OPERATOR, "a")
    connect_x(client, fx)
    (ch,) = channels(core)
    first = ch.token_expires_at
    clock.advance(days=3)
    connect_x(client, fx, channel=ch.id)
    (again,) = channels(core)
    assert again.token_expires_at == clock.now + timedelta(seconds=7200) > first


def test_meta_page_tokens_have_no_invented_expiry(client, login_as, core, graph_fake):
    """The long-lived user token expires (the fake says expires_in 5184000, about 60 days),
    but Page tokens listed with it do not: their channels keep token_expires_at None."""
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "meta")
    client.get(f"/akun/sambung/meta/kembali?code=good-code&state={q['state'][0]}")
    client.post("/akun/sambung/meta/pilih", data={"account": [
        f"facebook:{graph_fake.page_id}", f"instagram_graph:{graph_fake.ig_user_id}"]})
    exchange = graph_fake.calls("GET", "/oauth/access_token")
    assert exchange[-1].query["grant_type"] == "fb_exchange_token"
    fb, ig = channels(core)
    assert (fb.token_expires_at, ig.token_expires_at) == (None, None)


def test_health_board_shows_token_expiry_in_the_units_zone(client, login_as, core, clock,
                                                           units, fx):
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = "Asia/Makassar"  # WITA, UTC+8
    clock.now = datetime(2026, 10, 1, 1, 30, tzinfo=UTC)
    login_as(Role.OPERATOR, "a")
    connect_x(client, fx)  # expires 03:30 UTC = 11.30 WITA
    html = client.get("/").get_data(as_text=True)
    board = html[html.index('id="h-health"'):]
    assert "1 Okt 2026 11.30 WITA" in board
    # X renews its access token itself: a past date there is no reason to act
    assert "diperbarui otomatis saat dipakai" in board
    assert fx.access_token not in html and fx.refresh_token not in html
    login_as(Role.ADMIN, None)  # the admin's own zone is WIB: the row keeps its unit's
    board = client.get("/").get_data(as_text=True)
    assert "1 Okt 2026 11.30 WITA" in board[board.index('id="h-health"'):]
