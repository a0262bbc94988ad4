"""Publishing a burst as batches: the same steps as ``publish.py``, with the database work of
many publications done in a handful of statements.

A regional government schedules dozens of posts for the same minute (an announcement to every
unit's accounts at 09.00). One publication costs about a dozen short statements; at that volume
their Python and driver overhead, not PostgreSQL, limits throughput. A batch (distinct
channels, claimed together) is read in three queries, marked submitted in one transaction,
its platform calls run concurrently, and its published results are recorded — with the jobs
completed — in one transaction. The safety rules do not change: "submitted" is committed
before any call, a crash leaves submitted publications for ``lookup`` reconciliation, and
anything unusual (a pause, a changed post, an error from the platform) takes the same
steps as the one-by-one handler: both decide through ``publish.decide``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, insert, null, text, tuple_, update

from adapters.base import OutgoingPost, Published
from postqueue import ClaimedJob, Job, JobStatus
from postqueue.queue import complete_many_in
from publisher.core import Core
from publisher.models import (
    AuditEvent,
    Channel,
    Publication,
    PublicationStatus,
    PublishAttempt,
)
from publisher.notify import hook as notify_hook
from publisher.services import first_comment
from publisher.services.pauses import current_pauses
from publisher.worker.outcome import log_outcome, next_metrics_time
from publisher.worker.publish import _Call, call_platform, decide, settle_outcome
from publisher.worker.results import Done, JobResult
from publisher.worker.snapshot import PubSnapshot, load_snapshots

log = logging.getLogger(__name__)
S = PublicationStatus
Ready = tuple[ClaimedJob, PubSnapshot, _Call, OutgoingPost]


def run_publish_batch(core: Core, jobs: list[ClaimedJob], calls: Executor,
                      run_step: Callable[[ClaimedJob, Callable[[], JobResult]], None],
                      settle: Callable[[ClaimedJob, JobResult], None]) -> None:
    """Publish a batch of claimed publish jobs (at most one per channel), all calls at once.

    ``run_step(job, step)`` runs a step decided for one job (settle, wait, poll, reconcile)
    as the ordinary handler would, crash handling included; ``settle(job, result)``
    applies a handler's result to the queue; ``calls`` runs the platform calls concurrently.
    The worker itself does not wait for a whole batch: it claims one job per free call slot,
    runs the stages below per claim and records each result as its call returns
    (``runner.Worker``); this composition is for tests and synchronous use.
    """
    ready = prepare(core, jobs, run_step)
    attempts = mark_submitted(core, ready)
    for job, snap, _call, _out in ready:
        if snap.info.pub_id not in attempts:  # cancelled meanwhile: the conditional update said no
            settle(job, Done())
    submitted = [r for r in ready if r[1].info.pub_id in attempts]
    futures = [(r, calls.submit(call_platform, r[2], r[3], r[1].info.pub_id)) for r in submitted]
    outcomes = [(r, future.result()) for r, future in futures]
    # What is live on the platform is recorded first: a failure while settling another
    # publication must not leave these "publishing" until a lease expires.
    published = [(r, o) for r, o in outcomes if isinstance(o, Published)]
    if published:
        record_published_many(core, published, attempts)
    for r, outcome in outcomes:
        if isinstance(outcome, Published):
            r[2].persist_state()
        else:
            settle_call(core, r, attempts[r[1].info.pub_id], outcome, settle)


def prepare(core: Core, jobs: list[ClaimedJob],
            run_step: Callable[[ClaimedJob, Callable[[], JobResult]], None]) -> list[Ready]:
    """Read the claimed publications (three queries) and decide each: the ones ready for
    their platform call are returned; every other step is handed to ``run_step``."""
    now = core.now()
    by_pub = {int(j.payload["publication_id"]): j for j in jobs}
    with core.sessions() as s:
        snaps = load_snapshots(s, list(by_pub))
        pauses = current_pauses(s, now)
    ready: list[Ready] = []
    for pub_id, job in by_pub.items():
        decision = decide(core, job, pub_id, snaps.get(pub_id), pauses, now)
        if callable(decision):  # settle, wait, poll or reconcile: the one-by-one steps
            run_step(job, decision)
            continue
        call, post_out, _info = decision
        ready.append((job, snaps[pub_id], call, post_out))
    return ready


def settle_call(core: Core, r: Ready, attempt_id: int, outcome: Any,
                settle: Callable[[ClaimedJob, JobResult], None]) -> None:
    """Settle a call that did not simply publish (an error, a pending upload) as the
    one-by-one handler would; one publication's trouble stays its own."""
    job, snap, call, post_out = r
    try:
        settle(job, settle_outcome(core, job, call, post_out, snap.info.pub_id, attempt_id,
                                   snap.info, outcome))
    except Exception:  # noqa: BLE001
        log.exception("settling publication %s failed; recovery will reconcile it",
                      snap.info.pub_id)


