"""The composer (new and edit): save a draft or submit it for approval."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import or_, select
from werkzeug.wrappers import Response

from publisher.models import Campaign, Channel, ChannelStatus, MediaAsset, Post, Unit
from publisher.services import media as media_service
from publisher.services import media_library, policy_gate
from publisher.services import posts as post_service
from publisher.services import templates as T
from publisher.services.access import get_scoped, scope
from publisher.services.errors import NotFound, ServiceError
from publisher.services.query_args import small_int
from publisher.timeutil import zone_label
from web.app import db, get_core
from web.ui.helpers import call, int_arg, local_input, me
from web.ui.posts import recurrence as rec_page
from web.ui.posts import tools
from web.ui.posts.forms import alt_texts, channel_info, channel_widgets, parse_composer
from web.ui.posts.policy import acked_rules, grouped
from web.ui.posts.routes import bp


def _unit_id(post: Post | None) -> int | None:
    if post is not None:
        return post.unit_id
    user = me()
    if user.unit_id is not None:
        return user.unit_id
    chosen = request.form.get("unit", type=int) or int_arg("unit")
    if chosen is None:
        first = db().execute(select(Unit.id).order_by(Unit.name)).scalars().first()
        return first
    return chosen


def _channels(unit_id: int | None) -> list[Channel]:
    q = (select(Channel).where(Channel.unit_id == unit_id,
                               Channel.status != ChannelStatus.DISABLED)
         .order_by(Channel.platform, Channel.name))
    return list(db().execute(scope(q, me(), Channel.unit_id)).unique().scalars())


def _values_from_post(post: Post | None) -> dict[str, Any]:
    if post is None:
        return {"body": "", "channels": [], "media": [], "campaign": None, "link": "",
                "when": "now", "scheduled_at": "", "overrides": {}, "alts": {},
                "recurrence": rec_page.values_from_post(None)}
    zone = post.unit.timezone
    return {"body": post.body, "channels": post.channel_ids, "media": post.media,
            "campaign": post.campaign_id, "link": post.link or "",
            "when": "later" if post.scheduled_at else "now",
            "scheduled_at": local_input(post.scheduled_at, zone), "overrides": post.overrides or {},
            "alts": {link.media_id: link.alt_text for link in post.media_links},
            "recurrence": rec_page.values_from_post(post)}


def _values_from_form(unit_id: int | None) -> dict[str, Any]:
    form = request.form
    media_ids = list(dict.fromkeys(n for m in form.getlist("media")
                                   if (n := small_int(m)) is not None))
    assets = [a for a in (db().get(MediaAsset, m) for m in media_ids)
              if a is not None and (a.unit_id == unit_id or a.region_wide)]
    overrides: dict[str, Any] = {}
    for key, value in form.items():
        for prefix, slot in (("o_body_", "body"), ("o_title_", "title"),
                             ("first_comment_", "first_comment")):
            if key.startswith(prefix) and value:
                overrides.setdefault(key[len(prefix):], {})[slot] = value
        if key.startswith("o_opt_") and value:
            cid, _sep, name = key[len("o_opt_"):].partition("_")
            overrides.setdefault(cid, {}).setdefault("options", {})[name] = value
        if key.startswith("o_media_"):
            picked = [n for m in form.getlist(key) if (n := small_int(m)) is not None]
            if picked:
                overrides.setdefault(key[len("o_media_"):], {})["media"] = picked
    return {"body": form.get("body", ""),
            "channels": [n for c in form.getlist("channels") if (n := small_int(c)) is not None],
            "media": assets, "campaign": form.get("campaign", type=int),
            "link": form.get("link", ""), "when": form.get("when", "now"),
            "scheduled_at": form.get("scheduled_at", ""), "overrides": overrides,
            "alts": alt_texts(form), "recurrence": rec_page.values_from_form(form)}


def _render(post: Post | None, unit_id: int | None, values: dict[str, Any],
            fields: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    s, core = db(), get_core()
    channels = _channels(unit_id)
    campaigns = s.execute(select(Campaign).where(
        or_(Campaign.unit_id.is_(None), Campaign.unit_id == unit_id))
        .order_by(Campaign.name)).scalars().all()
    unit = s.get(Unit, unit_id) if unit_id else None
    zone = unit.timezone if unit else core.settings.timezone
    problems = (post_service.validation_problems(core, s, post)
                if post is not None and post.status in ("draft", "rejected") else {})
    units = (s.execute(select(Unit).order_by(Unit.name)).scalars().all()
             if me().is_admin and post is None else [])
    infos = [channel_info(c) for c in channels]
    offered = tools.offered(me(), unit_id)
    attached = {m.id for m in values.get("media") or []}
    library = [a for a in media_library.pickable(s, me(), unit_id) if a.id not in attached]
    if request.method == "GET" and post is None and request.args.get("templat"):
        tools.apply(me(), values, {c.id for c in channels}, {c.id for c in campaigns},
                    action="template", template_arg=request.args.get("templat"))
    shown = (grouped(policy_gate.check_post(core, s, post), acked_rules(request.form))
             if post is not None and post.status in ("draft", "rejected") else [])
    return render_template(
        "posts/composer.html", post=post, values=values, fields=fields or {},
        channels=infos, campaigns=campaigns, units=units, unit=unit, zone=zone_label(zone),
        problems=problems, shown=shown, widgets={i["id"]: channel_widgets(i) for i in infos},
        placeholders=T.placeholders(values.get("body") or ""), library=library, **offered,
        freq_choices=rec_page.FREQ_CHOICES, weekday_choices=rec_page.WEEKDAY_CHOICES,
        nth_choices=rec_page.NTH_CHOICES
    ), status


def _use_tool(post: Post | None, unit_id: int | None, action: str) -> tuple[str, int]:
    """A content tool's round-trip: the form as sent, with the tool applied; not saved."""
    values = _values_from_form(unit_id)
    channels = {c.id for c in _channels(unit_id)}
    campaigns = set(db().execute(select(Campaign.id).where(
        or_(Campaign.unit_id.is_(None), Campaign.unit_id == unit_id))).scalars())
    tools.apply(me(), values, channels, campaigns, action=action,
                template_arg=request.form.get("template"))
    return _render(post, unit_id, values)


