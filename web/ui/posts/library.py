"""The media library pages ("Pustaka media"): search a unit's uploads and the region-wide
assets, upload through the same service (and media store) as the composer, describe an asset
(alt text, tags, name; admins share it with every unit) and delete one no post uses.

The rules are the service's (``publisher/services/media_library.py``); another unit's asset
is a 404 here, a region-wide one of another unit is shown read-only.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from publisher.services import media as media_service
from publisher.services import media_library as L
from publisher.services.errors import Forbidden, ServiceError
from publisher.timeutil import parse_time
from web.app import db, get_core
from web.ui.helpers import MAX_PAGE, call, int_arg, me, message, user_zone
from web.ui.posts.routes import bp


def _day(raw: str, field: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _filter() -> tuple[L.LibraryFilter, dict[str, str]]:
    """The search form's fields; the dates are whole days in the viewer's zone."""
    args, errors = request.args, dict[str, str]()
    zone = user_zone()
    since, until = _day(args.get("dari", ""), "dari", errors), \
        _day(args.get("sampai", ""), "sampai", errors)
    page = int_arg("halaman", 1) or 1
    f = L.LibraryFilter(q=args.get("q", "")[:L.QUERY_MAX], tag=args.get("tag", "")[:40],
                        kind=args.get("jenis", ""), page=max(1, min(page, MAX_PAGE)))
    if since is not None:
        f.since = parse_time(datetime.combine(since, time()), zone)
    if until is not None:
        f.until = parse_time(datetime.combine(until, time()), zone) + timedelta(days=1)
    return f, errors


def duration_label(seconds: float | None) -> str:
    """A video's length as m:ss (h:mm:ss past an hour)."""
    if seconds is None:
        return ""
    total = int(round(seconds))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _page_url(page: int) -> str:
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "halaman" and v}
    return url_for("posts.library", halaman=page, **args)


@bp.route("/media", methods=["GET"])
@login_required
def library() -> tuple[str, int]:
    f, errors = _filter()
    result = L.search(db(), me(), f) if not errors else L.LibraryPage([], 1, False)
    return render_template("posts/library.html", result=result, f=f, fields=errors,
                           args=request.args, duration=duration_label, page_url=_page_url,
                           may_change=L.may_change), 400 if errors else 200


@bp.route("/media", methods=["POST"])
@login_required
def library_upload() -> Response:
    """Upload from the library: the composer's service and store, then the list."""
    files = [f for f in request.files.getlist("file") if f and f.filename]
    if not files:
        flash(_("Choose a photo or video to upload."), "error")
        return redirect(url_for("posts.library"))
    core, s, user = get_core(), db(), me()
    done = 0
    for file in files:
        result = call(media_service.upload_media, core, s, user, file.stream, file.filename)
        if isinstance(result, ServiceError):
            break
        done += 1
    if done:
        flash(_("%(num)d file(s) added to the library.", num=done), "success")
    return redirect(url_for("posts.library"))


def _asset_page(asset_id: int, fields: dict[str, str] | None = None,
                status: int = 200) -> tuple[str, int]:
    s, user = db(), me()
    asset = call(L.get_visible, s, asset_id, user)
    if isinstance(asset, ServiceError):
        abort(404)
    used = L.where_used(s, user, [asset.id])[asset.id]
    return render_template("posts/library_asset.html", asset=asset, used=used,
                           editable=L.may_change(user, asset), fields=fields or {},
                           values=request.form if fields else {},
                           duration=duration_label), status


@bp.route("/media/<int:media_id>/rincian", methods=["GET"])
@login_required
def library_asset(media_id: int) -> tuple[str, int]:
    return _asset_page(media_id)


@bp.route("/media/<int:media_id>/rincian", methods=["POST"])
@login_required
def library_asset_update(media_id: int) -> tuple[str, int] | Response:
    form = request.form
    share = None
    if me().is_admin:
        share = form.get("region_wide") == "1"
    result = call(L.update_asset, get_core(), db(), me(), media_id,
                  name=form.get("name"), alt_text=form.get("alt_text"), tags=form.get("tags"),
                  region_wide=share, ok=_("Media details saved."), flash_errors=False)
    if isinstance(result, Forbidden):
        abort(403)
    if isinstance(result, ServiceError):
        flash(message(result), "error")
        return _asset_page(media_id, result.fields or {}, result.status)
    return redirect(url_for("posts.library_asset", media_id=media_id))


@bp.route("/media/<int:media_id>/hapus", methods=["POST"])
@login_required
def library_delete(media_id: int) -> tuple[str, int] | Response:
    core = get_core()
    result = call(L.delete_asset, core, db(), me(), media_id, ok=_("The medium was deleted."))
    if isinstance(result, Forbidden):
        abort(403)
    if isinstance(result, ServiceError):  # in use: flashed with the count; the page again
        return _asset_page(media_id, status=409)
    if result is not None:
        L.remove_file(core, result)
    return redirect(url_for("posts.library"))
