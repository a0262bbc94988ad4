"""A real worker process killed with SIGKILL while the SMTP server holds its reply to DATA:
the server has the message, the worker never heard so. The next worker must not send it
again (at most once), and must say so on the delivery."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from publisher.models import DeliveryStatus, Role
from tests.notify.flows import deliveries, set_prefs, submitted_post
from tests.worker.procs import kill, start_worker, stop, wait_for

pytestmark = pytest.mark.slow


def test_worker_killed_mid_send_sends_nothing_twice(core, clock, test_env, make_user,
                                                    smtp_server, tmp_path: Path):
    clock.frozen = False  # the worker processes run on real time
    env = {**test_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2"}
    op = make_user(Role.OPERATOR)
    ap = make_user(Role.APPROVER, email="penyetuju@dinsos.example.go.id")
    set_prefs(core, ap, {"kind-approval_requested": "email"})
    smtp_server.recorder.hold = True
    submitted_post(core, op)

    first = start_worker(env, tmp_path / "worker1.log")
    try:
        wait_for(lambda: len(smtp_server.messages) == 1, 30,
                 "the server to receive the message (its reply held)")
        assert [d.status for d in deliveries(core)] == [DeliveryStatus.SENDING]
    finally:
        kill(first)
    smtp_server.recorder.release.set()  # the reply goes nowhere: the worker is dead

    second = start_worker(env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: [d.status for d in deliveries(core)] != [DeliveryStatus.SENDING], 30,
                 "the next worker to settle the delivery")
        time.sleep(1.0)  # anything it would send again would be on its way by now
    finally:
        stop(second)
    [after] = deliveries(core)
    log = (tmp_path / "worker2.log").read_text()
    assert after.status == DeliveryStatus.UNCONFIRMED, log[-2000:]
    assert len(smtp_server.messages) == 1
    assert smtp_server.messages[0].message["Message-ID"].strip() == after.message_id