def _save(post: Post | None) -> tuple[str, int] | Response:
    s, core, user = db(), get_core(), me()
    unit_id = _unit_id(post)
    action = request.form.get("action")
    if action in tools.TOOL_ACTIONS:
        return _use_tool(post, unit_id, action)
    if action == "pick":  # "Pick from the library": the form again with them attached
        return _render(post, unit_id, _values_from_form(unit_id))
    channels = {c.id: c for c in _channels(unit_id)}
    zone = s.get(Unit, unit_id).timezone if unit_id and s.get(Unit, unit_id) else \
        core.settings.timezone
    data, errors = parse_composer(request.form, channels, zone)
    values = _values_from_form(unit_id)
    if errors:
        flash(_("Please check the highlighted fields."), "error")
        return _render(post, unit_id, values, errors, 400)
    for upload in request.files.getlist("upload"):
        if upload and upload.filename:  # the no-JavaScript path: files come with the form
            asset = call(media_service.upload_media, core, s, user, upload.stream,
                         upload.filename)
            if isinstance(asset, ServiceError):
                return _render(post, unit_id, values, asset.fields, 400)
            data.media = [*(data.media or []), asset.id]
            values["media"] = [*values["media"], asset]
    if post is None:
        result = call(post_service.create_post, core, s, user, data, unit_id=unit_id)
    else:
        result = call(post_service.update_post, core, s, user, post.id, data)
    if isinstance(result, ServiceError):
        return _render(post, unit_id, values, result.fields, 400)
    saved: Post = result
    if request.form.get("action") == "submit":
        submitted = call(post_service.submit_post, core, s, user, saved.id,
                         acked_rules(request.form),
                         ok=_("The post has been submitted for approval."))
        if isinstance(submitted, ServiceError):
            flash(_("The draft was saved, but it cannot be submitted yet: fix the problems "
                    "listed below."), "info")
            return redirect(url_for("posts.edit", post_id=saved.id))
        return redirect(url_for("posts.detail", post_id=saved.id))
    flash(_("Draft saved."), "success")
    return redirect(url_for("posts.edit", post_id=saved.id))


@bp.route("/unggahan/baru", methods=["GET", "POST"])
@login_required
def new() -> tuple[str, int] | Response:
    if request.method == "POST":
        return _save(None)
    return _render(None, _unit_id(None), _values_from_post(None))


@bp.route("/unggahan/<int:post_id>/ubah", methods=["GET", "POST"])
@login_required
def edit(post_id: int) -> tuple[str, int] | Response:
    try:
        post = get_scoped(db(), Post, post_id, me())
    except NotFound:
        abort(404)
    if post.status == "cancelled":
        flash(_("A cancelled post cannot be edited; duplicate it as a new draft instead."),
              "error")
        return redirect(url_for("posts.detail", post_id=post.id))
    if request.method == "POST":
        return _save(post)
    return _render(post, post.unit_id, _values_from_post(post))
