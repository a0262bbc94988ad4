"""What an admin manages from the browser: units (name, zone, the public page), users (create
with field messages that keep the input, reset a password, unlock), and the CLI's twin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.models import AuditEvent, Role, Unit, User
from publisher.services import org
from web.cli import cli


def test_unit_edit_checks_the_zone_and_keeps_the_page(client, core, units, login_as):
    login_as(Role.ADMIN, None)
    r = client.post(f"/admin/unit/{units['a'].id}", data={"name": "Dinas Sosial P3A",
                                                           "timezone": "Asia/Makassar"})
    assert r.status_code == 302
    r = client.post(f"/admin/unit/{units['a'].id}", data={"timezone": "Mars/Base"})
    assert r.status_code == 400 and "Mars/Base" in r.get_data(as_text=True)
    with core.sessions() as s:
        u = s.get(Unit, units["a"].id)
        assert (u.name, u.timezone) == ("Dinas Sosial P3A", "Asia/Makassar")


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.APPROVER])
def test_only_admins_manage_units_and_users(client, core, units, login_as, make_user, role):
    victim = make_user(Role.OPERATOR, "a")
    login_as(role, "a")
    for path, form in [(f"/admin/unit/{units['a'].id}", {"public_report": "1"}),
                       (f"/admin/pengguna/{victim.id}/sandi", {"temporary": "x" * 20}),
                       (f"/admin/pengguna/{victim.id}/buka-kunci", {})]:
        assert client.post(path, data=form).status_code == 403
    assert client.get(f"/admin/unit/{units['a'].id}/pratinjau-publik").status_code == 403
    with core.sessions() as s:
        assert s.get(Unit, units["a"].id).public_report is False
        assert org.check_password(s.get(User, victim.id), "rahasia123")


@pytest.mark.parametrize(("form", "field_text"), [
    ({"email": "taken@dinsos.go.id"}, "sudah ada"),
    ({"email": "bukan-alamat"}, "Alamat surel tidak valid"),
    ({"password": "pendek"}, "Kata sandi minimal"),
])
def test_create_user_names_the_field_and_keeps_the_input(client, core, units, login_as,
                                                         make_user, form, field_text):
    make_user(Role.OPERATOR, "a", email="taken@dinsos.go.id")
    login_as(Role.ADMIN, None)
    full = {"name": "Siti Rahma", "email": "siti@dinsos.go.id", "role": "approver",
            "unit": str(units["a"].id), "password": "kata-sandi-awal-2026", **form}
    r = client.post("/admin/pengguna", data=full)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and field_text in html
    assert 'value="Siti Rahma"' in html and f'value="{full["email"]}"' in html
    assert f'<option value="{units["a"].id}" selected>' in html
    with core.sessions() as s:
        assert s.execute(select(User).where(User.name == "Siti Rahma")).first() is None


def test_reset_password_must_be_changed_at_login(client, app, core, units, login_as, make_user):
    user = make_user(Role.OPERATOR, "a")
    login_as(Role.ADMIN, None)
    r = client.post(f"/admin/pengguna/{user.id}/sandi", data={"temporary": "sementara-2026-x"})
    assert r.status_code == 302
    with core.sessions() as s:
        u = s.get(User, user.id)
        assert u.must_change_password and org.check_password(u, "sementara-2026-x")
    assert client.post(f"/admin/pengguna/{user.id}/sandi",
                       data={"temporary": "abc"}).status_code == 400

    other = app.test_client()  # the user logs in with the temporary password
    r = other.post("/masuk", data={"email": user.email, "password": "sementara-2026-x"})
    assert r.status_code == 302, r.get_data(as_text=True)
    for path in ("/", "/unggahan", "/kalender"):
        r = other.get(path)
        assert r.status_code == 302 and r.location.endswith("/profil"), path
    assert other.get("/profil").status_code == 200
    r = other.post("/profil", data={"pw-current": "sementara-2026-x",
                                    "pw-new": "pilihan-sendiri-2026", "pw-confirm":
                                    "pilihan-sendiri-2026"})
    assert r.status_code == 302
    assert other.get("/").status_code == 200
    with core.sessions() as s:
        assert s.get(User, user.id).must_change_password is False


def test_unlock(client, core, units, login_as, make_user, clock):
    user = make_user(Role.OPERATOR, "a")
    with core.sessions.begin() as s:
        u = s.get(User, user.id)
        u.failed_logins, u.locked_until = 10, clock.now + timedelta(minutes=30)
    login_as(Role.ADMIN, None)
    assert "Buka kunci" in client.get("/admin/pengguna").get_data(as_text=True)
    assert client.post(f"/admin/pengguna/{user.id}/buka-kunci").status_code == 302
    with core.sessions() as s:
        u = s.get(User, user.id)
        assert (u.failed_logins, u.locked_until) == (0, None)
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "user.unlock")).first()


def test_cli_switches_the_public_page(test_env, monkeypatch, core, units):
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    run = CliRunner().invoke
    r = run(cli, ["unit", "public", "bappeda", "on"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    with core.sessions() as s:
        assert s.get(Unit, units["b"].id).public_report is True
    assert run(cli, ["unit", "public", "nope", "on"]).exit_code == 1
    assert run(cli, ["unit", "public", "bappeda", "maybe"]).exit_code == 2
