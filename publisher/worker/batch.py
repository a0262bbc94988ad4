"""Publishing a burst as batches: the same steps as ``publish.py``, with the database work of
many publications done in a handful of statements.

A regional government schedules dozens of posts for the same minute (an announcement to every
unit's accounts at 09.00). One publication costs about a dozen short statements; at that volume
their Python and driver overhead, not PostgreSQL, limits throughput. A batch (distinct
channels, claimed together) is read in three queries, marked submitted in one transaction,
its platform calls run concurrently, and its published results are recorded — with the jobs
completed — in one transaction. The safety rules do not change: "submitted" is committed
before any call, a crash leaves submitted publications for ``lookup`` reconciliation, and
anything unusual (a pause, a changed post, an error from the platform) goes through the
one-by-one handler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, null, text, tuple_, update

from adapters.base import OutgoingPost, Published
from adapters.errors import AdapterError
from postqueue import ClaimedJob
from postqueue.models import Job, JobStatus
from publisher.core import Core
from publisher.models import (
    AuditEvent,
    Channel,
    ChannelStatus,
    PostStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
)
from publisher.runtime import build_outgoing
from publisher.services.pauses import current_pauses, holding_pause
from publisher.worker.outcome import next_metrics_time
from publisher.worker.publish import _Call, call_platform, settle_outcome
from publisher.worker.results import Done, JobResult
from publisher.worker.snapshot import PubSnapshot, load_snapshots

log = logging.getLogger(__name__)
S = PublicationStatus
Ready = tuple[ClaimedJob, PubSnapshot, _Call, OutgoingPost]


def _fast_path(core: Core, job: ClaimedJob, snap: PubSnapshot | None, pauses: list[Any],
               now: datetime) -> bool:
    """True when nothing about this publication needs the one-by-one handler's care."""
    return (snap is not None and snap.job_id == job.id and snap.status == S.QUEUED
            and snap.post_status == PostStatus.APPROVED
            and snap.approval_hash == snap.current_hash()
            and now - snap.scheduled_at <= core.settings.missed_after
            and snap.channel_status == ChannelStatus.ACTIVE
            and not (snap.paused_until and snap.paused_until > now)
            and holding_pause(pauses, snap.channel_unit_id, snap.info.channel_id, now) is None)


def run_publish_batch(core: Core, jobs: list[ClaimedJob], calls: Executor,
                      one_by_one: Callable[[ClaimedJob], None],
                      settle: Callable[[ClaimedJob, JobResult], None]) -> None:
    """Publish a batch of claimed publish jobs (at most one per channel).

    ``one_by_one(job)`` runs a job through the ordinary handler; ``settle(job, result)``
    applies a handler's result to the queue; ``calls`` runs the platform calls concurrently.
    """
    now = core.now()
    by_pub = {int(j.payload["publication_id"]): j for j in jobs}
    with core.sessions() as s:
        snaps = load_snapshots(s, list(by_pub))
        pauses = current_pauses(s, now)
    ready: list[Ready] = []
    for pub_id, job in by_pub.items():
        snap = snaps.get(pub_id)
        if not _fast_path(core, job, snap, pauses, now):
            one_by_one(job)
            continue
        try:
            call = _Call.of_snapshot(core, snap, job)
        except AdapterError:
            one_by_one(job)
            continue
        post_out = build_outgoing(core, type(call.adapter), pub_id=pub_id, body=snap.body,
                                  overrides=snap.overrides, channel_id=snap.info.channel_id,
                                  link=snap.link, media=snap.media, scheduled_at=snap.scheduled_at)
        if call.adapter.validate(post_out):
            one_by_one(job)  # it records the problems as the publication's failure
            continue
        ready.append((job, snap, call, post_out))
    if not ready:
        return
    attempts = _mark_submitted(core, ready)
    submitted = [r for r in ready if r[1].info.pub_id in attempts]
    for job, snap, _call, _out in ready:
        if snap.info.pub_id not in attempts:  # cancelled meanwhile: the conditional update said no
            settle(job, Done())
    futures = [(r, calls.submit(call_platform, r[2], r[3], r[1].info.pub_id)) for r in submitted]
    outcomes = [(r, future.result()) for r, future in futures]
    # What is live on the platform is recorded first: a failure while settling another
    # publication must not leave these "publishing" until a lease expires.
    published = [(r, o) for r, o in outcomes if isinstance(o, Published)]
    if published:
        _record_published(core, published, attempts)
    for r, outcome in outcomes:
        job, snap, call, post_out = r
        try:
            if isinstance(outcome, Published):
                call.persist_state()
            else:
                settle(job, settle_outcome(core, job, call, post_out, snap.info.pub_id,
                                           attempts[snap.info.pub_id], snap.info, outcome))
        except Exception:  # noqa: BLE001 - one publication's trouble stays its own
            log.exception("settling publication %s failed; lease recovery will reconcile it",
                          snap.info.pub_id)


def _mark_submitted(core: Core, ready: list[Ready]) -> dict[int, int]:
    """One transaction: every ready publication ``publishing`` (if still queued), with its
    attempt row. Returns publication id -> attempt id for those that were."""
    now = core.now()
    pairs = [(r[1].info.pub_id, r[0].id) for r in ready]
    with core.sessions.begin() as s:
        # Still queued and still owned by the job we hold (see publish._mark_submitted).
        marked = list(s.execute(
            update(Publication).where(tuple_(Publication.id, Publication.job_id).in_(pairs),
                                      Publication.status == S.QUEUED)
            .values(status=S.PUBLISHING, submitted_at=now, attempts=Publication.attempts + 1,
                    updated_at=now).returning(Publication.id)).scalars())
        if not marked:
            return {}
        owner = ready[0][0].lease_owner
        rows = s.execute(insert(PublishAttempt).returning(PublishAttempt.id,
                                                          PublishAttempt.publication_id,
                                                          sort_by_parameter_order=True),
                         [{"publication_id": p, "started_at": now, "worker": owner}
                          for p in marked]).all()
    return {pub_id: attempt_id for attempt_id, pub_id in rows}


def _record_published(core: Core, done: list[tuple[Ready, Published]],
                      attempts: dict[int, int]) -> None:
    """One transaction for the whole batch's results and job completions."""
    now = core.now()
    pubs, tries, audits = [], [], []
    for (_job, snap, call, _out), result in done:
        at = result.published_at or now
        next_at, stage = (next_metrics_time(at, now) if type(call.adapter).caps.metrics
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
    pt, at_, jt = Publication.__table__, PublishAttempt.__table__, Job.__table__
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
        s.execute(insert(AuditEvent.__table__), audits)
        s.execute(update(Channel).where(Channel.id.in_({r[1].info.channel_id for r, _ in done}))
                  .values(last_published_at=now, last_error=None))
        s.execute(update(jt).where(jt.c.id.in_([r[0].id for r, _ in done]),
                                   jt.c.status == JobStatus.RUNNING,
                                   jt.c.lease_owner == done[0][0][0].lease_owner)
                  .values(status=JobStatus.DONE, finished_at=now, updated_at=now,
                          lease_owner=None, lease_expires_at=None))




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
