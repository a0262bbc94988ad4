# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""Reconnecting a channel never switches it to another account: the platform's ``account()``
must name the channel's own external id (the manual form and the "Connect with …" flow)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, Channel, ChannelStatus, Role
from tests.security.trust_fixtures import app, make_channel  # noqa: F401
from tests.web.test_oauth_connect import channels, start


@pytest.fixture
def test_env(test_env, fx):  # type: ignore[no-untyped-def]
    """The X app pointed at the fake, for the "Connect with X" reconnect."""
    return {**test_env, "WARTA_X_CLIENT_ID": fx.client_id,
            "WARTA_X_CLIENT_SECRET": fx.client_secret, "WARTA_X_API_URL": fx.url}


def _sealed(core, channel_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        ch = s.get(Channel, channel_id)
        return core.box.open(ch.credentials_encrypted), ch


def test_reconnecting_with_another_accounts_credentials_is_refused(client, login_as,
                                                                   make_user, make_channel,
                                                                   core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, account="dinsos-fb")
    with core.sessions.begin() as s:
        s.get(Channel, ch).status = ChannelStatus.NEEDS_REAUTH
    op = login_as(Role.OPERATOR, "a")
    r = client.post(f"/akun/{ch}/sambung-ulang", data={"cred_account": "penipu",
                                                        "cred_token": "baru"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Kredensial ini milik @penipu, saluran ini @dinsos-fb" in page
    assert "sambungkan sebagai saluran baru" in page
    creds, channel = _sealed(core, ch)
    assert creds["account"] == "dinsos-fb" and channel.status == ChannelStatus.NEEDS_REAUTH
    with core.sessions() as s:  # the attempt is in the audit log, although nothing changed
        (event,) = s.execute(select(AuditEvent).where(AuditEvent.object_id == ch,
                                                      AuditEvent.object_type == "channel",
                                                      AuditEvent.action.like("channel.reconnect%"))
                             ).scalars().all()
    assert event.action == "channel.reconnect_refused" and event.actor_id == op.id
    assert event.data["offered_account"] == "penipu"


def test_an_operator_of_the_unit_may_reconnect_the_same_account(client, login_as, make_user,
                                                               make_channel, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, account="dinsos-fb")
    with core.sessions.begin() as s:
        s.get(Channel, ch).status = ChannelStatus.NEEDS_REAUTH
    op = login_as(Role.OPERATOR, "a")
    r = client.post(f"/akun/{ch}/sambung-ulang", data={"cred_account": "dinsos-fb",
                                                        "cred_token": "baru"})
    assert r.status_code == 302
    creds, channel = _sealed(core, ch)
    assert creds["token"] == "baru" and channel.status == ChannelStatus.ACTIVE
    with core.sessions() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "channel.reconnect")
                          ).scalar_one()
        assert event.actor_id == op.id


def test_another_units_user_cannot_reconnect(client, login_as, make_user, make_channel, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, account="dinsos-fb")
    login_as(Role.APPROVER, "b")
    r = client.post(f"/akun/{ch}/sambung-ulang", data={"cred_account": "dinsos-fb",
                                                        "cred_token": "baru"})
    assert r.status_code == 404
    creds, _channel = _sealed(core, ch)
    assert creds["token"] == "x"


def test_another_x_account_is_refused_in_the_connect_with_x_flow(client, login_as, core, fx):  # type: ignore[no-untyped-def]
    login_as(Role.OPERATOR, "a")
    _url, q = start(client, "x")
    fx.codes["kode-1"] = q["code_challenge"][0]
    client.get(f"/akun/sambung/x/kembali?code=kode-1&state={q['state'][0]}")
    (ch,) = channels(core)
    with core.sessions.begin() as s:  # the channel was connected as another X account
        row = s.get(Channel, ch.id)
        row.external_id, row.username = "777", "akun_resmi"
        row.status = ChannelStatus.NEEDS_REAUTH
    before = core.box.open(ch.credentials_encrypted)
    _url, q = start(client, "x", channel=ch.id)
    fx.codes["kode-2"] = q["code_challenge"][0]
    client.get(f"/akun/sambung/x/kembali?code=kode-2&state={q['state'][0]}")
    page = client.get(f"/akun/{ch.id}/sambung-ulang").get_data(as_text=True)
    assert "Kredensial ini milik @diskominfo_uji, saluran ini @akun_resmi" in page
    (again,) = channels(core)
    assert again.status == ChannelStatus.NEEDS_REAUTH
    assert core.box.open(again.credentials_encrypted) == before


def test_a_channel_without_a_stored_account_id_is_judged_by_its_name_then_bound(
        client, login_as, make_user, make_channel, core):
    """An older row (or one written by hand) with no external id must not take any account:
    another username is refused; the same one is accepted and the id is stored from then on."""
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, account="dinsos-fb")
    with core.sessions.begin() as s:
        row = s.get(Channel, ch)
        row.external_id, row.status = None, ChannelStatus.NEEDS_REAUTH
    login_as(Role.OPERATOR, "a")
    r = client.post(f"/akun/{ch}/sambung-ulang", data={"cred_account": "penipu",
                                                        "cred_token": "baru"})
    assert r.status_code == 400
    creds, channel = _sealed(core, ch)
    assert creds["token"] == "x" and channel.external_id is None
    r = client.post(f"/akun/{ch}/sambung-ulang", data={"cred_account": "dinsos-fb",
                                                        "cred_token": "baru"})
    assert r.status_code == 302
    _creds, channel = _sealed(core, ch)
    assert channel.external_id == "dinsos-fb" and channel.status == ChannelStatus.ACTIVE
