"""Bulk import pages: upload a spreadsheet, read the preview, create every row or none.

Between the preview and "create", nothing is kept on the server: the preview page carries the
rows it showed back in one hidden field, signed with the app's secret key (salted for this
use, compressed) and bound to the user, the unit, the mode and the time it was made (an hour,
on the core's clock). "Create" checks every row again against the database as it is then,
so a channel renamed or disabled in between is caught; the copy's random id goes into the
``post.bulk_import`` audit event, and a second "create" of the same preview is refused. This
works behind a load balancer with no shared folder, and leaves no temporary file to sweep.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Unit
from publisher.services import bulk_files
from publisher.services import bulk_import as importer
from publisher.services.errors import NotFound, ServiceError, Text
from publisher.services.query_args import MAX_ID
from publisher.timeutil import zone_label
from web.app import db, get_core
from web.ui.helpers import int_arg, lang, me, message
from web.ui.posts.routes import bp

#: How long a preview may wait for its "create".
PREVIEW_LIFETIME = timedelta(hours=1)
_SALT = "warta.bulk-import.v1"


class _Json:
    """itsdangerous's serializer with UTF-8 kept as it is (its default escapes every
    non-ASCII character to six bytes before compressing)."""

    @staticmethod
    def dumps(obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def loads(data: str | bytes) -> Any:
        return json.loads(data)


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=_SALT,  # type: ignore[arg-type]
                             serializer=_Json)


def seal(source: bulk_files.SourceFile, unit_id: int, submit: bool) -> str:
    """The preview's rows as a signed, compressed token for the page's hidden field."""
    return _signer().dumps({"user": me().id, "unit": unit_id, "submit": submit,
                            "at": get_core().now().isoformat(), "id": secrets.token_hex(16),
                            "source": source.to_json()})


def unseal(token: str) -> dict[str, Any] | None:
    """The preview's copy if it is intact, this user's, and young enough; else ``None``."""
    try:
        payload = _signer().loads(token)
        made = datetime.fromisoformat(payload["at"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if payload.get("user") != me().id or get_core().now() - made > PREVIEW_LIFETIME:
        return None
    return payload  # type: ignore[no-any-return]


def _text(t: Text | str) -> str:
    return getattr(t, "en", str(t)) if lang() == "en" else str(t)


def _units() -> list[Unit]:
    return list(db().execute(select(Unit).order_by(Unit.name)).scalars()) if me().is_admin \
        else []


def _form(error: str | None = None, status: int = 200, unit_id: int | None = None,
          submit: bool = False) -> tuple[str, int]:
    user = me()
    unit = user.unit if not user.is_admin else (
        db().get(Unit, unit_id) if unit_id and 0 < unit_id <= MAX_ID else None)
    return render_template("posts/import.html", error=error, units=_units(), unit=unit,
                           submit=submit, max_rows=bulk_files.MAX_ROWS,
                           max_mb=bulk_files.MAX_FILE_BYTES // (1024 * 1024)), status


def _preview(plan: importer.ImportPlan, source: bulk_files.SourceFile, *,
             payload: str | None, status: int = 200,
             error: str | None = None) -> tuple[str, int]:
    unit = db().get(Unit, plan.unit_id)
    return render_template("posts/import_preview.html", plan=plan, source=source, unit=unit,
                           zone=plan.zone, zone_abbr=zone_label(plan.zone), payload=payload,
                           error=error, text=_text, units=_units(), submit=plan.submit,
                           max_mb=bulk_files.MAX_FILE_BYTES // (1024 * 1024)), status


@bp.route("/unggahan/impor", methods=["GET"])
@login_required
def import_form() -> tuple[str, int]:
    return _form(unit_id=int_arg("unit"))


@bp.route("/unggahan/impor", methods=["POST"])
@login_required
def import_check() -> tuple[str, int]:
    """Read the file and show what would be created, row by row; nothing is written."""
    s, core, user = db(), get_core(), me()
    unit_id = request.form.get("unit", type=int)
    submit = request.form.get("mode") == "submit"
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _form(_("Choose a CSV or XLSX file to import."), 400, unit_id, submit)
    data = upload.stream.read(bulk_files.MAX_FILE_BYTES + 1)
    try:
        source = bulk_files.read_spreadsheet(data, upload.filename)
        plan = importer.plan_import(core, s, user, source, unit_id=unit_id, submit=submit)
    except ServiceError as exc:
        s.rollback()
        return _form(message(exc), exc.status, unit_id, submit)
    s.rollback()  # nothing to keep: the plan holds plain values
    token = seal(source, plan.unit_id, submit) if plan.ok else None
    return _preview(plan, source, payload=token)


@bp.route("/unggahan/impor/buat", methods=["POST"])
@login_required
def import_create() -> tuple[str, int] | Response:
    """Create every row of a preview in one transaction, or nothing."""
    s, core, user = db(), get_core(), me()
    payload = unseal(request.form.get("payload", ""))
    if payload is None:
        return _form(_("This preview has expired or cannot be read. Upload the file again."),
                     400)
    source = bulk_files.SourceFile.from_json(payload["source"])
    submit = bool(payload["submit"])
    try:
        posts = importer.apply_import(core, s, user, source, unit_id=payload["unit"],
                                      submit=submit, import_id=str(payload["id"]))
        s.commit()
    except importer.ImportRefused as exc:
        s.rollback()
        return _preview(exc.plan, source, payload=None, status=409, error=message(exc))
    except (NotFound, ServiceError) as exc:
        s.rollback()
        flash(message(exc), "error")
        return redirect(url_for("posts.index"))
    n = len(posts)
    flash(ngettext("%(num)d post was created and submitted for approval.",
                   "%(num)d posts were created and submitted for approval.", n) if submit
          else ngettext("%(num)d draft was created.", "%(num)d drafts were created.", n),
          "success")
    return redirect(url_for("posts.index"))


@bp.route("/unggahan/impor/templat.csv")
@login_required
def import_template_csv() -> Response:
    header, example = _example()
    return _download(bulk_files.template_csv(header, example), "csv", "text/csv; charset=utf-8")


@bp.route("/unggahan/impor/templat.xlsx")
@login_required
def import_template_xlsx() -> Response:
    header, example = _example()
    return _download(bulk_files.template_xlsx(header, example, _("Posts")), "xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _example() -> tuple[list[str], list[Any]]:
    """The template's headers (in the user's language) and one example row with the unit's
    channels (an admin's ``?unit=``; anyone else's own unit)."""
    user = me()
    chosen = int_arg("unit") if user.is_admin else None
    unit = user.unit if not user.is_admin else (
        db().get(Unit, chosen) if chosen and 0 < chosen <= MAX_ID else None)
    return importer.example_row(get_core(), db(), unit, lang() == "en")


def _download(body: bytes, kind: str, mime: str) -> Response:
    response = make_response(body)
    response.headers["Content-Type"] = mime
    name = "post-import-template" if lang() == "en" else "templat-impor-unggahan"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    return response
