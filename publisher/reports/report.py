"""One report request, parsed and answered: the function behind the page, the exports and
``GET /api/v1/reports/engagement`` (same parsing, same numbers)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from publisher.models import Role, User
from publisher.reports import engagement as e
from publisher.reports.alongside import alongside
from publisher.reports.facts import ReportFilter, materialized
from publisher.reports.period import Period, resolve_period
from publisher.services.errors import Invalid
from publisher.services.query_args import int_arg


@dataclass(frozen=True)
class ReportRequest:
    period: Period
    filter: ReportFilter

    @property
    def zone(self) -> str:
        return self.period.zone

    def previous_filter(self) -> ReportFilter:
        prev = self.period.previous()
        return self.filter.shifted(prev.start, prev.end)


def viewer_zone(user: User | None, default: str) -> str:
    """Reports are shown in the viewer's unit zone (admins: the installation's zone)."""
    if user is not None and user.unit is not None and user.role != Role.ADMIN:
        return user.unit.timezone
    return default


def parse_request(args: Mapping[str, str], user: User | None, now: datetime,
                  default_zone: str) -> ReportRequest:
    """Period and filters from query arguments (page and API share the names)."""
    zone = viewer_zone(user, default_zone)
    period = resolve_period(args.get("period"), zone, now, args.get("from"), args.get("to"))
    platform = (args.get("platform") or "").strip() or None
    flt = ReportFilter(start=period.start, end=period.end, unit_id=int_arg(args, "unit"),
                       platform=platform, channel_id=int_arg(args, "channel"),
                       campaign_id=int_arg(args, "campaign"))
    return ReportRequest(period, flt)


def _change(now: float | int | None, before: float | int | None) -> float | None:
    if now is None or before in (None, 0):
        return None
    return (float(now) - float(before)) / float(before)


def _with_change(cur: dict[str, Any], prev: dict[str, Any]) -> dict[str, Any]:
    change = {k: _change(cur[k], prev[k]) for k in cur}
    return {"current": cur, "previous": prev, "change": change}


def _previous_totals(session: Session, user: User | None,
                     req: ReportRequest) -> Callable[[], dict[str, Any]]:
    """Start the previous period's totals beside the caller's work (see ``alongside``)."""
    row = alongside(session, e.totals_statement(session, user, req.previous_filter()))
    return lambda: e.figures(row())


def totals_with_change(session: Session, user: User | None,
                       req: ReportRequest) -> dict[str, Any]:
    previous = _previous_totals(session, user, req)
    return _with_change(e.totals(session, user, req.filter), previous())


def engagement_report(session: Session, user: User, args: Mapping[str, str], now: datetime,
                      default_zone: str) -> dict[str, Any]:
    """The API's answer: totals (with the previous period) and one breakdown."""
    group_by = (args.get("group_by") or "platform").strip()
    if group_by not in e.GROUPS:
        raise Invalid("Pengelompokan tidak dikenal.", "Unknown group_by.",
                      fields={"group_by": " | ".join(e.GROUPS)})
    req = parse_request(args, user, now, default_zone)
    t = totals_with_change(session, user, req)
    rows = e.breakdown(session, user, req.filter, group_by, req.zone)
    for r in rows:
        r["key"] = None if r["key"] is None else str(r["key"])
    return {"from": req.period.first_day.isoformat(), "to": req.period.last_day.isoformat(),
            "timezone": req.zone, "group_by": group_by, "as_of": req.period.end,
            "totals": t["current"], "previous_totals": t["previous"], "rows": rows}


def page_report(session: Session, user: User, req: ReportRequest) -> dict[str, Any]:
    """Everything the reports page shows, each part one SQL aggregate over facts computed
    once (see ``facts.materialized``); the previous period's totals are computed meanwhile
    on a second connection."""
    previous = _previous_totals(session, user, req)
    with materialized(session, user, req.filter):
        report = {
            "over_time": e.over_time(session, user, req.filter, req.zone),
            "breakdowns": {g: e.breakdown(session, user, req.filter, g, req.zone)
                           for g in ("unit", "platform", "channel", "campaign")},
            "top_posts": e.top_posts(session, user, req.filter),
            "heatmap": e.heatmap(session, user, req.filter),
        }
        current = e.totals(session, user, req.filter)
    return {"totals": _with_change(current, previous()), **report}
