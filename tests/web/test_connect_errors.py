"""Connecting an account: optional fields are optional, and an error says which of three things
happened — the platform could not be reached, it refused the credentials, or a field is
malformed — once, beside the field it concerns, with nothing saved."""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import func, select

from adapters import get_adapter_class, platforms
from publisher.models import Channel, Role


def channels_saved(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(Channel)).scalar_one()


@pytest.mark.parametrize("platform", platforms())
def test_no_credential_field_is_required_in_the_html(client, login_as, platform):
    login_as(Role.APPROVER, "a")
    html = client.get(f"/akun/baru?platform={platform}").get_data(as_text=True)
    inputs = re.findall(r"<input[^>]*name=\"cred_[^\"]+\"[^>]*>", html)
    assert len(inputs) == len(get_adapter_class(platform).credential_fields)
    assert not [i for i in inputs if " required" in i]


def test_unreachable_platform_says_try_again_and_saves_nothing(client, core, login_as):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    core.settings = core.settings.with_(extra={**core.settings.extra, "WARTA_X_API_URL": dead})
    login_as(Role.APPROVER, "a")
    r = client.post("/akun/baru", data={"platform": "x", "name": "Dinsos X",
                                        "cred_access_token": "tok", "cred_client_id": "cid"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert html.count("tidak dapat dihubungi") == 1, html  # said once, not also in a flash
    assert "ditolak" not in html and "otomatis" not in html
    assert 'value="cid"' in html  # the non-secret input is kept
    assert channels_saved(core) == 0


def test_refused_credentials_give_the_platforms_reason(client, core, login_as):
    login_as(Role.APPROVER, "a")
    r = client.post("/akun/baru", data={"platform": "sandbox", "name": "Latihan",
                                        "cred_account": "latihan", "cred_token": "expired"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert html.count("Platform menolak kredensial ini") == 1
    assert "Sesi akun sandbox berakhir" in html
    assert channels_saved(core) == 0


def test_a_malformed_2fa_key_is_named_beside_its_field(client, core, login_as):
    login_as(Role.APPROVER, "a")
    r = client.post("/akun/baru", data={"platform": "instagram", "name": "Dinsos IG",
                                        "cred_username": "dinsos", "cred_password": "pw",
                                        "cred_totp_secret": "bukan base32!"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    error = re.search(r'id="cred_totp_secret-error">([^<]+)<', html)
    assert error and "Kunci 2FA tidak valid" in error.group(1)
    assert "media" not in html.lower().split("<main")[1].split("</main>")[0]
    assert channels_saved(core) == 0


@pytest.mark.parametrize(("locale", "shown", "hidden"), [
    ("id", "Nama akun wajib diisi.", "A name is required."),
    ("en", "A name is required.", "Nama akun wajib diisi."),
])
def test_field_messages_speak_one_language(client, core, login_as, locale, shown, hidden):
    from publisher.models import User

    user = login_as(Role.APPROVER, "a")
    with core.sessions.begin() as s:
        s.get(User, user.id).locale = locale
    r = client.post("/akun/baru", data={"platform": "sandbox", "name": "  ",
                                        "cred_account": "latihan", "cred_token": "t"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and shown in html and hidden not in html
