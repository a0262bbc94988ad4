"""The pages that keep post templates and hashtag sets: one list with both and their "new"
forms, and an edit page for each. Who may change what is the service's rule
(``publisher/services/templates.py``); another unit's id is a 404 here."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from publisher.models import Campaign, Channel, ChannelStatus, Unit
from publisher.models.template import HashtagSet, PostTemplate
from publisher.services import templates as T
from publisher.services.access import scope_shared
from publisher.services.errors import Forbidden, NotFound, ServiceError
from web.app import db, get_core
from web.ui.helpers import call, me, message
from web.ui.posts.routes import bp


def _id(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and len(raw) < 12 else None


def _choices(unit_id: int | None) -> dict[str, Any]:
    """Channels of the unit (none for the region's) and the campaigns it may name."""
    s, user = db(), me()
    channels = list(s.execute(select(Channel).where(
        Channel.unit_id == unit_id, Channel.status != ChannelStatus.DISABLED)
        .order_by(Channel.platform, Channel.name).limit(200)).unique().scalars()) \
        if unit_id is not None else []
    q = select(Campaign).where(or_(Campaign.unit_id.is_(None), Campaign.unit_id == unit_id))
    campaigns = s.execute(scope_shared(q, user, Campaign.unit_id).order_by(Campaign.name)
                          .limit(200)).scalars().all()
    return {"channel_choices": channels, "campaign_choices": campaigns}


def _list(errors: dict[str, str] | None = None, form: str | None = None,
          status: int = 200) -> tuple[str, int]:
    s, user = db(), me()
    units = s.execute(select(Unit).order_by(Unit.name).limit(500)).scalars().all() \
        if user.is_admin else []
    return render_template(
        "posts/templates.html", templates=T.manageable(s, PostTemplate, user),
        tagsets=T.manageable(s, HashtagSet, user), units=units,
        unit_names={u.id: u.name for u in units}, errors=errors or {}, failed=form,
        values=request.form if errors else {}, placeholders=T.placeholders,
        **_choices(None if user.is_admin else user.unit_id)), status


def _fields(result: ServiceError, default: str) -> dict[str, str]:
    if isinstance(result, Forbidden):
        abort(403)
    return result.fields or {default: message(result)}


@bp.route("/templat", methods=["GET"])
@login_required
def templates_index() -> tuple[str, int]:
    return _list()


@bp.route("/templat", methods=["POST"])
@login_required
def template_create() -> tuple[str, int] | Response:
    f = request.form
    result = call(T.create_template, get_core(), db(), me(), name=f.get("name", ""),
                  body=f.get("body", ""), unit_id=_id(f.get("unit")),
                  channel_ids=[c for c in map(_id, f.getlist("channels")) if c],
                  campaign_id=_id(f.get("campaign")), ok=_("Template saved."),
                  flash_errors=False)
    if isinstance(result, ServiceError):
        return _list(_fields(result, "name"), "template", 400)
    return redirect(url_for("posts.templates_index"))


@bp.route("/tagar", methods=["POST"])
@login_required
def tagset_create() -> tuple[str, int] | Response:
    f = request.form
    result = call(T.create_set, get_core(), db(), me(), name=f.get("name", ""),
                  tags=f.get("tags", ""), unit_id=_id(f.get("unit")),
                  ok=_("Hashtag set saved."), flash_errors=False)
    if isinstance(result, ServiceError):
        return _list(_fields(result, "name"), "tagset", 400)
    return redirect(url_for("posts.templates_index"))


def _edit_page(kind: str, obj: Any, errors: dict[str, str] | None = None,
               status: int = 200) -> tuple[str, int]:
    return render_template("posts/template_edit.html", kind=kind, obj=obj,
                           errors=errors or {}, values=request.form if errors else {},
                           placeholders=T.placeholders, **_choices(obj.unit_id)), status


def _usable(model: T.Model, object_id: int) -> Any:
    try:
        return T.get_usable(db(), model, me(), object_id)
    except NotFound:
        abort(404)


@bp.route("/templat/<int:template_id>", methods=["GET", "POST"])
@login_required
def template_edit(template_id: int) -> tuple[str, int] | Response:
    t = _usable(PostTemplate, template_id)
    if request.method == "GET":
        return _edit_page("template", t)
    f = request.form
    result = call(T.update_template, get_core(), db(), me(), template_id,
                  name=f.get("name", ""), body=f.get("body", ""),
                  channel_ids=[c for c in map(_id, f.getlist("channels")) if c],
                  campaign_id=_id(f.get("campaign")), ok=_("Template updated."),
                  flash_errors=False)
    if isinstance(result, ServiceError):
        return _edit_page("template", _usable(PostTemplate, template_id),
                          _fields(result, "name"), 400)
    return redirect(url_for("posts.templates_index"))


@bp.route("/templat/<int:template_id>/hapus", methods=["POST"])
@login_required
def template_delete(template_id: int) -> Response:
    result = call(T.delete_template, get_core(), db(), me(), template_id,
                  ok=_("Template deleted."))
    if isinstance(result, Forbidden):
        abort(403)
    return redirect(url_for("posts.templates_index"))


@bp.route("/tagar/<int:set_id>", methods=["GET", "POST"])
@login_required
def tagset_edit(set_id: int) -> tuple[str, int] | Response:
    h = _usable(HashtagSet, set_id)
    if request.method == "GET":
        return _edit_page("tagset", h)
    f = request.form
    result = call(T.update_set, get_core(), db(), me(), set_id, name=f.get("name", ""),
                  tags=f.get("tags", ""), ok=_("Hashtag set updated."), flash_errors=False)
    if isinstance(result, ServiceError):
        return _edit_page("tagset", _usable(HashtagSet, set_id), _fields(result, "name"), 400)
    return redirect(url_for("posts.templates_index"))


@bp.route("/tagar/<int:set_id>/hapus", methods=["POST"])
@login_required
def tagset_delete(set_id: int) -> Response:
    result = call(T.delete_set, get_core(), db(), me(), set_id, ok=_("Hashtag set deleted."))
    if isinstance(result, Forbidden):
        abort(403)
    return redirect(url_for("posts.templates_index"))
