"""Campaign pages: list, create (admins, approvers), and compliance per expected unit."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from publisher.models import Role, Unit
from publisher.reports import campaigns as svc
from publisher.reports.fanout import fanout_reports
from publisher.reports.report import viewer_zone
from publisher.services.access import scope
from publisher.services.errors import ServiceError
from publisher.timeutil import BadTime, parse_time
from web.app import db, get_core
from web.reports.routes import bp


def _units():  # type: ignore[no-untyped-def]
    return list(db().execute(scope(select(Unit).order_by(Unit.name), current_user, Unit.id))
                .scalars())


@bp.route("/kampanye", methods=["GET", "POST"])
@login_required
def campaigns():  # type: ignore[no-untyped-def]
    s = db()
    core = get_core()
    zone = viewer_zone(current_user, core.settings.timezone)
    errors: dict[str, str] = {}
    form = request.form
    if request.method == "POST":
        due = None
        try:
            if form.get("due_at"):
                due = parse_time(form["due_at"], zone)
            unit_ids = [int(x) for x in form.getlist("units")]
            c = svc.create_campaign(s, current_user, name=form.get("name", ""),
                                    description=form.get("description", ""), due_at=due,
                                    unit_ids=unit_ids, now=core.now())
            s.commit()
            flash(_("Campaign created."), "success")
            return redirect(url_for("reports.campaign", campaign_id=c.id))
        except BadTime as exc:
            errors = {"due_at": str(exc)}
        except ValueError:
            errors = {"units": _("Unknown unit.")}
        except ServiceError as exc:
            s.rollback()
            if exc.status == 403:
                abort(403)
            errors = exc.fields or {"name": exc.message}
    can_create = current_user.role in (Role.ADMIN, Role.APPROVER)
    return render_template("reports/campaigns.html",
                           campaigns=svc.visible_campaigns(s, current_user), units=_units(),
                           errors=errors, form=form, can_create=can_create, zone=zone), \
        (400 if errors else 200)


@bp.get("/kampanye/<int:campaign_id>")
@login_required
def campaign(campaign_id: int):  # type: ignore[no-untyped-def]
    s = db()
    core = get_core()
    try:
        c = svc.get_campaign(s, current_user, campaign_id)
    except ServiceError:
        abort(404)
    return render_template("reports/campaign.html", campaign=c,
                           data=svc.compliance(s, current_user, c, core.now()),
                           fanouts=fanout_reports(s, current_user, c, core.now()),
                           all_units=_units() if current_user.role == Role.ADMIN else [],
                           zone=viewer_zone(current_user, core.settings.timezone))
