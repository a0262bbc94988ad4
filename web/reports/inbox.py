"""``/laporan/suara-warga``: the citizen inbox in figures (``publisher.reports.inbox``) and the
complaints export for SP4N-LAPOR! (``/laporan/suara-warga/aduan.csv`` and ``.xlsx``).

The same period and filters as the engagement report (``parse_request``), the same visibility
as the inbox (a unit: its own posts' comments and those forwarded to it). Every export of
complaints is in the audit log (who, which period, how many rows): they carry citizens' names
and words.
"""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from publisher.reports import exports as x
from publisher.reports import inbox as ib
from publisher.services import audit
from publisher.timeutil import zone_label
from web.app import db, get_core
from web.reports import exports as words
from web.reports.routes import _request, bp, filter_options
from web.ui.inbox.routes import CATEGORY_LABELS, STATUS_LABELS
from web.ui.labels import platform_label


def _category(value: str | None) -> str:
    return str(CATEGORY_LABELS[value]) if value in CATEGORY_LABELS else _("Not categorised")


def _status(value: str) -> str:
    return str(STATUS_LABELS[value]) if value in STATUS_LABELS else value


@bp.get("/suara-warga")
@login_required
def inbox_report():  # type: ignore[no-untyped-def]
    req = _request()
    group = request.args.get("by", "unit")
    if group not in ib.GROUPS:
        abort(400, description=_("Unknown grouping."))
    now = get_core().now()
    s = db()
    rows = ib.breakdown(s, current_user, req.filter, group, now, no_label=_("No campaign"))
    if group == "platform":
        for r in rows:
            r.label = platform_label(str(r.key))
    return render_template("reports/inbox.html", req=req, rows=rows, group=group,
                           total=ib.totals(s, current_user, req.filter, now),
                           categories=[(_category(c), n) for c, n in
                                       ib.categories(s, current_user, req.filter)],
                           opts=filter_options(), args=request.args)


def _complaints_table(req):  # type: ignore[no-untyped-def]
    zone = zone_label(req.zone)
    header = [_("No."), _("Written at (%(zone)s)", zone=zone), _("Platform"), _("Account"),
              _("Citizen (as the platform gives)"), _("Complaint"), _("Post link"),
              _("Responsible unit"), _("Status"), _("Deadline (%(zone)s)", zone=zone),
              _("First response (%(zone)s)", zone=zone)]
    kinds = [x.ID, x.DATETIME, x.TEXT, x.TEXT, x.TEXT, x.TEXT, x.TEXT, x.TEXT, x.TEXT,
             x.DATETIME, x.DATETIME]
    rows = []
    for row in ib.complaint_rows(db(), current_user, req.filter, req.zone):
        row[2] = platform_label(row[2])
        row[8] = _status(row[8])
        rows.append(row)
    return header, kinds, rows


def _audit_export(req, fmt: str, count: int) -> None:  # type: ignore[no-untyped-def]
    """Who exported which citizens' complaints: committed, in a short transaction of its own
    (a GET's session only reads, see ``web.app.db``), before the file leaves."""
    core = get_core()
    with core.sessions.begin() as s:
        audit.record(s, "inbox.export", "citizen_comment", None, actor=current_user,
                     unit_id=current_user.unit_id, at=core.now(),
                     data={"format": fmt, "rows": count,
                           "from": req.period.first_day.isoformat(),
                           "to": req.period.last_day.isoformat(), "unit": req.filter.unit_id,
                           "platform": req.filter.platform,
                           "campaign": req.filter.campaign_id})


def _file(req, ext: str) -> str:  # type: ignore[no-untyped-def]
    prefix = _("complaints")
    return f"{prefix}-{req.period.first_day}-{req.period.last_day}.{ext}"


@bp.get("/suara-warga/aduan.csv")
@login_required
def complaints_csv():  # type: ignore[no-untyped-def]
    req = _request()
    dialect = words.csv_dialect()
    header, kinds, rows = _complaints_table(req)
    _audit_export(req, "csv", len(rows))
    body = x.to_csv(header, rows, kinds, dialect=dialect, bom=True)
    return Response(body, mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename={_file(req, 'csv')}"})


@bp.get("/suara-warga/aduan.xlsx")
@login_required
def complaints_xlsx():  # type: ignore[no-untyped-def]
    req = _request()
    header, kinds, rows = _complaints_table(req)
    _audit_export(req, "xlsx", len(rows))
    title = _("Citizen complaints %(first)s – %(last)s", first=req.period.first_day.isoformat(),
              last=req.period.last_day.isoformat())
    data = x.to_xlsx([(_("Complaints"), header, rows, kinds)], title=title,
                     formats=words.xlsx_formats())
    return Response(data, mimetype="application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet", headers={
                        "Content-Disposition": f"attachment; filename={_file(req, 'xlsx')}"})
