"""What a running worker records for a published post (its group commit,
``batch.record_published_many``, fed by the call slots and ``_Committer``), in-process on both
backends, against what ``run_once`` records one by one (``apply_result``): the same rows.

Found by the mutation run: the group commit is what every real worker uses, and only the
multi-process tests (``-m slow``) reached it; a field it dropped (the permalink on the
attempt, the audit event's author, the metrics schedule) went unnoticed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from postqueue.models import Job, JobStatus
from publisher.core import Core
from publisher.models import (
    AuditEvent,
    Channel,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
)
from publisher.worker import run_once
from publisher.worker.runner import Worker
from tests.helpers import approved_post, outbox_records, sandbox_channel


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER)}


@pytest.fixture
def worker(core: Core) -> Iterator[Worker]:
    w = Worker(core, worker_id="group-commit")
    yield w
    w.stop()


def published(core: Core, post_id: int, account: str) -> dict[str, Any]:
    """Everything recorded about the post's one publication, with what differs by nature
    (ids, the account's name) taken out."""
    with core.sessions() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        (attempt,) = s.execute(select(PublishAttempt).where(
            PublishAttempt.publication_id == pub.id)).scalars()
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.published",
            AuditEvent.object_id == pub.id)).scalar_one()
        channel = s.get(Channel, pub.channel_id)
        job = s.get(Job, pub.job_id)
        assert channel is not None and job is not None
        neutral = {pub.external_id: "<id>", account: "<account>"}

        def n(v: Any) -> Any:
            if isinstance(v, str):
                for a, b in neutral.items():
                    if a:
                        v = v.replace(a, b)
            return v

        return {
            "pub": {"status": pub.status, "external_id": n(pub.external_id),
                    "permalink": n(pub.permalink), "published_at": pub.published_at,
                    "pending_state": pub.pending_state, "error": pub.error,
                    "error_en": pub.error_en, "error_code": pub.error_code,
                    "next_metrics_at": pub.next_metrics_at, "metrics_stage": pub.metrics_stage,
                    "progress": (pub.progress_done, pub.progress_total)},
            "attempt": {"outcome": attempt.outcome, "detail": n(attempt.detail),
                        "ended": attempt.ended_at},
            "event": {"actor_id": event.actor_id, "unit_id": event.unit_id,
                      "object_type": event.object_type, "at": event.at,
                      "data": {k: ("<post>" if k == "post_id" and v == post_id else n(v))
                               for k, v in (event.data or {}).items()}},
            "channel": {"last_published_at": channel.last_published_at,
                        "last_error": channel.last_error},
            "job": {"status": job.status, "lease_owner": job.lease_owner,
                    "finished_at": job.finished_at},
        }


