"""Four worker processes sharing one PostgreSQL database and a burst of 2,000 publications.

What matters is the outbox: every publication's key appears there exactly once (nothing lost,
nothing twice), and the burst drains within a bounded time. Behind it, the queue: every job was
claimed exactly once (``attempts == 1``) and every publication submitted once (one attempt row,
by one of the four workers) — a job claimed twice whose second run happened to find the post
through ``lookup`` would leave the outbox right and still be a bug. SQLite is for one machine
and one worker; this test runs on PostgreSQL only.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postqueue.models import Job, JobStatus
from publisher.models import Publication, PublicationStatus, PublishAttempt, Role
from tests.helpers import approved_post, outbox_records, sandbox_channel
from tests.worker.procs import start_worker, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]
CHANNELS = 50
POSTS = 40  # × 50 channels = 2,000 publications
WORKERS = 4
DEADLINE = 240  # seconds for the whole burst; a 2-CPU CI runner does it in well under half


def test_four_workers_publish_a_burst_exactly_once(backend, core, clock, test_env, make_user,
                                                   tmp_path: Path):
    # The worker processes run on real time: start the (still frozen) clock there, or every
    # publication would be months late to them and end "missed" instead of published.
    clock.now = datetime.now(UTC)
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    accounts = [f"ch{i:02d}" for i in range(CHANNELS)]
    channels = [sandbox_channel(core, op, a) for a in accounts]
    # The worker processes read the wall clock, so the burst is due on it (the fixture's fixed
    # instant may lie ahead of it: WARTA_TEST_NOW). Frozen there: every job gets the same run_at.
    clock.now = datetime.now(UTC)
    due = clock.now
    for n in range(POSTS):
        approved_post(core, op, ap, channels, body=f"Pengumuman nomor {n}.", when=due)
    with core.sessions() as s:
        pub_ids = set(s.execute(select(Publication.id)).scalars())
        run_ats = set(s.execute(select(Job.run_at).where(Job.kind == "publish")).scalars())
    assert len(pub_ids) == CHANNELS * POSTS and run_ats == {due}

    env = {**test_env, "WARTA_LEASE_SECONDS": "60", "WARTA_POLL_SECONDS": "0.2"}
    workers = [start_worker(env, tmp_path / f"worker{i}.log") for i in range(WORKERS)]
    started = time.monotonic()

    def open_count() -> int:
        with core.sessions() as s:
            return s.execute(select(func.count()).select_from(Publication).where(
                Publication.status.in_([PublicationStatus.QUEUED,
                                        PublicationStatus.PUBLISHING]))).scalar_one()
    try:
        wait_for(lambda: open_count() == 0, DEADLINE, "the burst to drain", interval=0.5)
        elapsed = time.monotonic() - started
    finally:
        for w in workers:
            stop(w)
    assert all(w.returncode is not None for w in workers)

    keys = Counter(r["key"] for a in accounts for r in outbox_records(core, a))
    duplicated = {k: n for k, n in keys.items() if n > 1}
    lost = {f"warta-{i}" for i in pub_ids} - set(keys)
    assert not duplicated, f"published twice: {sorted(duplicated)[:10]}"
    assert not lost, f"never published: {sorted(lost)[:10]}"
    assert set(keys) == {f"warta-{i}" for i in pub_ids}
    with core.sessions() as s:
        by_status = dict(s.execute(select(Publication.status, func.count())
                                   .group_by(Publication.status)).all())
        jobs = dict(s.execute(select(Job.status, func.count()).where(Job.kind == "publish")
                              .group_by(Job.status)).all())
        workers_used = set(s.execute(select(Job.lease_owner)).scalars())  # cleared on finish
    assert by_status == {PublicationStatus.PUBLISHED: CHANNELS * POSTS}
    assert jobs == {JobStatus.DONE: CHANNELS * POSTS}
    assert workers_used == {None}
    with core.sessions() as s:
        job_attempts = Counter(s.execute(select(Job.attempts).where(Job.kind == "publish"))
                               .scalars())
        pub_attempts = Counter(s.execute(select(Publication.attempts)).scalars())
        rows = s.execute(select(PublishAttempt.publication_id, PublishAttempt.outcome,
                                PublishAttempt.worker)).all()
    assert job_attempts == {1: CHANNELS * POSTS}, f"claimed more than once: {job_attempts}"
    assert pub_attempts == {1: CHANNELS * POSTS}, f"submitted more than once: {pub_attempts}"
    per_pub = Counter(r.publication_id for r in rows)
    assert set(per_pub) == pub_ids and set(per_pub.values()) == {1}, "one attempt row each"
    assert {r.outcome for r in rows} == {"published"}
    assert len({r.worker for r in rows}) <= WORKERS and None not in {r.worker for r in rows}
    logs = [(tmp_path / f"worker{i}.log").read_text() for i in range(WORKERS)]
    assert all("started" in log for log in logs), "each process ran a worker"
    assert not any("Traceback" in log for log in logs), logs
    print(f"\n{CHANNELS * POSTS} publications by {WORKERS} workers in {elapsed:.1f}s "
          f"({CHANNELS * POSTS / elapsed:.0f}/s)")
