"""X and Telegram through the real worker against the fakes: approve → published → metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from publisher.config import load_settings
from publisher.core import Core, build_core
from publisher.models import (
    Channel,
    MetricSnapshot,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import channels as channel_svc
from publisher.worker import run_once
from tests.fakes import telegram as tg_fake
from tests.fakes import x as x_fake
from tests.helpers import approved_post


@pytest.fixture
def fakes() -> Iterator[tuple[x_fake.FakeX, tg_fake.FakeTelegram]]:
    fx, ft = x_fake.FakeX().start(), tg_fake.FakeTelegram().start()
    try:
        yield fx, ft
    finally:
        fx.stop()
        ft.stop()


@pytest.fixture
def core_with_fakes(test_env, clock, fakes) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    fx, ft = fakes
    env = {**test_env, "WARTA_X_API_URL": fx.url, "WARTA_TELEGRAM_API_URL": ft.url}
    core = build_core(load_settings(env, dotenv=None), clock=clock)
    yield core
    core.engine.dispose()


def channel(core: Core, user: User, platform: str, credentials: dict[str, str]) -> int:
    with core.sessions.begin() as s:
        return channel_svc.create_channel(core, s, s.get(User, user.id), platform=platform,
                                          name=platform, credentials=credentials).id


def test_x_and_telegram_published_then_metrics(core_with_fakes, clock, make_user,  # type: ignore[no-untyped-def]
                                               fakes) -> None:
    core = core_with_fakes
    fx, ft = fakes
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    x_id = channel(core, operator, "x", {"client_id": fx.client_id,
                                         "client_secret": fx.client_secret,
                                         "access_token": fx.access_token,
                                         "refresh_token": fx.refresh_token})
    tg_id = channel(core, operator, "telegram", {"bot_token": tg_fake.TOKEN,
                                                 "channel": "@diskominfo_test"})
    # neither says when its token ends (manual X tokens without expires_at; bot tokens never)
    assert channel_row(core, x_id).token_expires_at is None
    assert channel_row(core, tg_id).token_expires_at is None
    approved_post(core, operator, approver, [x_id, tg_id], body="Posyandu buka Sabtu ini.")
    run_once(core)
    with core.sessions() as s:
        pubs = {p.channel_id: p for p in s.execute(select(Publication)).scalars()}
        assert {p.status for p in pubs.values()} == {PublicationStatus.PUBLISHED}
        assert pubs[x_id].permalink.startswith("https://x.com/diskominfo_uji/status/")
        assert pubs[tg_id].permalink.startswith("https://t.me/diskominfo_test/")
    assert len(fx.calls("/2/tweets", "POST")) == 1
    assert len(ft.calls("/sendMessage")) == 1

    clock.advance(hours=1, minutes=1)
    run_once(core)
    run_once(core)
    assert len(fx.calls("/2/tweets", "GET")) == 1  # one batched metrics call
    with core.sessions() as s:
        snaps = s.execute(select(MetricSnapshot)).scalars().all()
        assert [s_.publication_id for s_ in snaps] == [pubs[x_id].id]  # Telegram: none
        assert snaps[0].likes == 0 and snaps[0].reach is None


def channel_row(core: Core, channel_id: int) -> Channel:
    with core.sessions() as s:
        return s.get(Channel, channel_id)


def test_x_refresh_while_publishing_updates_token_expiry(core_with_fakes, clock, make_user,  # type: ignore[no-untyped-def]
                                                         fakes) -> None:
    """X answers 401 (the access token is stale): the worker refreshes once, publishes, and
    the channel keeps the rotated tokens with the new expiry."""
    core = core_with_fakes
    fx, _ft = fakes
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    connected_until = int(clock.now.timestamp()) + 7200
    x_id = channel(core, operator, "x", {"client_id": fx.client_id,
                                         "client_secret": fx.client_secret,
                                         "access_token": fx.access_token,
                                         "refresh_token": fx.refresh_token,
                                         "expires_at": connected_until})
    assert channel_row(core, x_id).token_expires_at == datetime.fromtimestamp(connected_until,
                                                                              UTC)
    fx.access_token = "x-access-7"  # revoked early at X's side: the next call gets a 401
    clock.advance(minutes=30)
    approved_post(core, operator, approver, [x_id], body="Jadwal vaksinasi pekan depan.")
    run_once(core)
    with core.sessions() as s:
        (pub,) = s.execute(select(Publication)).scalars()
        assert pub.status == PublicationStatus.PUBLISHED
    assert len(fx.calls("/2/oauth2/token")) == 1
    ch = channel_row(core, x_id)
    assert ch.token_expires_at == clock.now + timedelta(seconds=7200)
    assert core.box.open(ch.credentials_encrypted)["refresh_token"] == fx.refresh_token


def test_x_refresh_while_collecting_metrics_is_saved(core_with_fakes, clock, make_user,  # type: ignore[no-untyped-def]
                                                     fakes) -> None:
    """The access token ran out before the metrics job: the adapter refreshes first. X's
    refresh tokens are single-use, so the rotated pair (and its expiry) must be stored, or
    the next publish would find a spent refresh token and ask for a reconnect."""
    core = core_with_fakes
    fx, _ft = fakes
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    x_id = channel(core, operator, "x", {"client_id": fx.client_id,
                                         "client_secret": fx.client_secret,
                                         "access_token": fx.access_token,
                                         "refresh_token": fx.refresh_token,
                                         "expires_at": int(clock.now.timestamp()) + 7200})
    approved_post(core, operator, approver, [x_id], body="Pasar murah di alun-alun.")
    run_once(core)
    assert fx.calls("/2/oauth2/token") == []
    clock.advance(hours=2, minutes=30)  # past the access token's expiry and the +1 h metrics
    run_once(core)
    run_once(core)
    assert len(fx.calls("/2/tweets", "GET")) == 1 and len(fx.calls("/2/oauth2/token")) == 1
    ch = channel_row(core, x_id)
    assert ch.token_expires_at == clock.now + timedelta(seconds=7200)
    creds = core.box.open(ch.credentials_encrypted)
    assert (creds["access_token"], creds["refresh_token"]) == (fx.access_token,
                                                               fx.refresh_token)
