"""Admin events: "no worker is running" (checked outside the worker, sent at once, once per
outage) and "a channel's token expires within 7 days" (once per channel and expiry date)."""

from __future__ import annotations

from datetime import timedelta

from publisher.models import AuditEvent, Channel, Role, WorkerHeartbeat
from publisher.notify.admin import TOKEN_EXPIRING, WORKER_STOPPED, check_tokens, check_workers
from tests.helpers import sandbox_channel
from tests.notify.flows import drain, set_prefs
from web.ui.notifications.feed import notifications_for

ADMIN = "admin@diskominfo.example.go.id"


def _beat(core, worker_id: str, ago: timedelta) -> None:
    with core.sessions.begin() as s:
        hb = s.get(WorkerHeartbeat, worker_id)
        if hb is None:
            hb = WorkerHeartbeat(worker_id=worker_id, host="h", pid=1,
                                 started_at=core.now() - ago)
            s.add(hb)
        hb.last_tick_at = core.now() - ago


def _admin_and_operator(core, make_user, kind: str):
    admin = make_user(Role.ADMIN, None, email=ADMIN)
    op = make_user(Role.OPERATOR, email="operator@dinsos.example.go.id")
    for u in (admin, op):
        set_prefs(core, u, {f"kind-{kind}": "email"})
    return admin, op


def test_a_stopped_worker_is_told_to_admins_at_once_and_once_per_outage(
        core, make_user, smtp_server, clock):
    admin, _op = _admin_and_operator(core, make_user, "worker_stopped")
    _beat(core, "w1", timedelta(seconds=30))
    assert check_workers(core) is None and smtp_server.messages == []  # alive: nothing
    clock.advance(minutes=2)
    assert check_workers(core) is not None
    # Sent by the checker itself, without any worker draining the queue; only to the admin.
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ADMIN]]
    assert smtp_server.messages[0].message["Subject"] == "Tidak ada pekerja yang berjalan"
    clock.advance(minutes=5)
    assert check_workers(core) is None  # the same outage: told once
    drain(core)  # the queued fan-out and send find their work done
    assert len(smtp_server.messages) == 1
    with core.sessions() as s:
        feed = notifications_for(s, s.get(type(admin), admin.id))
        assert [n.event.action for n in feed] == [WORKER_STOPPED]
    # The worker came back, then stopped again: a new outage, a new message.
    _beat(core, "w2", timedelta(seconds=1))
    assert check_workers(core) is None
    clock.advance(minutes=3)
    assert check_workers(core) is not None
    assert len(smtp_server.messages) == 2


def test_a_token_expiring_within_a_week_is_told_once_per_expiry_date(core, make_user,
                                                                    smtp_server):
    admin, op = _admin_and_operator(core, make_user, "token_expiring")
    soon = sandbox_channel(core, op, "soon", name="Instagram Dinsos")
    later = sandbox_channel(core, op, "later", name="Facebook Dinsos")
    with core.sessions.begin() as s:
        s.get(Channel, soon).token_expires_at = core.now() + timedelta(days=3)
        s.get(Channel, later).token_expires_at = core.now() + timedelta(days=10)
    assert check_tokens(core) == [soon]
    drain(core)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ADMIN]]
    assert "Instagram Dinsos" in smtp_server.messages[0].message["Subject"]
    assert check_tokens(core) == []  # the next day's check: already told
    drain(core)
    assert len(smtp_server.messages) == 1
    with core.sessions.begin() as s:  # reconnected, with a token that also runs out soon
        s.get(Channel, soon).token_expires_at = core.now() + timedelta(days=6)
    assert check_tokens(core) == [soon]
    with core.sessions() as s:
        assert s.query(AuditEvent).filter_by(action=TOKEN_EXPIRING).count() == 2


def test_warta_check_tells_the_admins_once_from_cron(core, make_user, smtp_server, test_env,
                                                    monkeypatch):
    """The command runs with the real clock (cron), outside any worker."""
    from datetime import UTC, datetime

    from click.testing import CliRunner

    from web.cli import cli

    _admin_and_operator(core, make_user, "worker_stopped")
    with core.sessions.begin() as s:
        s.add(WorkerHeartbeat(worker_id="w1", host="h", pid=1,
                              started_at=datetime.now(UTC) - timedelta(hours=1),
                              last_tick_at=datetime.now(UTC) - timedelta(minutes=5)))
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    first = runner.invoke(cli, ["check"], catch_exceptions=False)
    assert first.exit_code == 0 and "admin diberi tahu" in first.output
    second = runner.invoke(cli, ["check"], catch_exceptions=False)
    assert second.exit_code == 0 and "tidak ada yang baru" in second.output
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ADMIN]]


def test_each_worker_checks_the_tokens_daily(core):
    from publisher.worker import Worker

    w = Worker(core)
    w.start()
    try:
        job = w._scheduler.get_job("token-expiry")
        assert job is not None and job.trigger.interval == timedelta(hours=24)
    finally:
        w.stop()


def test_the_admins_bell_shows_both_events_and_an_operators_does_not(core, make_user, client,
                                                                   clock, smtp_server):
    admin, op = _admin_and_operator(core, make_user, "token_expiring")
    channel = sandbox_channel(core, op, "soon", name="Instagram Dinsos")
    with core.sessions.begin() as s:
        s.get(Channel, channel).token_expires_at = core.now() + timedelta(days=2)
    _beat(core, "w1", timedelta(minutes=5))
    check_workers(core)
    check_tokens(core)
    for user, shown in ((admin, True), (op, False)):
        with client.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"] = str(user.id), True
        page = client.get("/notifikasi").get_data(as_text=True)
        assert ("Tidak ada pekerja yang berjalan: tidak ada yang terbit" in page) is shown
        assert ("Akses akun kedaluwarsa pada 2026-06-12" in page) is shown
