"""The weekly report's outside recipients (admins): list (paged), add, remove — the web twin
of ``warta report recipients``."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Unit
from publisher.notify import report_recipients
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.admin.routes import bp
from web.ui.helpers import call, me, message, paginate

PER_PAGE = 50


def _page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    s = db()
    page = paginate(s, report_recipients.ordered(), per_page=PER_PAGE)
    values = {k: request.form.get(k, "") for k in ("email", "name", "lang", "unit")} \
        if errors else {}
    return render_template(
        "admin/report_recipients.html", page=page, errors=errors or {}, values=values,
        units={u.id: u for u in s.execute(select(Unit).order_by(Unit.name)).scalars()},
        smtp_on=get_core().settings.smtp is not None), status


@bp.route("/laporan-mingguan", methods=["GET", "POST"])
def report_recipients_page() -> tuple[str, int] | Response:
    if request.method == "POST":
        result = call(report_recipients.add, get_core(), db(), me(), request.form,
                      flash_errors=False, ok=_("Recipient saved."))
        if isinstance(result, ServiceError):
            return _page(result.fields or {"email": message(result)}, 400)
        return redirect(url_for("admin.report_recipients_page"))
    return _page()


@bp.route("/laporan-mingguan/<int:recipient_id>/hapus", methods=["POST"])
def report_recipient_remove(recipient_id: int) -> Response:
    call(report_recipients.remove, get_core(), db(), me(), recipient_id,
         ok=_("Recipient removed."))
    return redirect(url_for("admin.report_recipients_page"))
