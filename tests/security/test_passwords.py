# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""Passwords: at least 12 characters and not easy to guess (zxcvbn), stricter for admins,
wherever a password is set (profile, admin page, CLI, services). Login is throttled per client
address and per account name in the database (shared by every web process), answering 429
with Retry-After and the same answer whether or not the address has an account."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.models import Role, User
from publisher.services import accounts, org, throttle
from publisher.services.errors import Invalid
from tests.security.trust_fixtures import app  # noqa: F401
from web.cli import cli

STRONG = "Lampu-merah-Simpang-7!"


@pytest.mark.parametrize("weak", ["pendek-1A!", "password1234", "rahasia12345",
                                  "qwertyuiop123", "Surabaya1945"])
def test_a_weak_new_password_is_refused_by_the_service(core, make_user, weak):
    user = make_user(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        with pytest.raises(Invalid):
            accounts.change_password(s, s.get(User, user.id), "rahasia123", weak)
        accounts.change_password(s, s.get(User, user.id), "rahasia123", STRONG)


def test_admins_need_a_stronger_password(core, units):
    fair = "bandung-2026"  # score 3: enough for an operator, not for an admin
    from zxcvbn import zxcvbn

    assert zxcvbn(fair)["score"] == 3
    with core.sessions.begin() as s:
        org.create_user(s, email="op1@example.go.id", name="Op", role=Role.OPERATOR,
                        unit=s.merge(units["a"]), password=fair)
        with pytest.raises(Invalid) as exc:
            org.create_user(s, email="adm1@example.go.id", name="Adm", role=Role.ADMIN,
                            unit=None, password=fair)
        assert "password" in exc.value.fields


def test_the_profile_form_refuses_a_weak_password(client, login_as, core):
    user = login_as(Role.OPERATOR, "a")
    r = client.post("/profil", data={"pw-current": "rahasia123", "pw-new": "password1234",
                                     "pw-confirm": "password1234"})
    assert r.status_code == 200
    assert "terlalu mudah ditebak" in r.get_data(as_text=True)
    with core.sessions() as s:
        assert org.check_password(s.get(User, user.id), "rahasia123")


def test_the_admin_page_and_the_cli_refuse_weak_passwords(client, login_as, core, test_env,
                                                          monkeypatch):
    login_as(Role.ADMIN, None)
    client.post("/admin/pengguna", data={"email": "baru@example.go.id", "name": "Baru",
                                         "role": "admin", "password": "admin12345678"})
    with core.sessions() as s:
        assert s.execute(select(User).where(User.email == "baru@example.go.id")
                         ).scalar_one_or_none() is None
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    r = CliRunner().invoke(cli, ["user", "create", "--email", "cli@example.go.id", "--name",
                                 "Cli", "--role", "admin", "--password", "password123"])
    assert r.exit_code == 1 and "12 karakter" in r.output


def _attempt(client, email, password="salah-sekali"):  # type: ignore[no-untyped-def]
    return client.post("/masuk", data={"email": email, "password": password})


def test_login_is_throttled_per_address_with_retry_after(client, make_user, monkeypatch):
    monkeypatch.setattr(throttle, "ADDRESS_LIMIT", 3)
    user = make_user(Role.OPERATOR, "a")
    for i in range(3):
        assert _attempt(client, f"orang{i}@example.go.id").status_code == 401
    r = _attempt(client, user.email, "rahasia123")  # even the right password waits
    assert r.status_code == 429
    assert 0 < int(r.headers["Retry-After"]) <= throttle.WINDOW_SECONDS
    assert "Terlalu banyak percobaan masuk" in r.get_data(as_text=True)
    # another address is not held back
    r = client.post("/masuk", data={"email": user.email, "password": "rahasia123"},
                    environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert r.status_code == 302


def test_login_is_throttled_per_account_name_without_revealing_accounts(client, make_user,
                                                                        monkeypatch, clock):
    monkeypatch.setattr(throttle, "ACCOUNT_LIMIT", 2)
    user = make_user(Role.OPERATOR, "a")
    answers = {}
    for email in (user.email, "tidak.ada@example.go.id"):
        for _ in range(2):
            _attempt(client, email)
        r = client.post("/masuk", data={"email": email, "password": "x"},
                        environ_base={"REMOTE_ADDR": f"10.0.0.{len(answers) + 1}"})
        flash = r.get_data(as_text=True).split('class="flash', 1)[-1].split("</div>", 1)[0]
        answers[email] = (r.status_code, r.headers.get("Retry-After"), flash)
    assert answers[user.email] == answers["tidak.ada@example.go.id"]
    assert answers[user.email][0] == 429
    clock.advance(seconds=throttle.WINDOW_SECONDS)
    assert _attempt(client, user.email, "rahasia123").status_code == 302


def test_the_count_is_shared_by_every_process(core, monkeypatch):
    """Two cores (two web processes) on one database count the same attempts."""
    from publisher.core import build_core

    monkeypatch.setattr(throttle, "ACCOUNT_LIMIT", 3)
    other = build_core(core.settings, clock=core.now)
    try:
        for c in (core, other, core):
            with c.sessions.begin() as s:
                assert throttle.check_login(c, s, "1.2.3.4", "a@b.go.id") is None
        with other.sessions.begin() as s:
            assert throttle.check_login(other, s, "5.6.7.8", "A@B.go.id ") is not None
    finally:
        other.engine.dispose()


def test_ended_windows_are_forgotten(core, clock):
    """Every address that ever tried and every name ever typed would stay a row for ever."""
    from sqlalchemy import func, select

    from publisher.models import LoginThrottle

    with core.sessions.begin() as s:
        for i in range(5):
            throttle.check_login(core, s, f"10.0.0.{i}", f"orang{i}@example.go.id")
    clock.advance(seconds=throttle.WINDOW_SECONDS + 1)
    with core.sessions.begin() as s:
        throttle.check_login(core, s, "10.9.9.9", "baru@example.go.id")
    with core.sessions() as s:
        keys = s.execute(select(func.count()).select_from(LoginThrottle)).scalar_one()
    assert keys == 2  # the one new address and the one new name
