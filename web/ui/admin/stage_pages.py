"""The review stages page (admins, issue 20): each unit's approval stages, reminder and
deadline, each campaign's override, and who is the region's verifier (set on the users page).
The rules are ``publisher/services/review_stages.py``; this page only reads the forms."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Campaign, Unit, User
from publisher.services import review_stages
from publisher.services.errors import Invalid, ServiceError
from publisher.services.query_args import small_int
from web.app import db
from web.ui.admin.routes import bp
from web.ui.helpers import call, me, message


def _page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    s = db()
    return render_template(
        "admin/review_stages.html",
        units=s.execute(select(Unit).order_by(Unit.name)).scalars().all(),
        campaigns=s.execute(select(Campaign).order_by(Campaign.name, Campaign.id)
                            .limit(200)).scalars().all(),
        verifiers=s.execute(select(User).where(User.region_verifier.is_(True))
                            .order_by(User.name)).scalars().all(),
        kinds=review_stages.STAGE_KINDS, max_stages=review_stages.MAX_STAGES,
        errors=errors or {}), status


def _stages_from_form() -> list[str]:
    return [request.form.get(f"stage{i}", "") for i in range(1, review_stages.MAX_STAGES + 1)]


def _hours(name: str) -> int | None:
    """An hours field: empty is none; anything but a whole number is a field error."""
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    value = small_int(raw)
    if value is None:
        raise Invalid("Isi jam dengan angka bulat.", "Enter hours as a whole number.",
                      fields={name: "number"})
    return value


@bp.route("/tahap-persetujuan")
def review_stages_page() -> tuple[str, int]:
    return _page()


@bp.route("/unit/<int:unit_id>/tahap", methods=["POST"])
def set_unit_stages(unit_id: int) -> tuple[str, int] | Response:
    try:
        remind, deadline = _hours("remind_hours"), _hours("deadline_hours")
    except Invalid as exc:
        return _page({f"{k}-{unit_id}": message(exc) for k in exc.fields or {}}, 400)
    result = call(review_stages.set_unit_stages, db(), me(), unit_id, _stages_from_form(),
                  remind_hours=remind, deadline_hours=deadline,
                  ok=_("Approval stages saved. Posts already waiting keep their stages."))
    if isinstance(result, ServiceError):
        fields = result.fields or {"stages": "invalid"}
        return _page({f"{k}-{unit_id}": message(result) for k in fields}, 400)
    return redirect(url_for("admin.review_stages_page"))


@bp.route("/kampanye/<int:campaign_id>/tahap", methods=["POST"])
def set_campaign_stages(campaign_id: int) -> tuple[str, int] | Response:
    result = call(review_stages.set_campaign_stages, db(), me(), campaign_id,
                  _stages_from_form(), ok=_("Campaign approval stages saved."))
    if isinstance(result, ServiceError):
        return _page({f"stages-c{campaign_id}": message(result)}, 400)
    return redirect(url_for("admin.review_stages_page"))


@bp.route("/pengguna/<int:user_id>/verifikator", methods=["POST"])
def set_verifier(user_id: int) -> Response:
    call(review_stages.set_verifier, db(), me(), user_id, request.form.get("on") == "1",
         ok=_("Region verifier updated."))
    return redirect(url_for("admin.users"))
