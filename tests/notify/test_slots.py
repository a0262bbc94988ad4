"""Notifications never take a publication's call slot: an SMTP server that hangs on a reply
(up to ``WARTA_SMTP_TIMEOUT`` for each message) must not hold back a post due now. Deliveries
have their own small pool in the worker; with one shared slot, this post waited for the mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.models import DeliveryStatus, Publication, PublicationStatus, Role
from tests.helpers import approved_post, sandbox_channel
from tests.notify.flows import deliveries, set_prefs, submitted_post
from tests.worker.procs import kill, start_worker, stop, wait_for

pytestmark = pytest.mark.slow


def test_a_hanging_mail_server_does_not_delay_a_due_post(core, clock, test_env, make_user,
                                                         smtp_server, tmp_path: Path):
    clock.frozen = False  # the worker process runs on real time
    env = {**test_env, "WARTA_POLL_SECONDS": "0.2", "WARTA_WORKER_THREADS": "1",
           "WARTA_SMTP_TIMEOUT": "60"}
    op = make_user(Role.OPERATOR)
    ap = make_user(Role.APPROVER, email="penyetuju@dinsos.example.go.id")
    set_prefs(core, ap, {"kind-approval_requested": "email"})
    smtp_server.recorder.hold = True
    submitted_post(core, op)  # its e-mail to the approver will hang

    proc = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: [d.status for d in deliveries(core)] == [DeliveryStatus.SENDING], 30,
                 "the e-mail to hang in the server")
        channel = sandbox_channel(core, op, "dinsos-fb")
        approved_post(core, op, ap, [channel], body="Jadwal posyandu")

        def published() -> bool:
            with core.sessions() as s:
                return s.execute(select(Publication.status)).scalar_one() == \
                    PublicationStatus.PUBLISHED
        wait_for(published, 15, "the due post to go out while the e-mail hangs")
        assert deliveries(core)[0].status == DeliveryStatus.SENDING  # still hanging
    finally:
        smtp_server.recorder.release.set()
        stop(proc)
        kill(proc)
