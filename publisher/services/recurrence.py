"""Recurring posts in the database: occurrences become publications ahead of time, once each.

The series is approved once (its rule is in the approval hash). A sweep (``sweep``, run by
the worker) turns each occurrence due within ``AHEAD`` into one publication per channel,
keyed by the occurrence's own instant: the partial unique index ``uq_publication_occurrence``
and an insert that does nothing on conflict mean two workers, or a sweep run twice, never
create a second publication for an occurrence, so it can never go out twice. Approvers may
skip or move one occurrence (``RecurrenceException``) without approving the series again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

import postqueue
from publisher.core import Core
from publisher.jobs import enqueue_publish
from publisher.models import (
    OPEN_PUBLICATION_STATES,
    Post,
    PostRecurrence,
    PostStatus,
    Publication,
    PublicationStatus,
    RecurrenceException,
    Role,
    User,
)
from publisher.services import audit
from publisher.services.access import get_scoped, require_role
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden, Invalid, Text
from publisher.services.recurrence_rule import Rule, is_occurrence, occurrences

log = logging.getLogger(__name__)

#: Occurrences due within this are materialised (the sweep runs every few minutes).
AHEAD = timedelta(hours=24)
#: How often the worker sweeps (far shorter than ``AHEAD``: a missed sweep costs nothing).
SWEEP_MINUTES = 5
#: The next occurrences a post's page lists.
UPCOMING = 10
#: Occurrences earlier than the approval by more than this are never materialised.
GRACE = timedelta(minutes=5)


def set_rule(post: Post, rule: Rule | None) -> None:
    """Give the post this rule (or none), keeping the row when nothing changed."""
    if rule is None:
        post.recurrence = None
        return
    row = post.recurrence or PostRecurrence()
    row.freq, row.timezone, row.weekdays = rule.freq, rule.timezone, list(rule.weekdays)
    row.month_day, row.nth, row.until, row.count = rule.month_day, rule.nth, rule.until, \
        rule.count
    post.recurrence = row


def _is_live(post: Post) -> bool:
    return (post.recurrence is not None and post.scheduled_at is not None
            and post.status == PostStatus.APPROVED and post.approval_hash is not None
            and post.approval_hash == content_hash(post))


def _exceptions(session: Session, post_id: int) -> dict[datetime, RecurrenceException]:
    return {e.occurrence_at: e for e in session.execute(
        select(RecurrenceException).where(RecurrenceException.post_id == post_id)).scalars()}


def _insert_once(session: Session, post: Post, channel_id: int, occurrence: datetime,
                 when: datetime, now: datetime) -> int | None:
    """Insert the occurrence's publication unless one exists (any worker's): its id, or
    ``None`` when it already existed. The conflict is the unique index's, not a read."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (insert(Publication)
            .values(post_id=post.id, channel_id=channel_id, occurrence_at=occurrence,
                    status=PublicationStatus.QUEUED, scheduled_at=when, attempts=0,
                    metrics_stage=0, absent_looks=0, created_at=now, updated_at=now)
            .on_conflict_do_nothing()
            .returning(Publication.id))
    return session.execute(stmt).scalar_one_or_none()


def materialise(core: Core, session: Session, post: Post, *, actor: User | None = None,
                now: datetime | None = None) -> int:
    """Create the publications (and jobs) of the post's occurrences due within ``AHEAD``;
    returns how many were created. Safe to run any number of times, from any worker."""
    if not _is_live(post):
        return 0
    now = now or core.now()
    rule = post.recurrence.rule() if post.recurrence else None
    assert rule is not None and post.scheduled_at is not None
    lower = (post.approved_at or now) - GRACE
    horizon = now + AHEAD
    exc = _exceptions(session, post.id)
    due: dict[datetime, datetime] = {}
    for at in occurrences(rule, post.scheduled_at, after=lower, before=horizon):
        e = exc.get(at)
        if e is None:
            due[at] = at
        elif e.action == "move" and e.moved_to is not None:
            due[at] = e.moved_to
    for at, e in exc.items():  # moved earlier, into the window, from further ahead
        if (e.action == "move" and e.moved_to is not None and e.moved_to < horizon
                and at >= lower and at not in due):
            due[at] = e.moved_to
    created = 0
    for at, when in sorted(due.items()):
        for channel_id in post.channel_ids:
            pub_id = _insert_once(session, post, channel_id, at, when, now)
            if pub_id is None:
                continue
            job = enqueue_publish(session, pub_id, channel_id, run_at=max(when, now), now=now)
            session.execute(update(Publication).where(Publication.id == pub_id)
                            .values(job_id=job))
            audit.record(session, "publication.queued", "publication", pub_id, actor=actor,
                         unit_id=post.unit_id, at=now,
                         data={"scheduled_at": when.isoformat(), "occurrence": at.isoformat()})
            created += 1
    return created


