"""The public transparency page's data: only units that opted in, only published publications,
no staff names, no post text beyond what the platforms show at the permalink.

The citizen inbox's figures (issue 19) appear only for the units that opted in twice: to the page
(``Unit.public_report``) and to these figures (``Unit.public_inbox``). They are counts and times
from ``reports.inbox`` (the same definitions as the staff's "Suara warga dalam angka"), never a
comment's words, its author or a link to it: a citizen wrote to the office, not to the public.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher import permalinks
from publisher.models import Unit, User
from publisher.reports import engagement as e
from publisher.reports import inbox as ib
from publisher.reports import metrics as m
from publisher.reports.facts import ReportFilter, facts, materialized, sums
from publisher.reports.period import Period

PUBLIC_FIGURES = ("publications", *m.METRICS, "engagements")


def public_report(session: Session, period: Period, now: datetime, *,
                  preview: tuple[User, int] | None = None) -> dict[str, Any]:
    """Monthly totals per unit and platform, the links to the published posts, and the
    citizen-voice figures of the units that show them (``now`` decides which complaints'
    deadlines have passed).

    ``preview`` (viewer, unit id) shows an admin what one unit would make public before it
    opts in: the same figures, read with the viewer's own scope, the citizen-voice ones
    whichever of the two opt-ins is on."""
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
    return {"month": period.first_day.strftime("%Y-%m"), "totals": totals, "links": links,
            "citizen_voice": _citizen_voice(session, period, now, preview)}


def _month_in(period: Period, zone: str) -> ReportFilter:
    same = Period(period.kind, period.first_day, period.last_day, zone)
    return ReportFilter(start=same.start, end=same.end)


#: The citizen-voice figures the public page shows per unit (nothing else of ``InboxRow``).
CITIZEN_VOICE_FIGURES = ("comments", "complaints", "median_response_hours", "in_time_share")


def _citizen_voice(session: Session, period: Period, now: datetime,
                   preview: tuple[User, int] | None) -> list[dict[str, Any]]:
    """One row per unit that shows its figures, by name; a unit with no comment in the month
    shows zeros (and no median or share: None, never a made-up 0). Each unit's month is cut in
    the unit's own zone, as its /laporan/suara-warga cuts it (the same comment must count in
    the same month on both pages)."""
    rows: dict[Any, ib.InboxRow] = {}
    if preview is None:
        found = session.execute(select(Unit.id, Unit.name, Unit.timezone).where(
            Unit.public_report.is_(True), Unit.public_inbox.is_(True))).all()
        units = {uid: name for uid, name, _tz in found}
        by_zone: dict[str, set[int]] = {}
        for uid, _name, tz in found:
            by_zone.setdefault(tz or period.zone, set()).add(uid)
        for zone, ids in by_zone.items():
            flt = _month_in(period, zone)
            rows.update({r.key: r for r in ib.public_units(session, ids, flt, now)})
    else:
        viewer, unit_id = preview
        found = session.execute(select(Unit.id, Unit.name, Unit.timezone)
                                .where(Unit.id == unit_id)).all()
        units = {uid: name for uid, name, _tz in found}
        flt = _month_in(period, found[0][2] if found and found[0][2] else period.zone)
        rows = {r.key: r for r in ib.breakdown(session, viewer, replace(flt, unit_id=unit_id),
                                               "unit", now)}
    out = []
    for uid, name in sorted(units.items(), key=lambda u: (u[1].lower(), u[0])):
        row = rows.get(uid) or ib.InboxRow(uid, name)
        out.append({"unit": name, **{k: getattr(row, k) for k in CITIZEN_VOICE_FIGURES}})
    return out
