"""'Connect with TikTok' and 'Connect with Threads' through the real Flask routes, against the
fake TikTok and the fake Threads: the round trip to a sealed channel in the operator's unit,
the state check, the operator saying no, a refused code and a reconnect."""

from __future__ import annotations

from datetime import timedelta

import pytest

from adapters.oauth import threads as threads_oauth
from adapters.oauth import tiktok as tiktok_oauth
from publisher.models import Channel, ChannelStatus, Role
from tests.fakes.threads import LONG_LIVED
from tests.web.test_oauth_connect import channels, start


@pytest.fixture
def test_env(test_env, ftk, threads_fake):  # type: ignore[no-untyped-def]
    """The shared installation with the TikTok and Threads apps pointed at the fakes."""
    return {**test_env,
            "WARTA_TIKTOK_CLIENT_KEY": ftk.client_key,
            "WARTA_TIKTOK_CLIENT_SECRET": ftk.client_secret,
            "WARTA_TIKTOK_API_URL": ftk.url,
            "WARTA_THREADS_APP_ID": threads_fake.app_id,
            "WARTA_THREADS_APP_SECRET": threads_fake.app_secret,
            "WARTA_THREADS_API_URL": threads_fake.url + "/v1.0",
            "WARTA_THREADS_OAUTH_URL": threads_fake.url}


def token_calls(provider: str, ftk, threads_fake) -> list:  # type: ignore[no-untyped-def]
    if provider == "tiktok":
        return ftk.calls("/v2/oauth/token/")
    return threads_fake.calls(None, "/oauth/access_token")


def test_buttons_for_both_apps(client, login_as):
    login_as(Role.OPERATOR, "a")
    html = client.get("/akun").get_data(as_text=True)
    assert 'action="/akun/sambung/tiktok"' in html and "Sambungkan dengan TikTok" in html
    assert 'action="/akun/sambung/threads"' in html and "Sambungkan dengan Threads" in html


def test_tiktok_round_trip_creates_sealed_channel(client, login_as, core, clock, ftk):
    user = login_as(Role.OPERATOR, "a")
    url, q = start(client, "tiktok")
    assert url.startswith(tiktok_oauth.AUTHORIZE_URL + "?")
    assert q["client_key"] == [ftk.client_key] and q["response_type"] == ["code"]
    assert q["redirect_uri"] == ["http://localhost/akun/sambung/tiktok/kembali"]
    assert set(q["scope"][0].split(",")) >= {"user.info.basic", "video.publish", "video.list"}
    # Login Kit for Web takes no PKCE (only desktop and mobile apps send a code_challenge)
    assert "code_challenge" not in q and ftk.client_secret not in url
    with client.session_transaction() as sess:
        assert sess["warta_oauth"]["state"] == q["state"][0]
    back = f"/akun/sambung/tiktok/kembali?code=good-code&scopes=video.publish&state={q['state'][0]}"
    r = client.get(back)
    assert r.status_code == 302 and r.headers["Location"] == "/akun"
    (token_call,) = ftk.calls("/v2/oauth/token/")
    assert token_call.form["grant_type"] == "authorization_code"
    assert token_call.form["redirect_uri"] == q["redirect_uri"][0]
    (ch,) = channels(core)
    assert (ch.platform, ch.name, ch.unit_id, ch.external_id, ch.username) == (
        "tiktok", ftk.nickname, user.unit_id, ftk.open_id, ftk.username)
    assert ftk.access_token.encode() not in ch.credentials_encrypted
    assert ftk.refresh_token.encode() not in ch.credentials_encrypted
    creds = core.box.open(ch.credentials_encrypted)
    assert (creds["access_token"], creds["refresh_token"]) == (ftk.access_token,
                                                               ftk.refresh_token)
    assert creds["client_key"] == ftk.client_key
    # the refresh token's 365 days are what matter on the health board
    assert ch.token_expires_at == clock.now + timedelta(seconds=31_536_000)
    html = client.get("/akun").get_data(as_text=True)
    assert "Akun tersambung dan terverifikasi." in html and ftk.nickname in html
    for secret in (ftk.access_token, ftk.refresh_token, ftk.client_secret):
        assert secret not in html
    with client.session_transaction() as sess:
        assert "warta_oauth" not in sess
    assert client.get(back).status_code == 400  # the state is single-use
    assert len(channels(core)) == 1


