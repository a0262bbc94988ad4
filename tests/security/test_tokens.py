# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""API tokens can be listed and revoked (profile for one's own, admin for everyone's, the
CLI), may expire, and show when they were last used."""

from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.models import ApiToken, AuditEvent, Role, User
from publisher.services import org
from tests.security.trust_fixtures import app  # noqa: F401
from web.cli import cli


def _token(core, user, **kw):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return org.create_token(s, s.get(User, user.id), kw.pop("name", "skrip"), **kw)


def _row(core, name):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(ApiToken).where(ApiToken.name == name)).unique().scalar_one()


def _me(client, token):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/posts", headers={"Authorization": f"Bearer {token}"}).status_code


def test_own_tokens_are_listed_with_last_use_and_revoked_on_the_profile(client, login_as,
                                                                       make_user, core, clock):
    user = login_as(Role.OPERATOR, "a")
    other = make_user(Role.OPERATOR, "a")
    mine = _token(core, user, name="skrip-saya")
    theirs = _token(core, other, name="skrip-orang-lain")
    page = client.get("/profil").get_data(as_text=True)
    assert "skrip-saya" in page and "skrip-orang-lain" not in page
    assert "Belum pernah" in page  # never used yet
    clock.advance(minutes=5)
    assert _me(client, mine) == 200
    assert _row(core, "skrip-saya").last_used_at == clock.now
    assert "Belum pernah" not in client.get("/profil").get_data(as_text=True).split(
        'id="tokens"')[1].split("skrip-saya")[1].split("</tr>")[0]
    theirs_id = _row(core, "skrip-orang-lain").id
    assert client.post(f"/profil/token/{theirs_id}/cabut").status_code == 404
    assert _me(client, theirs) == 200
    mine_id = _row(core, "skrip-saya").id
    assert client.post(f"/profil/token/{mine_id}/cabut").status_code == 302
    assert _me(client, mine) == 401
    row = _row(core, "skrip-saya")
    assert row.revoked and row.revoked_at == clock.now
    with core.sessions() as s:
        assert s.execute(select(AuditEvent).where(AuditEvent.action == "token.revoke")
                         ).scalar_one().actor_id == user.id


def test_an_admin_lists_and_revokes_everyones_tokens(client, login_as, make_user, core):
    op = make_user(Role.OPERATOR, "b")
    tok = _token(core, op, name="integrasi-bappeda")
    login_as(Role.ADMIN, None)
    page = client.get("/admin/token").get_data(as_text=True)
    assert "integrasi-bappeda" in page and op.email in page
    assert client.post(f"/admin/token/{_row(core, 'integrasi-bappeda').id}/cabut"
                       ).status_code == 302
    assert _me(client, tok) == 401


def test_an_operator_cannot_open_the_admin_token_list(client, login_as):
    login_as(Role.OPERATOR, "a")
    assert client.get("/admin/token").status_code == 403


def test_an_expired_token_stops_working(client, make_user, core, clock):
    user = make_user(Role.OPERATOR, "a")
    tok = _token(core, user, name="sementara", expires_at=clock.now + timedelta(days=1))
    assert _me(client, tok) == 200
    clock.advance(days=1)
    assert _me(client, tok) == 401


@pytest.fixture
def warta(test_env, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_the_cli_lists_and_revokes(warta, make_user, core, client):
    user = make_user(Role.OPERATOR, "a")
    r = warta("token", "create", user.email, "--name", "dari-cli", "--expires-days", "30")
    assert r.exit_code == 0, r.output
    tok = r.output.strip().splitlines()[-1]
    r = warta("token", "list", user.email)
    assert r.exit_code == 0 and "dari-cli" in r.output and "active" in r.output
    assert tok not in r.output
    row = _row(core, "dari-cli")
    assert row.expires_at is not None
    r = warta("token", "revoke", str(row.id))
    assert r.exit_code == 0, r.output
    assert _me(client, tok) == 401
    assert "revoked" in warta("token", "list").output
    r = warta("token", "revoke", str(row.id))
    assert r.exit_code == 1 and "sudah dicabut" in r.output
    r = warta("token", "revoke", "999999")
    assert r.exit_code == 1
