"""The figures of one weekly report, and its workbook, for one reader.

The numbers come from the reports' own public functions (``reports.report``,
``reports.engagement``, ``reports.exports``) with the reader as the viewer, so the unit scoping
of the pages applies unchanged: an approver's report can only hold their unit's rows (an
address that is no Warta user reads as a viewer of exactly its unit, or of the region).

**Week**: Monday 00.00 to the next Monday 00.00 in the report's zone (the unit's; the
installation's ``WARTA_TIMEZONE`` for the region), compared with the week before.

**Published less than planned**: for each unit, *planned* is the number of its publications
whose scheduled time falls in the week and that were not cancelled; *published* is how many of
those are published now. A unit whose published count is below its planned count published
less than planned (the rest failed, were missed, are unconfirmed or still wait); a post put out
at once counts as planned at the time it was approved for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from publisher.models import User
from publisher.reports import engagement as e
from publisher.reports import exports
from publisher.reports.facts import materialized
from publisher.reports.period import Period, week_of
from publisher.reports.plan import PlanRow, plan_rows, request
from publisher.reports.report import totals_with_change
from publisher.reports.score import UnitScore, scores
from publisher.timeutil import zone_label

#: The report is due on this weekday (Monday) at this local hour, for the week before.
SEND_WEEKDAY, SEND_HOUR = 0, 7
TOP_POSTS = 5
BREAKDOWNS = ("unit", "platform", "channel", "campaign", "day")


def this_monday(now: datetime, zone: str) -> date:
    today = now.astimezone(ZoneInfo(zone)).date()
    return today - timedelta(days=today.weekday())


def last_week(now: datetime, zone: str) -> Period:
    """The last complete week before ``now`` in ``zone``."""
    return week_of(this_monday(now, zone) - timedelta(days=7), zone)


def due_at(now: datetime, zone: str) -> datetime:
    """This week's sending time (Monday 07.00 local), as UTC; the report it sends is
    ``last_week(now, zone)``."""
    wall = datetime.combine(this_monday(now, zone) + timedelta(days=SEND_WEEKDAY),
                            time(SEND_HOUR), tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


@dataclass(frozen=True)
class WeeklyFigures:
    week: Period
    unit_id: int | None
    #: ``totals_with_change``: current, previous and change per figure.
    totals: dict[str, Any]
    top: list[dict[str, Any]]
    plan: list[PlanRow]
    #: The week's unit activity score (``reports.score``): the report's own unit only (its
    #: rank is over every unit), or every unit for the region, ranked.
    scores: list[UnitScore] = field(default_factory=list)
    #: How many units the ranking has (the "n" of a unit's "k of n").
    ranked: int = 0
    #: Each shown unit's score the week before (None: none then).
    previous: dict[int, float | None] = field(default_factory=dict)

    @property
    def short(self) -> list[PlanRow]:
        """The units that published less than planned."""
        return [r for r in self.plan if r.short > 0]


def figures(session: Session, viewer: User, week: Period, unit_id: int | None,
            now: datetime) -> WeeklyFigures:
    req = request(week, unit_id)
    totals = totals_with_change(session, viewer, req)
    top = e.top_posts(session, viewer, req.filter, limit=TOP_POSTS)
    units = e.breakdown(session, viewer, req.filter, "unit", week.zone)
    shown, ranked, previous = week_scores(session, week, unit_id, now)
    return WeeklyFigures(week, unit_id, totals, top,
                         plan_rows(session, viewer, req, {r["key"]: r for r in units}),
                         shown, ranked, previous)


def week_scores(session: Session, week: Period, unit_id: int | None,
                now: datetime) -> tuple[list[UnitScore], int, dict[int, float | None]]:
    """The score rows a report of ``unit_id`` (None: the region) may show, how many units
    are ranked, and each shown unit's score the week before. The ranking is over every unit,
    as on ``/laporan/skor``; a unit's report keeps only its own row, as that page does for a
    unit's people, so no other unit's name or figure reaches it."""
    monday = week.first_day
    before = monday - timedelta(weeks=1)
    weeks = scores(session, [before, monday], now)
    rows = weeks[monday]
    shown = rows if unit_id is None else [r for r in rows if r.unit_id == unit_id]
    ids = {r.unit_id for r in shown}
    previous = {r.unit_id: r.score for r in weeks[before] if r.unit_id in ids}
    return shown, len(rows), previous


# -- the workbook --------------------------------------------------------------------------
# The export's words are the reports' own table (``reports.exports.header_words``), looked up
# in the recipient's catalogue, plus the plan sheet's.

def _headers(_: Callable[[str], str]) -> dict[str, str]:
    return {**exports.header_words(_),
            "planned": _("Planned"), "published": _("Published as planned"),
            "short": _("Not published"), "published_in_week": _("Published in the week")}


def _sheets(_: Callable[[str], str]) -> dict[str, str]:
    return {**exports.sheet_words(_), "plan": _("Plan")}


PLAN_COLUMNS = ("unit", "planned", "published", "short", "published_in_week")


def workbook(session: Session, viewer: User, f: WeeklyFigures, locale: str,
             gettext: Callable[[str], str]) -> bytes:
    """The reports page's XLSX download for the week (a sheet per breakdown, one with every
    publication) and a last sheet with the plan per unit."""
    _ = gettext
    words, names = _headers(_), _sheets(_)
    req = request(f.week, f.unit_id)

    def header(keys: list[str]) -> list[str]:
        return [_("Published at (%(zone)s)") % {"zone": zone_label(f.week.zone)}
                if k == "published_at" else words[k] for k in keys]

    title = _("Engagement report %(first)s – %(last)s") % {
        "first": f.week.first_day.isoformat(), "last": f.week.last_day.isoformat()}
    sheets: list[tuple[Any, ...]] = []
    with materialized(session, viewer, req.filter):  # six sheets, one snapshot lookup
        for g in BREAKDOWNS:
            keys, rows = exports.breakdown_table(
                e.breakdown(session, viewer, req.filter, g, f.week.zone), g,
                no_label=_("No campaign"))
            sheets.append((names[g], header(keys), rows, [exports.kind_of(k) for k in keys]))
        keys, result = exports.publication_table(
            e.publication_rows(session, viewer, req.filter), f.week.zone)
        sheets.append((names["publications"], header(keys), list(result),
                       [exports.kind_of(k) for k in keys]))
        plan = [[r.unit, r.planned, r.published, r.short, r.published_in_week] for r in f.plan]
        sheets.append((names["plan"], [words[k] for k in PLAN_COLUMNS], plan,
                       [exports.TEXT] + [exports.COUNT] * 4))
        return exports.to_xlsx(sheets, title=title,
                               formats=exports.xlsx_formats(locale))
