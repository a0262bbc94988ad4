"""The emergency broadcast pages (admins only, like the whole admin blueprint): the list with the
"start" form, one emergency (confirm, edit, cancel, its accounts going out) and its
post-mortem (when each account published, and the whole audit trail).

The rules are the service's (``publisher/services/emergency.py``); a refusal is the page
again with its message and a 4xx status (403 for the starter confirming, 409 for a changed
text), never a redirect that hides why.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import MediaAsset, Unit, User
from publisher.services import emergency as E
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.admin import audit_view
from web.ui.admin.routes import bp
from web.ui.helpers import call, me, message, user_zone

#: Media offered to attach (the newest of the library).
MEDIA_CHOICES = 50


def _ids(name: str) -> list[int]:
    """The ids of a multi-select; anything that is not a small id is dropped (the service
    reports unknown ones)."""
    return [int(v) for v in request.form.getlist(name) if v.isdigit() and len(v) < 10]


def _input() -> E.EmergencyInput:
    every = request.form.get("all_units") == "1"
    return E.EmergencyInput(title=request.form.get("title", ""),
                            body=request.form.get("body", ""),
                            link=request.form.get("link", ""), media_ids=_ids("media"),
                            unit_ids=None if every else _ids("units"))


def _choices() -> dict[str, Any]:
    s = db()
    return {"units": s.execute(select(Unit).order_by(Unit.name)).scalars().all(),
            "media_choices": s.execute(select(MediaAsset).order_by(MediaAsset.id.desc())
                                       .limit(MEDIA_CHOICES)).scalars().all()}


def _list(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("admin/emergencies.html", emergencies=E.listed(db()),
                           errors=errors or {}, values=request.form if errors else {},
                           **_choices()), status


@bp.route("/darurat", methods=["GET", "POST"])
def emergency_list() -> tuple[str, int] | Response:
    if request.method == "POST":
        result = call(E.start, get_core(), db(), me(), _input(), flash_errors=False,
                      ok=_("Emergency started. A second admin must confirm it before it goes "
                           "out."))
        if isinstance(result, ServiceError):
            return _list(result.fields or {"body": message(result)}, result.status)
        return redirect(url_for("admin.emergency_detail", emergency_id=result.id))
    return _list()


def _users() -> dict[int, User]:
    return {u.id: u for u in db().execute(select(User)).unique().scalars()}


def _detail(emergency_id: int, error: str | None = None, errors: dict[str, str] | None = None,
            status: int = 200) -> tuple[str, int]:
    s = db()
    em = call(E.get, s, emergency_id)
    assert not isinstance(em, ServiceError)  # NotFound is a 404 already
    rows = E.rows(s, em.id)
    return render_template(
        "admin/emergency.html", em=em, rows=rows, tally=E.tally(rows), users=_users(),
        chosen=set(em.unit_ids or []), error=error, errors=errors or {},
        values=request.form if errors else {}, me_id=me().id,
        target_count=len(E.targets(s, em.unit_ids)), **_choices()), status


@bp.route("/darurat/<int:emergency_id>")
def emergency_detail(emergency_id: int) -> tuple[str, int]:
    return _detail(emergency_id)


@bp.route("/darurat/<int:emergency_id>/konfirmasi", methods=["POST"])
def emergency_confirm(emergency_id: int) -> tuple[str, int] | Response:
    result = call(E.confirm, get_core(), db(), me(), emergency_id,
                  request.form.get("hash", ""), flash_errors=False,
                  ok=_("Emergency confirmed: it is going out to every account now."))
    if isinstance(result, ServiceError):
        return _detail(emergency_id, error=message(result), status=result.status)
    return redirect(url_for("admin.emergency_detail", emergency_id=emergency_id))


@bp.route("/darurat/<int:emergency_id>/ubah", methods=["POST"])
def emergency_edit(emergency_id: int) -> tuple[str, int] | Response:
    result = call(E.edit, get_core(), db(), me(), emergency_id, _input(), flash_errors=False,
                  ok=_("Emergency changed. It needs a new confirmation by another admin."))
    if isinstance(result, ServiceError):
        return _detail(emergency_id, error=message(result), errors=result.fields,
                       status=result.status)
    return redirect(url_for("admin.emergency_detail", emergency_id=emergency_id))


@bp.route("/darurat/<int:emergency_id>/batal", methods=["POST"])
def emergency_cancel(emergency_id: int) -> tuple[str, int] | Response:
    result = call(E.cancel, get_core(), db(), me(), emergency_id, flash_errors=False,
                  ok=_("Emergency cancelled."))
    if isinstance(result, ServiceError):
        return _detail(emergency_id, error=message(result), status=result.status)
    return redirect(url_for("admin.emergency_detail", emergency_id=emergency_id))


@bp.route("/darurat/<int:emergency_id>/pascakejadian")
def emergency_report(emergency_id: int) -> str:
    """The post-mortem: when each account published, and every audit event of it."""
    s = db()
    em = call(E.get, s, emergency_id)
    assert not isinstance(em, ServiceError)
    rows = E.rows(s, em.id)
    users = _users()
    units = {u.id: u for u in s.execute(select(Unit)).scalars()}
    zone = user_zone()
    trail = [audit_view.view(e, users, units, zone) for e in E.trail(s, em.id)]
    return render_template("admin/emergency_report.html", em=em, rows=rows,
                           tally=E.tally(rows), users=users, units=units, trail=trail,
                           took=E.seconds_to_publish(em, rows))
