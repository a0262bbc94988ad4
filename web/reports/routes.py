"""Routes of the reports page, its exports and the printable report. Each parses the query,
asks ``publisher.reports`` and renders; the numbers are computed only there."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from publisher.models import Campaign, Channel, Unit
from publisher.reports import engagement as e
from publisher.reports import exports
from publisher.reports.facts import materialized
from publisher.reports.period import PERIODS
from publisher.reports.report import ReportRequest, page_report, parse_request
from publisher.services.access import scope, scope_shared
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.formatting import lang
from web.reports import exports as words
from web.ui.labels import platform_label

bp = Blueprint("reports", __name__)

BREAKDOWNS = ("unit", "platform", "channel", "campaign")


def _request() -> ReportRequest:
    core = get_core()
    try:
        return parse_request(request.args, current_user, core.now(), core.settings.timezone)
    except ServiceError as exc:
        abort(400, description=exc.message_en if lang() == "en" else exc.message)


def filter_options() -> dict:
    """Choices of the filter form, limited to what the viewer may see."""
    s = db()
    units = list(s.execute(scope(select(Unit).order_by(Unit.name), current_user, Unit.id))
                 .scalars())
    channels = list(s.execute(scope(select(Channel).order_by(Channel.name), current_user,
                                    Channel.unit_id)).scalars())
    q = scope_shared(select(Campaign).order_by(Campaign.name), current_user, Campaign.unit_id)
    return {"units": units, "channels": channels,
            "platforms": sorted({c.platform for c in channels}),
            "campaigns": list(s.execute(q).scalars()), "periods": PERIODS}


def chart_data(req: ReportRequest, report: dict) -> dict:
    """The numbers the charts draw (the same rows the tables show)."""
    days = [d.isoformat() for d in req.period.day_list()]
    platforms = sorted({r["platform"] for r in report["over_time"]})
    by = {(r["day"], r["platform"]): r["engagements"] for r in report["over_time"]}
    return {"days": days,
            "series": [{"platform": p, "label": platform_label(p),
                        "values": [by.get((d, p)) for d in days]} for p in platforms]}


def _render_report(template: str, printing: bool, **extra: object) -> str:
    """The reports page and its printable version: the same request, figures and charts."""
    req = _request()
    report = page_report(db(), current_user, req)
    return render_template(template, req=req, report=report, chart=chart_data(req, report),
                           opts=filter_options(), args=request.args, printing=printing, **extra)


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return _render_report("reports/index.html", printing=False)


@bp.get("/cetak")
@login_required
def printable():  # type: ignore[no-untyped-def]
    """The monthly report for leadership: title, period, charts and tables, print styles."""
    return _render_report("reports/print.html", printing=True, generated_at=get_core().now())


def _filename(req: ReportRequest, table: str | None, ext: str) -> str:
    return words.file_name(table, req.period.first_day, req.period.last_day, ext)


def _table(table: str, req: ReportRequest) -> tuple[list[str], Any]:
    """(column keys, rows) of one export table, scoped to the viewer."""
    s = db()
    if table == "publications":
        return exports.publication_table(e.publication_rows(s, current_user, req.filter),
                                          req.zone)
    return exports.breakdown_table(e.breakdown(s, current_user, req.filter, table, req.zone),
                                   table, no_label=words.no_campaign())


@bp.get("/ekspor.csv")
@login_required
def export_csv():  # type: ignore[no-untyped-def]
    """One table as CSV for Excel: UTF-8 with a byte order mark, headers in the viewer's
    language, the separator and decimal mark of that language's Excel (``sep`` overrides)."""
    req = _request()
    table = request.args.get("table", "platform")
    if table not in (*BREAKDOWNS, "day", "publications"):
        abort(400, description=_("Unknown table."))
    dialect = words.csv_dialect()
    keys, rows = _table(table, req)
    body = exports.to_csv(words.header(keys, req.zone), rows, words.kinds(keys),
                          dialect=dialect, bom=True)
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition":
        f"attachment; filename={_filename(req, table, 'csv')}"})


@bp.get("/ekspor.xlsx")
@login_required
def export_xlsx():  # type: ignore[no-untyped-def]
    """One workbook: a sheet per breakdown and one with every publication; numbers, rates
    and times are typed cells with formats."""
    req = _request()
    s = db()
    title = _("Engagement report %(first)s – %(last)s", first=req.period.first_day.isoformat(),
              last=req.period.last_day.isoformat())
    with materialized(s, current_user, req.filter):  # six sheets, one snapshot lookup
        sheets = []
        for g in (*BREAKDOWNS, "day", "publications"):
            keys, rows = _table(g, req)
            sheets.append((words.sheet_name(g), words.header(keys, req.zone), rows,
                           words.kinds(keys)))
        data = exports.to_xlsx(sheets, title=title, formats=words.xlsx_formats())
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition":
                        f"attachment; filename={_filename(req, None, 'xlsx')}"})


def _now() -> datetime:
    return get_core().now()


from web.reports import campaigns, fanout, inbox, posts, score  # noqa: E402,F401  (more routes on bp)
