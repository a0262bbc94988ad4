"""A real worker process killed with SIGKILL in the middle of a publish, then a new worker.

The sandbox's test-only ``delay``/``delay_after`` hold the adapter call open so the kill lands
either before the post reached the platform (the outbox) or after it did but before the worker
recorded it. Either way the next worker must end with every publication published exactly once:
lookup finds the post (published, no second post) or clearly does not (published once now).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, Publication, PublicationStatus, PublishAttempt, Role
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.worker.procs import kill, start_worker, stop, wait_for

pytestmark = pytest.mark.slow
S = PublicationStatus
ACCOUNTS = ["dinsos-fb", "dinsos-ig", "dinsos-x"]


def statuses(core, pub_ids):
    with core.sessions() as s:
        return {p.id: p.status for p in s.execute(
            select(Publication).where(Publication.id.in_(pub_ids))).scalars()}


@pytest.mark.parametrize("when_killed", ["after_outbox_write", "before_outbox_write"])
def test_worker_killed_mid_publish(core, clock, test_env, make_user, tmp_path: Path,
                                   when_killed):
    clock.frozen = False  # the worker processes run on real time
    env = {**test_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2",
           "WARTA_SANDBOX_RECHECK_SECONDS": "1",
           "WARTA_LOG_LEVEL": "INFO"}
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    channels = [sandbox_channel(core, op, a) for a in ACCOUNTS]
    for account in ACCOUNTS:
        if when_killed == "after_outbox_write":
            set_control(core, account, delay_after=60)
        else:
            set_control(core, account, delay=60)
    post_id = approved_post(core, op, ap, channels, when=clock())
    with core.sessions() as s:
        pub_ids = list(s.execute(select(Publication.id).where(Publication.post_id == post_id))
                       .scalars())
    assert len(pub_ids) == 3

    first = start_worker(env, tmp_path / "worker1.log")
    try:
        wait_for(lambda: set(statuses(core, pub_ids).values()) == {S.PUBLISHING}, 20,
                 "all three publications to be submitted")
        if when_killed == "after_outbox_write":
            wait_for(lambda: all(len(outbox_records(core, a)) == 1 for a in ACCOUNTS), 20,
                     "the three posts to reach the outbox")
    finally:
        kill(first)
    assert set(statuses(core, pub_ids).values()) == {S.PUBLISHING}, "killed mid-publish"
    expected_in_outbox = 1 if when_killed == "after_outbox_write" else 0
    assert all(len(outbox_records(core, a)) == expected_in_outbox for a in ACCOUNTS)

    for account in ACCOUNTS:
        set_control(core, account, mode="ok")
    second = start_worker(env, tmp_path / "worker2.log")
    try:
        # lease 5 s + recovery every 2 s + a tick: well within 30 s
        wait_for(lambda: set(statuses(core, pub_ids).values()) <= {S.PUBLISHED, S.UNCONFIRMED}
                 and len(set(statuses(core, pub_ids).values())) > 0
                 and S.PUBLISHING not in statuses(core, pub_ids).values(), 30,
                 "the new worker to settle every publication")
    finally:
        stop(second)

    assert set(statuses(core, pub_ids).values()) == {S.PUBLISHED}, (
        (tmp_path / "worker2.log").read_text()[-3000:])
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.id.in_(pub_ids))).scalars().all()
        by_channel = {p.channel_id: p for p in pubs}
        vias = {e.object_id: e.data.get("via") for e in s.execute(
            select(AuditEvent).where(AuditEvent.action == "publication.published")).scalars()}
        attempts = {pid: len(s.execute(select(PublishAttempt).where(
            PublishAttempt.publication_id == pid)).scalars().all()) for pid in pub_ids}
    for account, channel_id in zip(ACCOUNTS, channels, strict=True):
        records = outbox_records(core, account)
        assert len(records) == 1, f"{account}: {len(records)} posts on the platform"
        pub = by_channel[channel_id]
        assert records[0]["key"] == f"warta-{pub.id}" and records[0]["id"] == pub.external_id
    if when_killed == "after_outbox_write":
        assert set(vias.values()) == {"reconciled"}, "lookup found them: no second post"
        assert set(attempts.values()) == {1}
    else:
        assert set(vias.values()) == {"published"}, "lookup found nothing: published once now"
        assert set(attempts.values()) == {2}  # the orphaned attempt and the real one
