"""X and Telegram through the real worker against the fakes: approve → published → metrics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from publisher.models import MetricSnapshot, Publication, PublicationStatus
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.helpers import approved_post


def test_x_and_telegram_published_then_metrics(xt_core, clock, people, fx, ft) -> None:  # type: ignore[no-untyped-def]
    core, (operator, approver) = xt_core, people
    x_id = e2e.x_channel(core, operator, fx)
    tg_id = e2e.tg_channel(core, operator)
    # neither says when its token ends (manual X tokens without expires_at; bot tokens never)
    assert e2e.channel_row(core, x_id).token_expires_at is None
    assert e2e.channel_row(core, tg_id).token_expires_at is None
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


def test_x_refresh_while_publishing_updates_token_expiry(xt_core, clock, people,  # type: ignore[no-untyped-def]
                                                         fx) -> None:
    """X answers 401 (the access token is stale): the worker refreshes once, publishes, and
    the channel keeps the rotated tokens with the new expiry."""
    core, (operator, approver) = xt_core, people
    connected_until = int(clock.now.timestamp()) + 7200
    x_id = e2e.x_channel(core, operator, fx, expires_at=connected_until)
    assert e2e.channel_row(core, x_id).token_expires_at == datetime.fromtimestamp(
        connected_until, UTC)
    fx.access_token = "x-access-7"  # revoked early at X's side: the next call gets a 401
    clock.advance(minutes=30)
    approved_post(core, operator, approver, [x_id], body="Jadwal vaksinasi pekan depan.")
    run_once(core)
    with core.sessions() as s:
        (pub,) = s.execute(select(Publication)).scalars()
        assert pub.status == PublicationStatus.PUBLISHED
    assert len(fx.calls("/2/oauth2/token")) == 1
    ch = e2e.channel_row(core, x_id)
    assert ch.token_expires_at == clock.now + timedelta(seconds=7200)
    assert core.box.open(ch.credentials_encrypted)["refresh_token"] == fx.refresh_token


def test_x_refresh_while_collecting_metrics_is_saved(xt_core, clock, people, fx) -> None:  # type: ignore[no-untyped-def]
    """The access token ran out before the metrics job: the adapter refreshes first. X's
    refresh tokens are single-use, so the rotated pair (and its expiry) must be stored, or
    the next publish would find a spent refresh token and ask for a reconnect."""
    core, (operator, approver) = xt_core, people
    x_id = e2e.x_channel(core, operator, fx, expires_at=int(clock.now.timestamp()) + 7200)
    approved_post(core, operator, approver, [x_id], body="Pasar murah di alun-alun.")
    run_once(core)
    assert fx.calls("/2/oauth2/token") == []
    clock.advance(hours=2, minutes=30)  # past the access token's expiry and the +1 h metrics
    run_once(core)
    run_once(core)
    assert len(fx.calls("/2/tweets", "GET")) == 1 and len(fx.calls("/2/oauth2/token")) == 1
    ch = e2e.channel_row(core, x_id)
    assert ch.token_expires_at == clock.now + timedelta(seconds=7200)
    creds = core.box.open(ch.credentials_encrypted)
    assert (creds["access_token"], creds["refresh_token"]) == (fx.access_token,
                                                               fx.refresh_token)
