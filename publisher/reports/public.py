"""The public transparency page's data: only units that opted in, only published publications,
no staff names, no post text beyond what the platforms show at the permalink."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher import permalinks
from publisher.models import User
from publisher.reports import engagement as e
from publisher.reports import metrics as m
from publisher.reports.facts import ReportFilter, facts, materialized, sums
from publisher.reports.period import Period

PUBLIC_FIGURES = ("publications", *m.METRICS, "engagements")


def public_report(session: Session, period: Period, *,
                  preview: tuple[User, int] | None = None) -> dict[str, Any]:
    """Monthly totals per unit and platform, and the links to the published posts.

    ``preview`` (viewer, unit id) shows an admin what one unit would make public before it
    opts in: the same figures, read with the viewer's own scope."""
    viewer = preview[0] if preview else None
    flt = (ReportFilter(start=period.start, end=period.end, public_only=True)
           if preview is None else
           ReportFilter(start=period.start, end=period.end, unit_id=preview[1]))
    with materialized(session, viewer, flt):  # one latest-snapshot lookup for both parts
        f = facts(session, viewer, flt)
        q = (select(f.c.unit_name, f.c.platform, *sums(f))
             .group_by(f.c.unit_name, f.c.platform).order_by(f.c.unit_name, f.c.platform))
        totals = []
        for r in session.execute(q):
            fig = e.figures(r)
            totals.append({"unit": r.unit_name, "platform": r.platform,
                           **{k: fig[k] for k in PUBLIC_FIGURES},
                           "engagement_rate": fig["engagement_rate"]})
        # only links that pass the platform's permalink check (``publisher.permalinks``):
        # a link typed by a person, or a stored one, never sends the public elsewhere
        links = [{"unit": r.unit_name, "platform": r.platform, "channel": r.channel_name,
                  "published_at": r.published_at, "permalink": r.permalink}
                 for r in session.execute(select(f.c.unit_name, f.c.platform, f.c.channel_name,
                                                 f.c.published_at, f.c.permalink)
                                          .where(f.c.permalink.is_not(None))
                                          .order_by(f.c.published_at.desc()))
                 if permalinks.belongs_to(r.platform, r.permalink)]
    return {"month": period.first_day.strftime("%Y-%m"), "totals": totals, "links": links}