def mark_submitted(core: Core, ready: list[Ready]) -> dict[int, int]:
    """One transaction: every ready publication ``publishing`` (if still queued), with its
    attempt row, committed just before the calls start (the worker starts all of them at
    once: it claimed only as many as it has free call slots). Returns publication id ->
    attempt id for those that were."""
    if not ready:
        return {}
    now = core.now()
    pairs = [(r[1].info.pub_id, r[0].id) for r in ready]
    owner = ready[0][0].lease_owner
    # Fencing: the job must still be running under *our* lease. A worker wrongly thought dead
    # (its jobs recovered and claimed elsewhere) must not start a call on the other's behalf.
    ours = exists().where(Job.id == Publication.job_id, Job.status == JobStatus.RUNNING,
                          Job.lease_owner == owner)
    with core.sessions.begin() as s:
        # Still queued and still owned by the job we hold (see publish._mark_submitted).
        marked = list(s.execute(
            update(Publication).where(tuple_(Publication.id, Publication.job_id).in_(pairs),
                                      Publication.status == S.QUEUED, ours)
            .values(status=S.PUBLISHING, submitted_at=now, attempts=Publication.attempts + 1,
                    updated_at=now).returning(Publication.id)).scalars())
        if not marked:
            return {}
        rows = s.execute(insert(PublishAttempt).returning(PublishAttempt.id,
                                                          PublishAttempt.publication_id,
                                                          sort_by_parameter_order=True),
                         [{"publication_id": p, "started_at": now, "worker": owner}
                          for p in marked]).all()
    return {pub_id: attempt_id for attempt_id, pub_id in rows}


