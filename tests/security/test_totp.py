# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""The optional TOTP second factor: set up on the profile, asked after the password, one-time
recovery codes (kept hashed), codes not replayable, and WARTA_REQUIRE_TOTP enforcing it for
the chosen roles."""

from __future__ import annotations

import re

import pyotp
import pytest

from publisher.models import Role, User
from tests.security.trust_fixtures import app  # noqa: F401


def _secret(client) -> str:  # type: ignore[no-untyped-def]
    client.post("/profil/dua-langkah", data={"action": "begin"})
    page = client.get("/profil/dua-langkah").get_data(as_text=True)
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)


def _enable(client, clock) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    secret = _secret(client)
    r = client.post("/profil/dua-langkah", data={"action": "confirm",
                                                 "code": pyotp.TOTP(secret).at(clock.now)})
    codes = re.findall(r"<li><code>([0-9a-f]{8}-[0-9a-f]{8})</code></li>",
                       r.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _password_step(client, user):  # type: ignore[no-untyped-def]
    return client.post("/masuk", data={"email": user.email, "password": "rahasia123"})


def test_setting_up_and_signing_in_with_a_code(app, client, login_as, core, clock):
    user = login_as(Role.APPROVER, "a")
    secret, codes = _enable(client, clock)
    with core.sessions() as s:
        row = s.get(User, user.id)
        assert row.totp_enabled_at is not None
        assert secret.encode() not in row.totp_secret_encrypted  # sealed
        assert codes[0] not in str(row.totp_recovery)  # hashed
    fresh = app.test_client()
    r = _password_step(fresh, user)
    assert r.status_code == 302 and r.headers["Location"].endswith("/masuk/kode")
    assert fresh.get("/profil").status_code == 302  # the password alone is not a session
    clock.advance(seconds=60)
    r = fresh.post("/masuk/kode", data={"code": "000000"})
    assert r.status_code == 401
    code = pyotp.TOTP(secret).at(clock.now)
    assert fresh.post("/masuk/kode", data={"code": code}).status_code == 302
    assert fresh.get("/profil").status_code == 200
    # the same code does not work twice
    again = app.test_client()
    _password_step(again, user)
    assert again.post("/masuk/kode", data={"code": code}).status_code == 401


def test_a_recovery_code_works_once(app, client, login_as, clock):
    user = login_as(Role.ADMIN, None)
    _secret_value, codes = _enable(client, clock)
    for expected in (302, 401):
        c = app.test_client()
        _password_step(c, user)
        assert c.post("/masuk/kode", data={"code": codes[3]}).status_code == expected


def test_the_code_step_expires(app, client, login_as, clock):
    user = login_as(Role.APPROVER, "a")
    secret, _codes = _enable(client, clock)
    c = app.test_client()
    _password_step(c, user)
    clock.advance(minutes=6)
    r = c.post("/masuk/kode", data={"code": pyotp.TOTP(secret).at(clock.now)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/masuk")


@pytest.fixture
def test_env(test_env):  # type: ignore[no-untyped-def]
    return {**test_env, "WARTA_REQUIRE_TOTP": "admin,approver"}


def test_required_roles_must_set_it_up_first(client, login_as, make_user, clock):
    login_as(Role.APPROVER, "a")
    r = client.get("/unggahan")
    assert r.status_code == 302 and r.headers["Location"].endswith("/profil/dua-langkah")
    assert client.get("/api/v1/posts").status_code == 401  # the API has its own tokens
    _enable(client, clock)
    assert client.get("/unggahan").status_code == 200
    r = client.post("/profil/dua-langkah", data={"action": "disable", "code": "x"})
    assert "mewajibkan" in r.get_data(as_text=True)


def test_operators_are_not_held_back_when_only_some_roles_require_it(client, login_as):
    login_as(Role.OPERATOR, "a")
    assert client.get("/unggahan").status_code == 200


def test_an_unknown_role_in_the_setting_is_refused(test_env):  # type: ignore[no-untyped-def]
    from publisher.config import SettingsError, load_settings

    with pytest.raises(SettingsError):
        load_settings({**test_env, "WARTA_REQUIRE_TOTP": "admin,boss"})
