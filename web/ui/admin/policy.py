"""The admin page of policy rules: the region's and campaigns' rules checked before approval
(``publisher/services/policy.py``). Admin-only through the blueprint's guard."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Campaign
from publisher.services import policy as P
from publisher.services import policy_rules
from publisher.services.errors import ServiceError
from publisher.services.query_args import small_int
from web.app import db, get_core
from web.ui.admin.routes import bp
from web.ui.helpers import call, me, message

KIND_LABELS = {
    P.REQUIRED_TAG: _l("Required hashtag or mention"),
    P.BANNED_PHRASE: _l("Banned word or phrase"),
    P.ALT_TEXT: _l("Alt text required on images"),
    P.LINK_DOMAINS: _l("Allowed link domains"),
    P.DAILY_LIMIT: _l("Most posts per channel per day"),
    P.NEAR_DUPLICATE: _l("Near-duplicate text across units"),
}
VALUE_HINTS = {
    P.REQUIRED_TAG: _l("One hashtag or mention, e.g. #JagaJakarta"),
    P.BANNED_PHRASE: _l("The word or phrase; write the reason below"),
    P.ALT_TEXT: _l("No value needed"),
    P.LINK_DOMAINS: _l("Domains separated by commas, e.g. go.id, kemkes.go.id"),
    P.DAILY_LIMIT: _l("A number from 1 to 100"),
    P.NEAR_DUPLICATE: _l("Similarity in percent, 50-100 (default 90)"),
}


def _campaign(raw: str | None) -> int | None:
    return small_int(raw)


def _page(errors: dict[str, str] | None = None, status: int = 200,
          row: int | None = None) -> tuple[str, int]:
    s = db()
    campaigns = s.execute(select(Campaign).where(Campaign.unit_id.is_(None))
                          .order_by(Campaign.name).limit(200)).scalars().all()
    return render_template("admin/policy.html", rules=policy_rules.list_rules(s),
                           campaigns=campaigns, names={c.id: c.name for c in campaigns},
                           kinds=KIND_LABELS, hints=VALUE_HINTS, errors=errors or {},
                           error_row=row, values=request.form if errors else {}), status


@bp.route("/kebijakan", methods=["GET", "POST"])
def policy_list() -> tuple[str, int] | Response:
    if request.method == "POST":
        f = request.form
        result = call(policy_rules.create_rule, get_core(), db(), me(),
                      kind=f.get("kind", ""), severity=f.get("severity", ""),
                      value=f.get("value", ""), reason=f.get("reason", ""),
                      campaign_id=_campaign(f.get("campaign")), ok=_("Rule saved."),
                      flash_errors=False)
        if isinstance(result, ServiceError):
            return _page(result.fields or {"kind": message(result)}, 400)
        return redirect(url_for("admin.policy_list"))
    return _page()


@bp.route("/kebijakan/<int:rule_id>", methods=["POST"])
def policy_update(rule_id: int) -> tuple[str, int] | Response:
    f = request.form
    result = call(policy_rules.update_rule, get_core(), db(), me(), rule_id,
                  severity=f.get("severity", ""), value=f.get("value", ""),
                  reason=f.get("reason", ""), campaign_id=_campaign(f.get("campaign")),
                  active=f.get("active") == "1", ok=_("Rule updated."), flash_errors=False)
    if isinstance(result, ServiceError):
        return _page(result.fields or {"value": message(result)}, 400, row=rule_id)
    return redirect(url_for("admin.policy_list"))


@bp.route("/kebijakan/<int:rule_id>/hapus", methods=["POST"])
def policy_delete(rule_id: int) -> Response:
    call(policy_rules.delete_rule, get_core(), db(), me(), rule_id, ok=_("Rule deleted."))
    return redirect(url_for("admin.policy_list"))