def record_published_many(core: Core, done: list[tuple[Ready, Published]],
                      attempts: dict[int, int]) -> None:
    """One transaction for the results that came back together (a group commit) and their
    jobs' completions."""
    now = core.now()
    pubs, tries, audits = [], [], []
    for (_job, snap, call, _out), result in done:
        at = result.published_at or now
        next_at, stage = (next_metrics_time(at, now, result.metrics_schedule)
                          if type(call.adapter).caps.metrics
                          else (None, 0))
        pubs.append({"b_id": snap.info.pub_id, "b_ext": result.external_id,
                     "b_link": result.permalink, "b_at": at, "b_next": next_at,
                     "b_stage": stage})
        tries.append({"b_id": attempts[snap.info.pub_id], "b_detail": result.permalink or ""})
        audits.append({"at": now, "actor_id": None, "unit_id": snap.info.unit_id,
                       "action": "publication.published", "object_type": "publication",
                       "object_id": snap.info.pub_id,
                       "data": {"permalink": result.permalink, "external_id": result.external_id,
                                "post_id": snap.info.post_id, "author_id": snap.info.author_id,
                                "via": "published"}})
    pt, at_ = Publication.__table__, PublishAttempt.__table__
    with core.sessions.begin() as s:
        if s.get_bind().dialect.name == "postgresql":
            # The submit mark is durable; this record need not wait for the WAL flush: were
            # it lost in a database crash, lease expiry and ``lookup`` would recover it.
            s.execute(text("SET LOCAL synchronous_commit TO OFF"))
            _update_from_values(s, pubs, tries, now)
        else:
            s.execute(update(pt).where(pt.c.id == bindparam("b_id")).values(
                status=S.PUBLISHED, external_id=bindparam("b_ext"),
                permalink=bindparam("b_link"), published_at=bindparam("b_at"),
                pending_state=null(), progress_done=pt.c.progress_total, error=None,
                error_en=None, error_code=None, next_metrics_at=bindparam("b_next"),
                metrics_stage=bindparam("b_stage"), updated_at=now), pubs)
            s.execute(update(at_).where(at_.c.id == bindparam("b_id")).values(
                ended_at=now, outcome="published", detail=bindparam("b_detail")), tries)
        if notify_hook.wanted(s):  # the bell's events may go out by e-mail too
            ids = s.execute(insert(AuditEvent).returning(
                AuditEvent.id, sort_by_parameter_order=True), audits).scalars()
            notify_hook.enqueue_fanouts(s, list(ids), now)
        else:
            s.execute(insert(AuditEvent.__table__), audits)
        s.execute(update(Channel).where(Channel.id.in_({r[1].info.channel_id for r, _ in done}))
                  .values(last_published_at=now, last_error=None))
        first_comment.schedule(s, [(r[1].info.pub_id, r[1].info.post_id, r[1].info.channel_id)
                                   for r, _ in done], now)
        complete_many_in(s, [r[0].id for r, _ in done], done[0][0][0].lease_owner, now)
    for (_job, snap, _call, _out), result in done:
        log_outcome(snap.info.pub_id, "published",
                    f"channel {snap.info.channel_id}",
                    result.permalink or result.external_id)




#: PostgreSQL: a batch's rows arrive as arrays, so the statement text never changes and is
#: prepared once (a VALUES list embeds the rows and was compiled afresh for every batch).
_PUBS_SQL = text("""
    UPDATE publications AS p SET status = 'published', external_id = v.ext,
        permalink = v.link, published_at = v.at, pending_state = NULL,
        progress_done = p.progress_total, error = NULL, error_en = NULL, error_code = NULL,
        next_metrics_at = v.nxt, metrics_stage = v.stage, updated_at = :now
    FROM unnest(CAST(:ids AS integer[]), CAST(:exts AS varchar[]), CAST(:links AS varchar[]),
                CAST(:ats AS timestamptz[]), CAST(:nxts AS timestamptz[]),
                CAST(:stages AS integer[])) AS v(id, ext, link, at, nxt, stage)
    WHERE p.id = v.id""")
_TRIES_SQL = text("""
    UPDATE publish_attempts AS a SET ended_at = :now, outcome = 'published', detail = v.detail
    FROM unnest(CAST(:ids AS integer[]), CAST(:details AS text[])) AS v(id, detail)
    WHERE a.id = v.id""")


def _update_from_values(s: Any, pubs: list[dict[str, Any]], tries: list[dict[str, Any]],
                        now: datetime) -> None:
    """PostgreSQL: each table's rows of the batch in one ``UPDATE … FROM unnest(…)``."""
    s.execute(_PUBS_SQL, {"now": now, "ids": [p["b_id"] for p in pubs],
                          "exts": [p["b_ext"] for p in pubs],
                          "links": [p["b_link"] for p in pubs],
                          "ats": [p["b_at"] for p in pubs],
                          "nxts": [p["b_next"] for p in pubs],
                          "stages": [p["b_stage"] for p in pubs]})
    s.execute(_TRIES_SQL, {"now": now, "ids": [t["b_id"] for t in tries],
                           "details": [t["b_detail"] for t in tries]})


#: The names these stages had when only ``run_publish_batch`` used them.
_mark_submitted = mark_submitted
_record_published = record_published_many