def sweep(core: Core) -> int:
    """The worker's sweep: materialise every approved series, one transaction per post."""
    with core.sessions() as s:
        post_ids = s.execute(
            select(Post.id).join(PostRecurrence, PostRecurrence.post_id == Post.id)
            .where(Post.status == PostStatus.APPROVED, Post.approval_hash.is_not(None))
        ).scalars().all()
    created = 0
    for post_id in post_ids:
        try:
            with core.sessions.begin() as s:
                post = s.get(Post, post_id)
                if post is not None:
                    created += materialise(core, s, post)
        except Exception:  # one broken series must not stop the others
            log.exception("recurrence sweep failed for post %s", post_id)
    return created


@dataclass
class Occurrence:
    """One upcoming occurrence as a post's page shows it."""

    at: datetime
    when: datetime
    state: str  # planned | moved | skipped
    publications: list[Publication] = field(default_factory=list)


def upcoming(core: Core, session: Session, post: Post,
             limit: int = UPCOMING) -> list[Occurrence]:
    """The next ``limit`` occurrences from now (skipped ones shown as such)."""
    if post.recurrence is None or post.scheduled_at is None:
        return []
    now = core.now()
    exc = _exceptions(session, post.id)
    pubs: dict[datetime, list[Publication]] = {}
    for pub in session.execute(select(Publication).where(
            Publication.post_id == post.id, Publication.occurrence_at.is_not(None),
            Publication.status != PublicationStatus.CANCELLED)).scalars():
        assert pub.occurrence_at is not None
        pubs.setdefault(pub.occurrence_at, []).append(pub)
    out: list[Occurrence] = []
    for at in occurrences(post.recurrence.rule(), post.scheduled_at, after=now - GRACE):
        e = exc.get(at)
        if e is not None and e.action == "skip":
            out.append(Occurrence(at, at, "skipped"))
        elif e is not None and e.moved_to is not None:
            out.append(Occurrence(at, e.moved_to, "moved", pubs.get(at, [])))
        else:
            out.append(Occurrence(at, at, "planned", pubs.get(at, [])))
        if len(out) >= limit:
            break
    return out


def _series_occurrence(core: Core, session: Session, actor: User, post_id: int,
                       at: datetime) -> tuple[Post, list[Publication]]:
    """The approver's post and the open publications of its occurrence ``at``, or refuse."""
    require_role(actor, Role.APPROVER, Role.ADMIN)
    post = get_scoped(session, Post, post_id, actor)
    if post.recurrence is None or post.scheduled_at is None:
        raise Conflict("Unggahan ini tidak berulang.", "This post does not repeat.",
                       code="not_recurring")
    if not is_occurrence(post.recurrence.rule(), post.scheduled_at, at):
        raise Invalid("Waktu ini bukan salah satu jadwal seri.",
                      "This time is not one of the series' occurrences.",
                      fields={"occurrence": Text("Bukan jadwal seri ini.",
                                                 "Not an occurrence of this series.")})
    pubs = list(session.execute(select(Publication).where(
        Publication.post_id == post.id, Publication.occurrence_at == at,
        Publication.status != PublicationStatus.CANCELLED)).scalars())
    if any(p.status not in (PublicationStatus.QUEUED,) for p in pubs):
        raise Conflict("Jadwal ini sudah diproses dan tidak dapat diubah.",
                       "This occurrence is already under way and cannot be changed.",
                       code="occurrence_started")
    return post, pubs


def _exception(session: Session, post: Post, at: datetime) -> RecurrenceException:
    row = session.get(RecurrenceException, (post.id, at))
    if row is None:
        row = RecurrenceException(post_id=post.id, occurrence_at=at)
        session.add(row)
    return row


