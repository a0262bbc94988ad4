"""The citizen inbox in figures (issue 19, reporting): comments and complaints per unit,
platform or campaign over a period, the median time to a first response, the share of
complaints answered within their deadline, the categories, and the complaints as rows for an
export an office hands to SP4N-LAPOR! by hand (no public API is known).

**Which comments**: those the viewer may see in the inbox (``services.inbox.visible``: a unit
sees the comments on its own posts and those forwarded to it), written (``posted_at``) in the
period, the platform's deleted ones included (the citizen did write them). The public
transparency page has no viewer: ``public_units`` takes the comments that units of a given set
must answer (``unit_id``), the units ``reports.public`` chose (those that opted in), with the
same period rule and figures; it returns figures only, never a comment's words or author.

**Per unit** is the unit that must answer the comment now (``unit_id``), which is whose work
the response time measures; per campaign is the campaign of the post commented on.

**Response time**: ``responded_at − posted_at`` of the comments that were answered
(``responded_at`` is when a person first set *ditanggapi*); the median, in hours. None when
none was answered (never a made-up 0).

**Answered in time**: of the complaints (category *aduan*) whose deadline has passed or that
were answered, the share answered at or before their deadline (``responded_at ≤ due_at``);
the same rule as the unit activity score's complaints component (``reports.score``). None when
no complaint is due yet.

Medians are computed in Python from one grouped read of the answered comments' two times
(portable across SQLite and PostgreSQL); the rest are grouped counts in SQL.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from publisher.models import (
    Campaign,
    Channel,
    CitizenComment,
    CommentCategory,
    Post,
    Publication,
    Unit,
    User,
)
from publisher.reports.facts import ReportFilter
from publisher.services.inbox import visible
from publisher.timeutil import to_zone

GROUPS = ("unit", "platform", "campaign")
COMPLAINT = CommentCategory.COMPLAINT.value
#: The columns of the complaints export, in order.
COMPLAINT_COLUMNS = ("comment_id", "posted_at", "platform", "channel", "author", "text",
                     "permalink", "unit", "status", "due_at", "responded_at")


@dataclass
class InboxRow:
    key: Any
    label: str
    comments: int = 0
    complaints: int = 0
    answered: int = 0
    #: Complaints whose deadline passed or that were answered (the in-time share's base).
    complaints_due: int = 0
    complaints_in_time: int = 0
    median_response_hours: float | None = None

    @property
    def in_time_share(self) -> float | None:
        return (self.complaints_in_time / self.complaints_due) if self.complaints_due else None


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _key(group: str) -> tuple[Any, Any]:
    if group == "unit":
        return CitizenComment.unit_id, Unit.name
    if group == "platform":
        return CitizenComment.platform, CitizenComment.platform
    if group == "campaign":
        return Post.campaign_id, Campaign.name
    raise ValueError(f"unknown group {group!r}")


def _joined(q: Any, group: str, flt: ReportFilter) -> Any:
    """The comment query with what ``group`` and the filter need joined."""
    need_post = group == "campaign" or flt.campaign_id is not None or flt.post_id is not None
    if group == "unit":
        q = q.join(Unit, Unit.id == CitizenComment.unit_id)
    if need_post:
        q = q.join(Publication, Publication.id == CitizenComment.publication_id) \
             .join(Post, Post.id == Publication.post_id)
    if group == "campaign":
        q = q.outerjoin(Campaign, Campaign.id == Post.campaign_id)
    return q


#: Whose comments a figure counts: a viewer's (what ``visible`` lets them see), or, with no
#: viewer (the public page), those that the units in the set must answer.
Scope = User | frozenset[int]


def _where(q: Any, scope: Scope, flt: ReportFilter) -> Any:
    if isinstance(scope, User):
        q = visible(q, scope)
    else:
        q = q.where(CitizenComment.unit_id.in_(sorted(scope)))
    q = q.where(CitizenComment.posted_at >= flt.start, CitizenComment.posted_at < flt.end)
    if flt.unit_id is not None:
        q = q.where(CitizenComment.unit_id == flt.unit_id)
    if flt.platform:
        q = q.where(CitizenComment.platform == flt.platform)
    if flt.channel_id is not None:
        q = q.where(CitizenComment.channel_id == flt.channel_id)
    if flt.campaign_id is not None:
        q = q.where(Post.campaign_id == flt.campaign_id)
    if flt.post_id is not None:
        q = q.where(Post.id == flt.post_id)
    return q


def breakdown(session: Session, user: User, flt: ReportFilter, group: str,
              now: datetime, no_label: str = "") -> list[InboxRow]:
    """One row per ``group`` value with any comment in the period, most comments first."""
    return _breakdown(session, user, flt, group, now, no_label)


def public_units(session: Session, unit_ids: Iterable[int], flt: ReportFilter,
                 now: datetime) -> list[InboxRow]:
    """Per unit, for the public transparency page: the comments the units in ``unit_ids`` must
    answer, with no viewer. The caller decides which units may be shown (``reports.public``:
    those that opted in); a unit without a comment in the period has no row."""
    units = frozenset(unit_ids)
    return _breakdown(session, units, flt, "unit", now, "") if units else []


def _breakdown(session: Session, scope: Scope, flt: ReportFilter, group: str,
               now: datetime, no_label: str) -> list[InboxRow]:
    key, label = _key(group)
    is_complaint = CitizenComment.category == COMPLAINT
    answered = CitizenComment.responded_at.is_not(None)
    due = and_(is_complaint, or_(answered, CitizenComment.due_at <= now))
    in_time = and_(is_complaint, answered, CitizenComment.responded_at <= CitizenComment.due_at)

    def count(cond: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)

    q = select(key, label, func.count(CitizenComment.id), count(is_complaint), count(answered),
               count(due), count(in_time)).select_from(CitizenComment)
    q = _where(_joined(q, group, flt), scope, flt).group_by(key, label)
    rows = {k: InboxRow(k, str(name) if name is not None else no_label, int(n), int(c), int(a),
                        int(d), int(t))
            for k, name, n, c, a, d, t in session.execute(q)}
    spans: dict[Any, list[float]] = defaultdict(list)
    q = select(key, CitizenComment.posted_at, CitizenComment.responded_at) \
        .select_from(CitizenComment).where(answered)
    for k, posted, responded in session.execute(_where(_joined(q, group, flt), scope, flt)):
        p, r = _aware(posted), _aware(responded)
        if p is not None and r is not None:
            spans[k].append(max(0.0, (r - p).total_seconds() / 3600))
    for k, hours in spans.items():
        if k in rows:
            rows[k].median_response_hours = statistics.median(hours)
    return sorted(rows.values(), key=lambda r: (-r.comments, r.label.lower()))


def totals(session: Session, user: User, flt: ReportFilter, now: datetime) -> InboxRow:
    """The whole period in one row (the median over every answered comment, not a mean of
    the groups' medians)."""
    q = select(CitizenComment.posted_at, CitizenComment.responded_at, CitizenComment.category,
               CitizenComment.due_at).select_from(CitizenComment)
    if flt.campaign_id is not None or flt.post_id is not None:
        q = q.join(Publication, Publication.id == CitizenComment.publication_id) \
             .join(Post, Post.id == Publication.post_id)
    out = InboxRow(None, "")
    hours: list[float] = []
    now = _aware(now) or now
    for posted, responded, category, due_at in session.execute(_where(q, user, flt)):
        out.comments += 1
        p, r, d = _aware(posted), _aware(responded), _aware(due_at)
        if r is not None:
            out.answered += 1
            if p is not None:
                hours.append(max(0.0, (r - p).total_seconds() / 3600))
        if category == COMPLAINT:
            out.complaints += 1
            if r is not None or (d is not None and d <= now):
                out.complaints_due += 1
                if r is not None and d is not None and r <= d:
                    out.complaints_in_time += 1
    out.median_response_hours = statistics.median(hours) if hours else None
    return out


def categories(session: Session, user: User, flt: ReportFilter) -> list[tuple[str | None, int]]:
    """(category, comments) most first; None is "not yet categorised"."""
    q = select(CitizenComment.category, func.count(CitizenComment.id)) \
        .select_from(CitizenComment)
    q = _where(_joined(q, "platform", flt), user, flt).group_by(CitizenComment.category)
    return sorted(((c, int(n)) for c, n in session.execute(q)),
                  key=lambda r: (-r[1], r[0] or "~"))


def complaint_rows(session: Session, user: User, flt: ReportFilter,
                   zone: str) -> Iterator[list[Any]]:
    """The period's complaints, oldest first, as ``COMPLAINT_COLUMNS`` (times in ``zone``,
    naive for a spreadsheet's date cells). The author is the platform's display name or
    handle as given (empty when the platform gave none, or after retention removed it)."""
    q = (select(CitizenComment.id, CitizenComment.posted_at, CitizenComment.platform,
                Channel.name, CitizenComment.author_name, CitizenComment.author_handle,
                CitizenComment.text, Publication.permalink, Unit.name, CitizenComment.status,
                CitizenComment.due_at, CitizenComment.responded_at)
         .select_from(CitizenComment)
         .join(Channel, Channel.id == CitizenComment.channel_id)
         .join(Publication, Publication.id == CitizenComment.publication_id)
         .join(Post, Post.id == Publication.post_id)
         .join(Unit, Unit.id == CitizenComment.unit_id)
         .where(CitizenComment.category == COMPLAINT)
         .order_by(CitizenComment.posted_at, CitizenComment.id))
    for (cid, posted, platform, channel, name, handle, text, link, unit, status, due,
         responded) in session.execute(_where(q, user, flt)).yield_per(500):
        yield [cid, _local(posted, zone), platform, channel, name or handle or "", text,
               link or "", unit, status, _local(due, zone), _local(responded, zone)]


def _local(dt: datetime | None, zone: str) -> datetime | None:
    local = to_zone(_aware(dt), zone)
    return None if local is None else local.replace(tzinfo=None)
