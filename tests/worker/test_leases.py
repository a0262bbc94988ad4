"""A live worker keeps its leases: a publish slower than the lease is not taken over (and
posted again) by another worker; only a stopped worker's jobs are recovered."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import Publication, PublicationStatus, Role
from publisher.worker import Worker
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control

pytestmark = pytest.mark.slow


def test_slow_publish_on_a_live_worker_is_not_published_twice(test_env, core, clock,
                                                               make_user):  # type: ignore[no-untyped-def]
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ch = sandbox_channel(core, op, "lambat")
    set_control(core, "lambat", mode="ok", delay=8)  # the platform takes 8 s; the lease is 5 s
    clock.frozen = False
    approved_post(core, op, ap, [ch])
    env = {**test_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2"}
    cores = [build_core(load_settings(env, dotenv=None)) for _ in range(2)]
    workers = [Worker(c, worker_id=f"w{i}") for i, c in enumerate(cores)]
    for w in workers:
        w.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with core.sessions() as s:
                status = s.execute(select(Publication.status)).scalar_one()
            if status == PublicationStatus.PUBLISHED:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # a recovery round after the publish, had the lease been lost
    finally:
        for w in workers:
            w.stop()
        for c in cores:
            c.engine.dispose()
    assert status == PublicationStatus.PUBLISHED
    assert len(outbox_records(core, "lambat")) == 1
