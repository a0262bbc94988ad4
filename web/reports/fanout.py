"""Campaign fan-out pages ("narasi tunggal"), under the campaign they belong to: an admin
writes the message once and sends it to chosen units (or all), and sends it later to more.
The per-unit status is part of the campaign's compliance page (``campaign.html``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Channel, Role, Unit
from publisher.reports import campaigns as campaign_svc
from publisher.reports.report import viewer_zone
from publisher.services import fanout as svc
from publisher.services.errors import NotFound, ServiceError
from publisher.services.query_args import small_int
from publisher.timeutil import BadTime, parse_time
from web.app import db, get_core
from web.reports.routes import bp
from web.ui.helpers import me, message


def _admin_only() -> None:
    if me().role != Role.ADMIN:
        abort(403)


def _unit_ids(all_units: list[Unit]) -> list[int] | None:
    """The chosen units, every unit for "all", ``None`` for a value that is no unit id."""
    if request.form.get("all_units") == "1":
        return [u.id for u in all_units]
    ids = [small_int(x) for x in request.form.getlist("units")]
    return None if any(i is None for i in ids) else [i for i in ids if i is not None]


@bp.route("/kampanye/<int:campaign_id>/narasi-tunggal", methods=["GET", "POST"])
@login_required
def fanout_new(campaign_id: int):  # type: ignore[no-untyped-def]
    """Write a campaign message and send it (admins)."""
    _admin_only()
    s, core = db(), get_core()
    try:
        campaign = campaign_svc.get_campaign(s, me(), campaign_id)
    except ServiceError:
        abort(404)
    zone = viewer_zone(me(), core.settings.timezone)
    units = list(s.execute(select(Unit).order_by(Unit.name)).scalars())
    platforms = sorted(set(s.execute(select(Channel.platform).distinct()).scalars()))
    form = request.form
    errors: dict[str, str] = {}
    if request.method == "POST":
        when = None
        try:
            when = parse_time(form["scheduled_at"], zone) if form.get("scheduled_at") else None
        except BadTime as exc:
            errors["scheduled_at"] = str(exc)
        window = small_int(form.get("window_hours", "").strip() or "0")
        unit_ids = _unit_ids(units)
        if unit_ids is None:
            errors["units"] = _("Unknown unit.")
        if not errors:
            try:
                fanout = svc.create_fanout(
                    core, s, me(), campaign_id=campaign.id, body=form.get("body", ""),
                    link=form.get("link", ""), platforms=form.getlist("platforms"),
                    scheduled_at=when, window_hours=window, unit_ids=unit_ids or [])
                n = len(unit_ids or [])
                s.commit()
                flash(_("The campaign message was sent to %(n)s unit(s) as drafts.", n=n),
                      "success")
                return redirect(url_for("reports.campaign", campaign_id=campaign.id,
                                        _anchor=f"narasi-{fanout.id}"))
            except ServiceError as exc:
                s.rollback()
                if exc.status == 403:
                    abort(403)
                errors = {k: str(v) for k, v in exc.fields.items()} or {"body": message(exc)}
                if exc.fields:
                    flash(message(exc), "error")
    return render_template("reports/fanout_new.html", campaign=campaign, units=units,
                           platforms=platforms, errors=errors, form=form, zone=zone,
                           max_window=svc.MAX_WINDOW_HOURS), (400 if errors else 200)


@bp.post("/kampanye/<int:campaign_id>/narasi-tunggal/<int:fanout_id>/kirim")
@login_required
def fanout_send(campaign_id: int, fanout_id: int) -> Response:
    """Send a campaign message to more units; units that have it already are skipped."""
    _admin_only()
    s, core = db(), get_core()
    try:
        fanout = svc.get_fanout(s, me(), fanout_id)
    except NotFound:
        abort(404)
    if fanout.campaign_id != campaign_id:
        abort(404)
    units = list(s.execute(select(Unit).order_by(Unit.name)).scalars())
    unit_ids = _unit_ids(units)
    if unit_ids is None:
        abort(400)
    try:
        made = svc.send_to_units(core, s, me(), fanout, unit_ids)
        s.commit()
        flash(_("Sent to %(n)s more unit(s); units that had it already were skipped.",
                n=len(made)), "success")
    except ServiceError as exc:
        s.rollback()
        flash(message(exc), "error")
    return redirect(url_for("reports.campaign", campaign_id=campaign_id,
                            _anchor=f"narasi-{fanout.id}"))


@bp.post("/kampanye/<int:campaign_id>/narasi-tunggal/<int:fanout_id>/setujui-tahap")
@login_required
def fanout_preapprove(campaign_id: int, fanout_id: int) -> Response:
    """A region verifier approves Diskominfo's stage of every unit's copy at once."""
    if not me().region_verifier:
        abort(403)
    s, core = db(), get_core()
    try:
        done = svc.preapprove(core, s, me(), fanout_id)
        s.commit()
        flash(_("Diskominfo's stage approved for %(n)s unit copies; each unit's own approval "
                "still follows.", n=len(done)), "success")
    except NotFound:
        s.rollback()
        abort(404)
    except ServiceError as exc:
        s.rollback()
        flash(message(exc), "error")
    return redirect(url_for("reports.campaign", campaign_id=campaign_id,
                            _anchor=f"narasi-{fanout_id}"))
