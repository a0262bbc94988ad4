"""Read-only public routes; every number comes from ``publisher.reports.public``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, render_template, request

from publisher.reports import exports
from publisher.reports.period import month_period
from publisher.reports.public import PUBLIC_FIGURES, public_report
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.formatting import lang

bp = Blueprint("public", __name__)


def _data() -> tuple[dict, str]:
    core = get_core()
    zone = core.settings.timezone
    try:
        period = month_period(request.args.get("bulan"), zone, core.now())
    except ServiceError as exc:
        abort(400, description=exc.message_en if lang() == "en" else exc.message)
    return public_report(db(), period, core.now()), zone


@bp.get("/laporan")
def report():  # type: ignore[no-untyped-def]
    data, zone = _data()
    return render_template("public/report.html", data=data, zone=zone)


@bp.get("/laporan.json")
def report_json():  # type: ignore[no-untyped-def]
    data, zone = _data()
    links = [{**link, "published_at": link["published_at"].isoformat()} for link in data["links"]]
    resp = jsonify({"month": data["month"], "timezone": zone, "totals": data["totals"],
                    "publications": links, "citizen_voice": data["citizen_voice"]})
    resp.headers["Access-Control-Allow-Origin"] = "*"
    return resp


@bp.get("/laporan.csv")
def report_csv():  # type: ignore[no-untyped-def]
    data, _zone = _data()
    header = ["month", "unit", "platform", *PUBLIC_FIGURES, "engagement_rate"]
    rows = [[data["month"], t["unit"], t["platform"], *[t[k] for k in PUBLIC_FIGURES],
             t["engagement_rate"]] for t in data["totals"]]
    return Response(exports.to_csv(header, rows), mimetype="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=laporan-publik-{data['month']}.csv"})