def skip_occurrence(core: Core, session: Session, actor: User, post_id: int,
                    at: datetime) -> RecurrenceException:
    """Leave one occurrence out (its queued publications are cancelled); the series'
    approval stands. Approvers and admins only: an operator asks one."""
    post, pubs = _series_occurrence(core, session, actor, post_id, at)
    now = core.now()
    for pub in pubs:
        if pub.status in OPEN_PUBLICATION_STATES:
            pub.status = PublicationStatus.CANCELLED
            pub.updated_at = now
            if pub.job_id:
                postqueue.queue.cancel(session, [pub.job_id], now=now)
    row = _exception(session, post, at)
    row.action, row.moved_to, row.actor_id, row.created_at = "skip", None, actor.id, now
    audit.record(session, "post.occurrence_skip", "post", post.id, actor=actor,
                 unit_id=post.unit_id, data={"occurrence": at.isoformat(),
                                             "publications_cancelled": len(pubs)})
    return row


def move_occurrence(core: Core, session: Session, actor: User, post_id: int, at: datetime,
                    when: datetime) -> RecurrenceException:
    """Move one occurrence to ``when``; the series' approval stands (approvers and admins
    only). Its publications keep their key (the original instant), so the sweep never makes a
    second set for it."""
    from publisher.services import fanout_window, review_stages
    from publisher.services.posts import may_approve, refuse_past_time

    post, pubs = _series_occurrence(core, session, actor, post_id, at)
    # The time is part of what was approved: only someone who could approve the series
    # (not one of its writers) keeps that approval while moving it, and no one person for a
    # series of several stages (reschedule the series: it goes back through its stages).
    if not may_approve(core, session, actor, post) or review_stages.is_multi(session, post):
        raise Forbidden("Hanya penyetuju lain (bukan penulisnya) yang dapat memindahkan satu "
                        "jadwal; seri dengan beberapa tahap persetujuan dijadwalkan ulang "
                        "seluruhnya.", "Only another approver (not its writer) can move one "
                        "occurrence; a series with several approval stages is rescheduled as "
                        "a whole.", code="occurrence_move")
    refuse_past_time(core, when, field="moved_to")
    fanout_window.refuse_outside_window(session, post.id, when, field="moved_to")
    now = core.now()
    for pub in pubs:
        pub.scheduled_at = when
        pub.updated_at = now
        if pub.job_id:
            postqueue.queue.reschedule(session, pub.job_id, max(when, now))
    row = _exception(session, post, at)
    previous = row.moved_to if row.action == "move" else None
    row.action, row.moved_to, row.actor_id, row.created_at = "move", when, actor.id, now
    audit.record(session, "post.occurrence_move", "post", post.id, actor=actor,
                 unit_id=post.unit_id,
                 data={"occurrence": at.isoformat(), "scheduled_at": when.isoformat(),
                       "from": (previous or at).isoformat()})
    session.flush()
    materialise(core, session, post, actor=actor, now=now)  # moved into the window
    return row


def restart_series(core: Core, session: Session, post: Post, actor: User | None) -> None:
    """After the series' start moved with its approval kept: the queued occurrences are
    cancelled and made again from the new start (their skips and moves named old instants)."""
    now = core.now()
    for pub in session.execute(select(Publication).where(
            Publication.post_id == post.id, Publication.occurrence_at.is_not(None),
            Publication.status == PublicationStatus.QUEUED)).scalars():
        pub.status = PublicationStatus.CANCELLED
        pub.updated_at = now
        if pub.job_id:
            postqueue.queue.cancel(session, [pub.job_id], now=now)
    session.flush()
    materialise(core, session, post, actor=actor, now=now)


def parse_input(core: Core, session: Session, unit_id: int, raw: dict | None,
                start: datetime | None, current: PostRecurrence | None) -> Rule | None:
    """The rule a create or an edit asks for (``None``: a one-off post), checked in the
    unit's zone. With ``raw`` ``None`` (the rule untouched) the post's current rule stays,
    but it still needs a time to repeat from."""
    from publisher.models import Unit
    from publisher.services.recurrence_rule import parse_rule

    if raw is None:
        if current is not None and start is None:
            raise Invalid("Unggahan berulang membutuhkan waktu terbit pertama.",
                          "A recurring post needs its first time.",
                          fields={"scheduled_at": Text("Isi waktu terbit pertama.",
                                                       "Give the first time.")})
        return current.rule() if current is not None else None
    if not raw or str(raw.get("freq") or "none") == "none":
        return None
    unit = session.get(Unit, unit_id)
    zone = unit.timezone if unit is not None else core.settings.timezone
    return parse_rule(raw, zone=zone, start=start, now=core.now())