def test_threads_round_trip_creates_sealed_channel(client, login_as, core, clock,
                                                   threads_fake):
    user = login_as(Role.APPROVER, "a")
    url, q = start(client, "threads")
    assert url.startswith(threads_oauth.AUTHORIZE_URL + "?")
    assert q["client_id"] == [threads_fake.app_id] and q["response_type"] == ["code"]
    assert q["redirect_uri"] == ["http://localhost/akun/sambung/threads/kembali"]
    assert {"threads_basic", "threads_content_publish"} <= set(q["scope"][0].split(","))
    assert threads_fake.app_secret not in url
    r = client.get(f"/akun/sambung/threads/kembali?code=good-code&state={q['state'][0]}")
    assert r.status_code == 302 and r.headers["Location"] == "/akun"
    (short,) = threads_fake.calls("POST", "/oauth/access_token")
    assert short.form["redirect_uri"] == q["redirect_uri"][0]
    (long,) = threads_fake.calls("GET", "/access_token")
    assert long.query["grant_type"] == "th_exchange_token"
    (ch,) = channels(core)
    assert (ch.platform, ch.unit_id, ch.external_id, ch.username) == (
        "threads", user.unit_id, threads_fake.threads_user_id, threads_fake.threads_username)
    assert ch.name == "Diskominfo Kota Contoh"
    assert threads_fake.page_token.encode() not in ch.credentials_encrypted
    creds = core.box.open(ch.credentials_encrypted)
    assert creds["access_token"] == threads_fake.page_token  # the 60-day token, not the 1-hour
    assert creds["threads_user_id"] == threads_fake.threads_user_id
    assert ch.token_expires_at == clock.now + timedelta(seconds=LONG_LIVED)
    html = client.get("/akun").get_data(as_text=True)
    assert "Akun tersambung dan terverifikasi." in html
    for secret in (threads_fake.page_token, threads_fake.user_token, threads_fake.app_secret):
        assert secret not in html


@pytest.mark.parametrize("provider", ["tiktok", "threads"])
def test_wrong_state_is_refused_and_saves_nothing(client, login_as, core, ftk, threads_fake,
                                                  provider):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, provider)
    r = client.get(f"/akun/sambung/{provider}/kembali?code=good-code&state=palsu")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Tidak ada yang disimpan" in html and "tidak cocok" in html
    assert channels(core) == [] and token_calls(provider, ftk, threads_fake) == []
    # the state was spent by the refused attempt: the right one no longer works either
    r = client.get(f"/akun/sambung/{provider}/kembali?code=good-code&state={q['state'][0]}")
    assert r.status_code == 400 and channels(core) == []
    # and a callback with no sign-in started at all
    r = client.get(f"/akun/sambung/{provider}/kembali?code=good-code")
    assert r.status_code == 400 and token_calls(provider, ftk, threads_fake) == []


@pytest.mark.parametrize("provider, label", [("tiktok", "TikTok"), ("threads", "Threads")])
def test_access_denied_is_a_clear_message(client, login_as, core, ftk, threads_fake, provider,
                                          label):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, provider)
    r = client.get(f"/akun/sambung/{provider}/kembali?error=access_denied"
                   f"&error_description=The+user+denied&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"Anda tidak mengizinkan Warta memakai akun {label}" in html and "Izinkan" in html
    assert "Traceback" not in html
    assert channels(core) == [] and token_calls(provider, ftk, threads_fake) == []


@pytest.mark.parametrize("provider", ["tiktok", "threads"])
def test_refused_code_is_a_clear_message(client, login_as, core, ftk, threads_fake, provider):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, provider)
    r = client.get(f"/akun/sambung/{provider}/kembali?code=tidak-ada&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "menolak kode masuk" in html
    assert "ulangi penyambungan akun" in html
    assert ftk.client_secret not in html and threads_fake.app_secret not in html
    assert "Traceback" not in html and channels(core) == []


def test_tiktok_unreachable_is_a_clear_message(client, login_as, core, ftk):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "tiktok")
    ftk.fail("token", "proxy-503")
    r = client.get(f"/akun/sambung/tiktok/kembali?code=good-code&state={q['state'][0]}",
                   follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "tidak dapat dihubungi" in html and channels(core) == []


def test_tiktok_reconnect_same_account(client, login_as, core, ftk):
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "tiktok")
    client.get(f"/akun/sambung/tiktok/kembali?code=good-code&state={q['state'][0]}")
    (ch,) = channels(core)
    with core.sessions.begin() as s:
        s.get(Channel, ch.id).status = ChannelStatus.NEEDS_REAUTH
    assert "/akun/sambung/tiktok" in client.get(f"/akun/{ch.id}/sambung-ulang").get_data(
        as_text=True)
    _url, q = start(client, "tiktok", channel=ch.id)
    ftk.codes.add("kode-2")
    r = client.get(f"/akun/sambung/tiktok/kembali?code=kode-2&state={q['state'][0]}")
    assert r.headers["Location"] == "/akun"
    (again,) = channels(core)
    assert again.status == ChannelStatus.ACTIVE
    assert core.box.open(again.credentials_encrypted)["access_token"] == ftk.access_token
