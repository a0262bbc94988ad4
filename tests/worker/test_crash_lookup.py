"""A real worker process killed mid-publish, then a new worker whose ``lookup`` cannot tell.

Like ``test_crash.py``, but the platform cannot answer the question "is it there?": an error
(503), a timeout escaping the adapter, an ambiguous answer (several candidates) — one channel
each. Whether or not the post reached the platform before the kill, the new worker must leave
every publication ``unconfirmed`` for a person, never post it (again).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from publisher.models import Publication, PublicationStatus, PublishAttempt, Role
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.worker.procs import kill, start_worker, stop, wait_for

pytestmark = pytest.mark.slow
S = PublicationStatus
FAILURES = {"cl-error": "error", "cl-timeout": "timeout", "cl-ambiguous": "ambiguous"}


def _pubs(core, pub_ids):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return {p.id: p for p in s.execute(
            select(Publication).where(Publication.id.in_(pub_ids))).scalars()}


@pytest.mark.parametrize("when_killed", ["after_outbox_write", "before_outbox_write"])
def test_crash_then_a_lookup_that_cannot_tell_leaves_it_unconfirmed(
        core, clock, test_env, make_user, tmp_path: Path, when_killed):  # type: ignore[no-untyped-def]
    clock.frozen = False  # the worker processes run on real time
    env = {**test_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2"}
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    accounts = list(FAILURES)
    channels = [sandbox_channel(core, op, a) for a in accounts]
    delay = "delay_after" if when_killed == "after_outbox_write" else "delay"
    for account in accounts:
        set_control(core, account, **{delay: 120})
    post_id = approved_post(core, op, ap, channels, when=clock())
    with core.sessions() as s:
        pub_ids = list(s.execute(select(Publication.id).where(Publication.post_id == post_id))
                       .scalars())
    expected = 1 if when_killed == "after_outbox_write" else 0

    first = start_worker(env, tmp_path / "worker1.log")
    try:
        wait_for(lambda: {p.status for p in _pubs(core, pub_ids).values()} == {S.PUBLISHING},
                 60, "all three publications to be submitted")
        if expected:
            wait_for(lambda: all(len(outbox_records(core, a)) == 1 for a in accounts), 60,
                     "the three posts to reach the outbox")
    finally:
        kill(first)
    assert {p.status for p in _pubs(core, pub_ids).values()} == {S.PUBLISHING}

    for account, failure in FAILURES.items():
        set_control(core, account, mode="ok", lookup=failure)
    second = start_worker(env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: S.PUBLISHING not in {p.status for p in _pubs(core, pub_ids).values()},
                 90, "the new worker to settle every publication")
    finally:
        stop(second)

    log = (tmp_path / "worker2.log").read_text()[-3000:]
    pubs = _pubs(core, pub_ids)
    assert {p.status for p in pubs.values()} == {S.UNCONFIRMED}, log
    assert {p.error_code for p in pubs.values()} == {"crash_unconfirmed"}
    for account in accounts:
        assert len(outbox_records(core, account)) == expected, f"{account}: posted again"
    with core.sessions() as s:
        tries = s.execute(select(PublishAttempt.publication_id)
                          .where(PublishAttempt.publication_id.in_(pub_ids))).scalars().all()
    assert sorted(tries) == sorted(pub_ids), "one attempt each: the dead worker's, none after"
