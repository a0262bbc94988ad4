"""A SIGKILLed worker costs seconds, and only what it really had in flight.

* Its accounts resume within seconds (heartbeat every second, dead after 5 s; on PostgreSQL its
  advisory lock is released when its connection dies), not after the lease (300 s by default).
* On a platform without lookup, the publications left ``unconfirmed`` are at most the calls
  that were really in flight: a worker claims one job per free call slot and marks each just
  before its call, never a whole batch ahead.
* A kill during a long upload (its own pool) with short posts queued behind it: the short
  posts went out meanwhile, and after the kill everything ends published exactly once.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from postqueue.models import Job, JobStatus
from publisher.jobs import PUBLISH_UPLOAD
from publisher.models import Publication, PublicationStatus, Role, WorkerHeartbeat
from tests.adapters.worker_e2e import video
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.worker.procs import kill, start_worker, stop, wait_for

pytestmark = pytest.mark.slow
S = PublicationStatus


def _statuses(core) -> Counter:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return Counter(dict(s.execute(select(Publication.status, func.count())
                                      .group_by(Publication.status)).all()))


def _held_by(core, pid: int) -> set[int]:  # type: ignore[no-untyped-def]
    """Ids of the running jobs held by the worker process ``pid`` (ids are host:pid:random)."""
    with core.sessions() as s:
        rows = s.execute(select(Job.id, Job.lease_owner).where(Job.status == JobStatus.RUNNING))
        return {jid for jid, owner in rows if owner and owner.split(":")[-2] == str(pid)}


def _beating(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(WorkerHeartbeat)).scalar_one()


@pytest.mark.postgresql_only
def test_a_killed_workers_accounts_resume_within_seconds(core, clock, test_env, make_user,
                                                         tmp_path: Path):  # type: ignore[no-untyped-def]
    clock.frozen = False
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    accounts = [f"mati{i}" for i in range(8)]
    channels = [sandbox_channel(core, op, a) for a in accounts]
    for a in accounts:
        set_control(core, a, delay=1.5)
    # Default-like: the lease stays 300 s, heartbeat 1 s, dead after 5 s.
    env = {**test_env, "WARTA_WORKER_THREADS": "4", "WARTA_LEASE_SECONDS": "300"}
    first = start_worker(env, tmp_path / "w1.log")
    second = start_worker(env, tmp_path / "w2.log")
    try:
        wait_for(lambda: _beating(core) == 2, 60, "two workers to beat")
        for n in range(4):
            approved_post(core, op, ap, channels, body=f"Kabar {n}", when=clock())
        wait_for(lambda: len(_held_by(core, first.pid)) > 0, 60, "the first worker to hold jobs",
                 interval=0.05)
        held = _held_by(core, first.pid)
        kill(first)
        killed_at = time.monotonic()

        def resumed() -> bool:
            with core.sessions() as s:
                left = s.execute(select(func.count()).select_from(Job).where(
                    Job.id.in_(held), Job.status == JobStatus.RUNNING,
                    Job.lease_owner.like(f"%:{first.pid}:%"))).scalar_one()
            return left == 0
        wait_for(resumed, 30, "the dead worker's jobs to be taken over", interval=0.1)
        took = time.monotonic() - killed_at
        wait_for(lambda: _statuses(core)[S.PUBLISHED] == 32, 90, "every publication",
                 interval=0.5)
    finally:
        kill(first)
        stop(second)
    print(f"\nthe killed worker's {len(held)} jobs were taken over after {took:.1f} s")
    assert took < 20, f"took {took:.1f} s (heartbeat 1 s, dead after 5 s; the lease is 300 s)"
    keys = Counter(r["key"] for a in accounts for r in outbox_records(core, a))
    assert len(keys) == 32 and set(keys.values()) == {1}, "no loss, nothing twice"
    assert "recovered" in (tmp_path / "w2.log").read_text()


def test_after_a_kill_unconfirmed_are_at_most_the_calls_in_flight(core, clock, test_env,
                                                                   make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock.frozen = False
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    accounts = [f"tg{i}" for i in range(10)]
    channels = [sandbox_channel(core, op, a) for a in accounts]
    for a in accounts:  # like Telegram: no lookup; every call takes a minute
        set_control(core, a, delay=60, lookup="unavailable")
    approved_post(core, op, ap, channels, body="Siaran pers", when=clock())
    env = {**test_env, "WARTA_WORKER_THREADS": "3", "WARTA_POLL_SECONDS": "0.2"}
    first = start_worker(env, tmp_path / "w1.log")
    try:
        wait_for(lambda: _statuses(core)[S.PUBLISHING] == 3, 60, "three calls in flight")
        time.sleep(1.0)  # had it claimed more, they would be marked by now
        in_flight = _statuses(core)[S.PUBLISHING]
    finally:
        kill(first)
    assert in_flight == 3, "only one job per free call slot is submitted"
    for a in accounts:
        set_control(core, a, lookup="unavailable")
    second = start_worker(env, tmp_path / "w2.log")
    try:
        wait_for(lambda: _statuses(core)[S.PUBLISHED] + _statuses(core)[S.UNCONFIRMED] == 10,
                 60, "the second worker to settle everything", interval=0.3)
    finally:
        stop(second)
    assert _statuses(core) == Counter({S.PUBLISHED: 7, S.UNCONFIRMED: 3})
    keys = Counter(r["key"] for a in accounts for r in outbox_records(core, a))
    assert set(keys.values()) == {1} and len(keys) == 7


def test_kill_during_a_long_upload_with_short_posts_behind_it(core, clock, test_env, make_user,
                                                              tmp_path: Path):  # type: ignore[no-untyped-def]
    clock.frozen = False
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    tube = sandbox_channel(core, op, "unggah")
    short_accounts = [f"pendek{i}" for i in range(4)]
    shorts = [sandbox_channel(core, op, a) for a in short_accounts]
    set_control(core, "unggah", delay=60)  # a video upload that takes a minute
    for a in short_accounts:
        set_control(core, a, delay=0.3)
    clip = video(core, op)
    approved_post(core, op, ap, [tube], body="Video kegiatan", media=[clip], when=clock())
    with core.sessions() as s:
        assert s.execute(select(Job.kind).where(Job.status == JobStatus.QUEUED)).scalar_one() \
            == PUBLISH_UPLOAD
    for n in range(3):  # queued behind the upload: three rounds of four short posts
        approved_post(core, op, ap, shorts, body=f"Info {n}",
                      when=clock() + timedelta(seconds=n))
    # the reconcile policy looks twice before publishing again; a second apart here
    env = {**test_env, "WARTA_WORKER_THREADS": "1", "WARTA_UPLOAD_THREADS": "1",
           "WARTA_POLL_SECONDS": "0.2", "WARTA_SANDBOX_RECHECK_SECONDS": "1"}
    first = start_worker(env, tmp_path / "w1.log")
    try:
        wait_for(lambda: _statuses(core)[S.PUBLISHED] == 12, 60,
                 "the short posts to go out while the video uploads", interval=0.2)
        assert _statuses(core)[S.PUBLISHING] == 1, "the upload is still running"
    finally:
        kill(first)
    assert len(outbox_records(core, "unggah")) == 0
    set_control(core, "unggah", mode="ok")
    approved_post(core, op, ap, shorts, body="Sesudah", when=clock())
    second = start_worker(env, tmp_path / "w2.log")
    try:
        wait_for(lambda: _statuses(core)[S.PUBLISHED] == 17, 60,
                 "the upload reconciled and published, and the new short posts", interval=0.3)
    finally:
        stop(second)
    assert len(outbox_records(core, "unggah")) == 1
    assert all(len(outbox_records(core, a)) == 4 for a in short_accounts)