def wait_published(core: Core, post_id: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with core.sessions() as s:
            status = s.execute(select(Publication.status).where(
                Publication.post_id == post_id)).scalar_one()
        if status == PublicationStatus.PUBLISHED:
            return
        time.sleep(0.05)
    raise AssertionError(f"not published within {seconds} s: {status}")


def test_a_running_worker_records_a_publication_as_run_once_does(  # type: ignore[no-untyped-def]
        core, clock, people, worker, units) -> None:
    one = sandbox_channel(core, people["op"], "gc-one")
    many = sandbox_channel(core, people["op"], "gc-many")
    with core.sessions.begin() as s:  # an earlier failure, which a success clears
        for ch in (one, many):
            s.get(Channel, ch).last_error = "Token kedaluwarsa."
    alone = approved_post(core, people["op"], people["ap"], [one])
    run_once(core)
    by_one = published(core, alone, "gc-one")

    together = approved_post(core, people["op"], people["ap"], [many])
    worker.start()
    wait_published(core, together)
    by_worker = published(core, together, "gc-many")
    assert len(outbox_records(core, "gc-many")) == 1

    # the job's owner is the worker's id, not run_once's: compared apart
    assert by_one["job"].pop("lease_owner") is None
    assert by_worker["job"].pop("lease_owner") is None
    assert by_worker == by_one
    # and by hand, what both say (the test clock stands still: every instant is "now")
    now = clock.now
    assert by_worker["pub"] == {
        "status": PublicationStatus.PUBLISHED, "external_id": "<id>",
        "permalink": "sandbox://<account>/<id>", "published_at": now,
        "pending_state": None, "error": None, "error_en": None, "error_code": None,
        # the sandbox reports metrics: the first collection is scheduled, stage 0
        "next_metrics_at": by_worker["pub"]["next_metrics_at"], "metrics_stage": 0,
        "progress": by_worker["pub"]["progress"]}
    assert now < by_worker["pub"]["next_metrics_at"] <= now + timedelta(hours=2)
    done, total = by_worker["pub"]["progress"]
    assert done == total
    assert by_worker["attempt"] == {"outcome": "published", "ended": now,
                                    "detail": "sandbox://<account>/<id>"}
    assert by_worker["event"]["actor_id"] is None
    assert by_worker["event"]["unit_id"] == units["a"].id
    assert by_worker["event"]["at"] == now
    assert by_worker["event"]["data"] == {
        "permalink": "sandbox://<account>/<id>", "external_id": "<id>",
        "post_id": "<post>", "author_id": people["op"].id, "via": "published"}
    assert by_worker["channel"] == {"last_published_at": now, "last_error": None}
    assert by_worker["job"] == {"status": JobStatus.DONE, "finished_at": now}


def test_a_worker_whose_heartbeat_is_not_confirmed_starts_nothing(  # type: ignore[no-untyped-def]
        core, clock, people, worker, monkeypatch) -> None:
    """Others may already count it dead (its lock lost, its heartbeat late): a call it started
    now could meet the same post reconciled by another worker."""
    ch = sandbox_channel(core, people["op"], "gc-stale")
    post_id = approved_post(core, people["op"], people["ap"], [ch])
    monkeypatch.setattr(worker.liveness, "fresh", lambda: False)
    worker.start()
    time.sleep(1.5)  # a tick is 1 s: the loop has looked at least once
    with core.sessions() as s:
        status = s.execute(select(Publication.status).where(
            Publication.post_id == post_id)).scalar_one()
        assert s.execute(select(Job.status).join(
            Publication, Publication.job_id == Job.id).where(
            Publication.post_id == post_id)).scalar_one() == JobStatus.QUEUED
    assert status == PublicationStatus.QUEUED
    assert outbox_records(core, "gc-stale") == []
    monkeypatch.setattr(worker.liveness, "fresh", lambda: True)
    worker._wake.set()
    wait_published(core, post_id)
    assert len(outbox_records(core, "gc-stale")) == 1


def test_a_worker_publishes_every_due_post_once_through_its_slots(  # type: ignore[no-untyped-def]
        test_env, clock, people, units) -> None:
    from publisher.config import load_settings
    from publisher.core import build_core

    core = build_core(load_settings({**test_env, "WARTA_WORKER_THREADS": "2"}), clock=clock)
    w = Worker(core, worker_id="slots")
    try:
        accounts = [f"gc-slot-{i}" for i in range(5)]
        posts = [approved_post(core, people["op"], people["ap"],
                               [sandbox_channel(core, people["op"], a)]) for a in accounts]
        assert w.threads == 2
        w.start()
        for post_id in posts:
            wait_published(core, post_id)
        for a in accounts:
            assert len(outbox_records(core, a)) == 1, a
        with core.sessions() as s:
            attempts = s.execute(select(func.count()).select_from(PublishAttempt)).scalar_one()
            assert attempts == len(posts)  # one call each: nothing claimed twice
            assert s.execute(select(func.count()).select_from(Job).where(
                Job.status != JobStatus.DONE, Job.kind == "publish")).scalar_one() == 0
    finally:
        w.stop()
        core.engine.dispose()
