"""The worker's sweep for posts waiting too long at a review stage (issue 20).

A unit may set ``review_remind_hours``: a post waiting that long at one stage becomes one
``post.stage_reminder`` audit event, which tells the people who can act at that stage (its
``waiting_kind``: the unit's approvers, or the region's verifiers) through the ordinary
notifications (kind ``approval_requested``, ``notify/kinds.concerns``). ``review_deadline_hours``
records ``post.stage_deadline`` once, and the approvals page flags the post; nothing is ever
approved by the clock.

**Once per post per stage.** ``PostReview.reminded_at`` / ``deadline_at`` are set by a
conditional update (``WHERE ... IS NULL`` and the same stage), in the event's transaction: two
workers sweeping at once, or the next sweep, record nothing again. Moving to another stage (or
a resubmission) clears them, so the next stage has its own reminder.

**Bounded.** Per unit with hours set, at most ``BATCH`` posts per sweep, oldest first.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Post, PostStatus, Unit
from publisher.models.review import PostReview
from publisher.services import audit

log = logging.getLogger(__name__)
REMINDER_ACTION = "post.stage_reminder"
DEADLINE_ACTION = "post.stage_deadline"
BATCH = 200
SWEEP_MINUTES = 10


def _due(session: Session, unit_id: int, column: object, cutoff: object, batch: int) -> list:  # type: ignore[type-arg]
    return list(session.execute(
        select(PostReview.post_id, PostReview.stage_index, PostReview.stage_kind,
               PostReview.stage_since)
        .join(Post, Post.id == PostReview.post_id)
        .where(Post.unit_id == unit_id, Post.status == PostStatus.SUBMITTED,
               PostReview.stage_kind.is_not(None), column.is_(None),  # type: ignore[attr-defined]
               PostReview.stage_since <= cutoff)
        .order_by(PostReview.stage_since, PostReview.post_id).limit(batch)))


def sweep(core: Core, batch: int = BATCH) -> list[tuple[str, int]]:
    """Record the reminders and deadlines due now; (action, post id) of each recorded."""
    now = core.now()
    done: list[tuple[str, int]] = []
    with core.sessions.begin() as s:
        units = s.execute(select(Unit.id, Unit.review_remind_hours, Unit.review_deadline_hours)
                          .where((Unit.review_remind_hours.is_not(None))
                                 | (Unit.review_deadline_hours.is_not(None)))).all()
        for unit_id, remind, deadline in units:
            for action, hours, column in ((REMINDER_ACTION, remind, PostReview.reminded_at),
                                          (DEADLINE_ACTION, deadline, PostReview.deadline_at)):
                if not hours:
                    continue
                for post_id, index, kind, since in _due(s, unit_id, column,
                                                        now - timedelta(hours=hours), batch):
                    claimed = s.execute(
                        update(PostReview).where(PostReview.post_id == post_id,
                                                 PostReview.stage_index == index,
                                                 column.is_(None))
                        .values({column.key: now}).returning(PostReview.post_id)
                        .execution_options(synchronize_session=False)).scalar_one_or_none()
                    if claimed is None:
                        continue  # another worker's sweep took it
                    reminder = action == REMINDER_ACTION
                    audit.record(s, REMINDER_ACTION if reminder else DEADLINE_ACTION, "post",
                                 post_id, unit_id=unit_id, at=now,
                                 data={"stage": index + 1, "waiting_kind": kind,
                                       "since": since.isoformat(), "hours": hours})
                    done.append((action, post_id))
    if done:
        log.info("%d review stage reminders or deadlines recorded", len(done))
    return done
