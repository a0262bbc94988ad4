"""The send job under trouble: a second claim, a broken connection, refused and deferred
recipients, an unreachable server, a login. Each ends with exactly the messages the server
holds, and a delivery record that says what happened."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from postqueue import ClaimedJob, Job
from publisher.config import load_settings
from publisher.core import build_core
from publisher.jobs import NOTIFY_SEND
from publisher.models import AuditEvent, DeliveryStatus, Role, User
from publisher.notify import deliver
from publisher.notify.kinds import UNDELIVERABLE
from publisher.worker.notify import handle_send
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post
from tests.notify.smtp_server import SmtpServer, free_port

D = DeliveryStatus
EMAIL = {"kind-approval_requested": "email"}


def one_pending(core, make_user, address="penyetuju@dinsos.example.go.id"):
    """An approver who wants e-mail, a submitted post, the fan-out done: one delivery whose
    send job is due."""
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER, email=address)
    set_prefs(core, ap, EMAIL)
    submitted_post(core, op)
    # the fan-out only (the send job stays queued)
    [job] = core.queue.claim("t", lease_seconds=60, kinds=["notify_fanout"])
    from publisher.worker.notify import handle_fanout

    handle_fanout(core, job)
    [d] = deliveries(core)
    return ap, d


def fake_claim(delivery_id: int, owner: str, core) -> ClaimedJob:
    now = core.now()
    return ClaimedJob(0, NOTIFY_SEND, {"delivery_id": delivery_id}, 1, now, None, owner,
                      now + timedelta(minutes=5))


def test_two_runs_of_one_delivery_at_once_send_it_once(core, make_user, smtp_server):
    """A second claim of the same delivery (a lease taken over while the first still runs):
    both talk to the server at the same time; the conditional ``sending`` mark lets one
    through to DATA."""
    _ap, d = one_pending(core, make_user)
    smtp_server.recorder.hold = True  # both runs get as far as they can, together
    barrier = threading.Barrier(2)
    results = []

    def run(owner: str) -> None:
        barrier.wait()
        results.append(handle_send(core, fake_claim(d.id, owner, core)))

    threads = [threading.Thread(target=run, args=(f"w{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    import time

    deadline = time.monotonic() + 10
    while not smtp_server.messages and time.monotonic() < deadline:
        time.sleep(0.02)
    smtp_server.recorder.release.set()
    for t in threads:
        t.join(20)
    assert len(smtp_server.messages) == 1
    [after] = deliveries(core)
    assert after.status == D.SENT and after.sent_at is not None


def test_a_connection_broken_after_data_is_unconfirmed_and_never_sent_again(
        core, make_user, smtp_server):
    _ap, d = one_pending(core, make_user)
    smtp_server.recorder.drop_after_data = True  # the server took it; the reply is lost
    drain(core)
    assert len(smtp_server.messages) == 1
    [after] = deliveries(core)
    assert after.status == D.UNCONFIRMED and after.message_id
    assert smtp_server.messages[0].message["Message-ID"].strip() == after.message_id
    smtp_server.recorder.drop_after_data = False
    core.queue.enqueue(NOTIFY_SEND, {"delivery_id": d.id})  # a replayed job
    drain(core)
    assert len(smtp_server.messages) == 1


def test_a_run_that_finds_it_sending_does_not_send_it_again(core, make_user, smtp_server):
    """What a worker that died inside DATA leaves: ``sending``. The next run cannot know
    whether the server took the message, and does not send it again (at most once)."""
    _ap, d = one_pending(core, make_user)
    real = deliver.SmtpNotifier.send

    def dies_inside_data(self, msg, to, begin):  # begin() commits, then the process "dies"
        assert begin()
        raise SystemExit("killed")

    deliver.SmtpNotifier.send = dies_inside_data  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            handle_send(core, fake_claim(d.id, "dead", core))
    finally:
        deliver.SmtpNotifier.send = real  # type: ignore[method-assign]
    assert deliveries(core)[0].status == D.SENDING
    drain(core)  # the queued send job runs: finds "sending"
    assert smtp_server.messages == []
    [after] = deliveries(core)
    assert after.status == D.UNCONFIRMED and "not sent again" in after.error


def bell_lines(core, user_id):
    with core.sessions() as s:
        from web.ui.notifications.feed import notifications_for

        user = s.get(User, user_id)
        return [n.event for n in notifications_for(s, user)
                if n.event.action == UNDELIVERABLE]


def test_a_refused_address_is_dropped_and_the_bell_says_so(core, make_user, smtp_server):
    ap, d = one_pending(core, make_user, "pindah@dinsos.example.go.id")
    smtp_server.recorder.refuse.add("pindah@dinsos.example.go.id")
    drain(core)
    assert smtp_server.messages == []
    [after] = deliveries(core)
    assert after.status == D.DROPPED and "550" in after.error
    [line] = bell_lines(core, ap.id)
    assert line.data["reason"] == "Alamat e-mail ini ditolak server penerima."
    assert line.data["channel"] == "email" and line.data["delivery_id"] == d.id
    assert jobs(core, "notify_fanout")[-1].status == "done"  # the bell line fans out nothing
    with core.sessions() as s:
        others = s.execute(select(AuditEvent).where(AuditEvent.action == UNDELIVERABLE)
                           ).scalars().all()
    assert [e.object_id for e in others] == [ap.id]


def test_the_bell_line_is_only_for_the_recipient(core, make_user, client, smtp_server):
    ap, _d = one_pending(core, make_user, "pindah@dinsos.example.go.id")
    smtp_server.recorder.refuse.add("pindah@dinsos.example.go.id")
    drain(core)
    colleague = make_user(Role.APPROVER)
    assert bell_lines(core, colleague.id) == []
    with client.session_transaction() as sess:
        sess["_user_id"] = str(ap.id)
        sess["_fresh"] = True
    page = client.get("/notifikasi").get_data(as_text=True)
    assert "Notifikasi lewat e-mail tidak dapat sampai kepada Anda" in page
    assert "Alamat e-mail ini ditolak server penerima." in page


def test_a_deferred_recipient_is_tried_again_with_a_backoff(core, clock, make_user,
                                                          smtp_server):
    _ap, d = one_pending(core, make_user)
    smtp_server.recorder.defer.add("penyetuju@dinsos.example.go.id")
    drain(core)
    [after] = deliveries(core)
    assert after.status == D.PENDING and after.attempts == 1 and "451" in after.error
    [job] = jobs(core, NOTIFY_SEND)
    wait = (job.run_at - clock()).total_seconds()
    assert 60 <= wait <= 60 * 1.2 + 1, wait  # a minute, with jitter
    assert drain(core) == 0  # not due yet
    smtp_server.recorder.defer.clear()
    clock.advance(seconds=wait + 1)
    drain(core)
    assert len(smtp_server.messages) == 1
    assert deliveries(core)[0].status == D.SENT and deliveries(core)[0].attempts == 2


def test_deferred_data_is_tried_again_too(core, clock, make_user, smtp_server):
    """A 4xx reply to DATA is a definite "not taken", even after the sending mark."""
    _ap, _d = one_pending(core, make_user)
    smtp_server.recorder.defer_data = 1
    drain(core)
    assert deliveries(core)[0].status == D.PENDING
    clock.advance(minutes=3)
    drain(core)
    assert len(smtp_server.messages) == 1 and deliveries(core)[0].status == D.SENT


def test_the_attempts_run_out_into_failed_with_a_bell_line(core, clock, make_user,
                                                          smtp_server):
    ap, _d = one_pending(core, make_user)
    smtp_server.recorder.defer.add("penyetuju@dinsos.example.go.id")
    for _ in range(core.settings.max_attempts):
        drain(core)
        clock.advance(hours=2)
    [after] = deliveries(core)
    assert after.status == D.FAILED and after.attempts == core.settings.max_attempts
    assert len(bell_lines(core, ap.id)) == 1
    drain(core)
    assert deliveries(core)[0].attempts == core.settings.max_attempts


def test_an_unreachable_server_is_tried_again(core, clock, make_user, test_env):
    dead = {**test_env, "WARTA_SMTP_PORT": str(free_port())}  # nothing listens there
    away = build_core(load_settings(dead), clock=clock)
    try:
        _ap, d = one_pending(away, make_user)
        drain(away)
        [after] = deliveries(away)
        assert after.status == D.PENDING and after.attempts == 1
        assert "could not be reached" in after.error
        with away.sessions() as s:
            job = s.execute(select(Job).where(Job.kind == NOTIFY_SEND)).scalar_one()
        assert job.status == "queued" and job.run_at > clock()
    finally:
        away.engine.dispose()


def test_the_smtp_password_is_used_and_never_logged(core, clock, make_user, test_env,
                                                   caplog):
    server = SmtpServer(user="warta", password="s3cret-Pa55").start()
    try:
        env = {**test_env, "WARTA_SMTP_PORT": str(server.port), "WARTA_SMTP_USER": "warta",
               "WARTA_SMTP_PASSWORD": "s3cret-Pa55"}
        authed = build_core(load_settings(env), clock=clock)
        assert "s3cret" not in repr(authed.settings)
        caplog.set_level(logging.DEBUG)
        one_pending(authed, make_user)
        drain(authed)
        assert server.recorder.logins == [("warta", "s3cret-Pa55")]
        assert len(server.messages) == 1
        # a wrong password: refused, retried later, the message names the settings only
        wrong = build_core(load_settings({**env, "WARTA_SMTP_PASSWORD": "wrong-pass"}),
                           clock=clock)
        one_pending_again = submitted_post(wrong, make_user(Role.OPERATOR))
        assert one_pending_again
        drain(wrong)
        failed = [d for d in deliveries(wrong) if d.status == D.PENDING]
        assert failed and "WARTA_SMTP_PASSWORD" in failed[0].error
        assert "wrong-pass" not in failed[0].error
        assert "s3cret" not in caplog.text and "wrong-pass" not in caplog.text
        wrong.engine.dispose()
        authed.engine.dispose()
    finally:
        server.stop()
