"""SIGTERM, what ``systemctl stop`` and ``docker stop`` send, stops a worker in order, as Ctrl+C
does: the call in flight finishes and is recorded, and the process exits 0. Python's default
for SIGTERM is to die at once, which left that call to the reconcile path (or to a person, on a
platform without lookup) at every deployment."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.models import Publication, PublicationStatus, Role
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.worker.procs import kill, start_worker, wait_for

pytestmark = pytest.mark.slow


def test_sigterm_lets_the_call_in_flight_finish(core, clock, test_env, make_user,
                                                 tmp_path: Path):
    clock.frozen = False  # the worker process runs on real time
    env = {**test_env, "WARTA_POLL_SECONDS": "0.2", "WARTA_LOG_LEVEL": "INFO"}
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    channel = sandbox_channel(core, op, "dinsos-fb")
    set_control(core, "dinsos-fb", delay_after=3)  # the post is out; the answer takes 3 s
    approved_post(core, op, ap, [channel], body="Jadwal posyandu")

    def status() -> str:
        with core.sessions() as s:
            return s.execute(select(Publication.status)).scalar_one()

    proc = start_worker(env, tmp_path / "worker.log")
    try:
        wait_for(lambda: len(outbox_records(core, "dinsos-fb")) == 1, 30, "the post to go out")
        assert status() == PublicationStatus.PUBLISHING
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        kill(proc)
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert code == 0, log[-2000:]
    assert status() == PublicationStatus.PUBLISHED, log[-2000:]
    assert len(outbox_records(core, "dinsos-fb")) == 1
