"""A week's plan per unit: what each unit planned (publications scheduled in the period and not
cancelled) against what of it is published, read through the viewer's scope. The weekly report
to leaders and the unit activity score both read it (``notify.weekly_report``,
``reports.score``), and a viewer of exactly one unit (``reader``) stands in for an address that
is no Warta user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from publisher.models import Post, Publication, PublicationStatus, Role, Unit, User
from publisher.reports.facts import ReportFilter
from publisher.reports.period import Period
from publisher.reports.report import ReportRequest
from publisher.services.access import scope


def reader(unit_id: int | None) -> User:
    """A viewer of exactly one unit (or of the region) for an address that is no Warta user;
    never added to a session."""
    if unit_id is None:
        return User(id=None, role=Role.ADMIN, unit_id=None, name="", email="")
    return User(id=None, role=Role.APPROVER, unit_id=unit_id, name="", email="")


@dataclass(frozen=True)
class PlanRow:
    unit_id: int
    unit: str
    planned: int
    published: int
    #: Publications published in the week (by their publishing time, planned or not).
    published_in_week: int
    engagements: int | None

    @property
    def short(self) -> int:
        return max(0, self.planned - self.published)


def request(week: Period, unit_id: int | None) -> ReportRequest:
    p = week
    return ReportRequest(p, ReportFilter(start=p.start, end=p.end, unit_id=unit_id))


def plan_rows(session: Session, viewer: User, req: ReportRequest,
              by_unit: dict[Any, dict[str, Any]]) -> list[PlanRow]:
    """Planned and published per unit (see the module docstring), with what each published
    in the week; units with neither are left out. Shortest first, then by name."""
    published = case((Publication.status == PublicationStatus.PUBLISHED, 1), else_=0)
    q = (select(Post.unit_id, func.count().label("planned"),
                func.sum(published).label("published"))
         .select_from(Publication).join(Post, Post.id == Publication.post_id)
         .where(Publication.scheduled_at >= req.period.start,
                Publication.scheduled_at < req.period.end,
                Publication.status != PublicationStatus.CANCELLED)
         .group_by(Post.unit_id))
    q = scope(q, viewer, Post.unit_id)
    if req.filter.unit_id is not None:
        q = q.where(Post.unit_id == req.filter.unit_id)
    counts = {r.unit_id: (int(r.planned), int(r.published or 0)) for r in session.execute(q)}
    ids = set(counts) | {k for k in by_unit if k is not None}
    names = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(ids))).all()) \
        if ids else {}
    rows = []
    for unit_id in ids:
        planned, done = counts.get(unit_id, (0, 0))
        b = by_unit.get(unit_id) or {}
        rows.append(PlanRow(unit_id, str(names.get(unit_id, f"#{unit_id}")), planned, done,
                            int(b.get("publications") or 0), b.get("engagements")))
    rows.sort(key=lambda r: (-r.short, r.unit.lower()))
    return rows
