"""Channel pages. Credentials are typed into password fields, verified by the platform
through the service, and never shown back (not even on a failed attempt)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from adapters import AdapterUnavailable, get_adapter_class, platforms
from adapters.base import COMMENTS_OPT_IN
from publisher.models import Channel, Role, Unit
from publisher.services import channels as channel_service
from publisher.services.access import get_scoped, scope
from publisher.services.errors import NotFound, ServiceError
from web.app import db, get_core
from web.ui.helpers import call, me, message, role_required

bp = Blueprint("channels", __name__)


def _fields(platform: str) -> list[tuple[str, str, bool]]:
    try:
        return list(get_adapter_class(platform).credential_fields)
    except AdapterUnavailable:
        return []


def _label(platform: str) -> str:
    try:
        return get_adapter_class(platform).label or platform
    except AdapterUnavailable:
        return platform


def _credentials(platform: str) -> dict[str, Any]:
    return {name: request.form.get(f"cred_{name}", "").strip()
            for name, _label, _secret in _fields(platform)
            if request.form.get(f"cred_{name}", "").strip()}


def notices(channel: Channel) -> tuple[str, ...]:
    """What the channel page must say about the account (``BaseAdapter.channel_notices``)."""
    try:
        return get_adapter_class(channel.platform).channel_notices(channel.state or {})
    except AdapterUnavailable:
        return ()


def _channel(channel_id: int) -> Channel:
    try:
        return get_scoped(db(), Channel, channel_id, me())
    except NotFound:
        abort(404)


@bp.route("/akun")
@login_required
def index() -> str:
    s, user = db(), me()
    channels = s.execute(scope(select(Channel).order_by(Channel.unit_id, Channel.name), user,
                               Channel.unit_id)).unique().scalars().all()
    units = s.execute(select(Unit).order_by(Unit.name)).scalars().all() if user.is_admin else []
    from web.ui.channels.connect import configured_providers

    return render_template("channels/index.html", channels=channels, units=units,
                           providers=configured_providers(),
                           notices={ch.id: notices(ch) for ch in channels},
                           paid_reads={ch.id: _paid_read(ch) for ch in channels},
                           opt_in_key=COMMENTS_OPT_IN)


def _paid_read(channel: Channel) -> float | None:
    """The price of one comment read (USD) when reading is a paid switch, else None."""
    try:
        cls = get_adapter_class(channel.platform)
    except AdapterUnavailable:
        return None
    return float(getattr(cls, "REPLY_READ_USD", 0.0)) if cls.caps.comments_opt_in else None


@bp.route("/akun/baru", methods=["GET", "POST"])
@login_required
def new() -> str | Response | tuple[str, int]:
    s, user = db(), me()
    platform = request.values.get("platform", "")
    fields: dict[str, str] = {}
    summary = ""
    if request.method == "POST" and platform:
        result = call(channel_service.create_channel, get_core(), s, user, platform=platform,
                      name=request.form.get("name", ""), credentials=_credentials(platform),
                      unit_id=request.form.get("unit", type=int), flash_errors=False,
                      ok=_("The channel is connected and verified."))
        if not isinstance(result, ServiceError):
            return redirect(url_for("channels.index"))
        fields, summary = result.fields or {"credentials": ""}, message(result)
    units = s.execute(select(Unit).order_by(Unit.name)).scalars().all() if user.is_admin else []
    page = render_template("channels/new.html", platform=platform,
                           platforms=[(p, _label(p)) for p in platforms()],
                           cred_fields=_fields(platform) if platform else [], fields=fields,
                           summary=summary, units=units, name=request.form.get("name", ""))
    return (page, 400) if fields else page


@bp.route("/akun/<int:channel_id>/sambung-ulang", methods=["GET", "POST"])
@login_required
def reconnect(channel_id: int) -> str | Response | tuple[str, int]:
    channel = _channel(channel_id)
    fields: dict[str, str] = {}
    summary = ""
    if request.method == "POST":
        result = call(channel_service.reconnect_channel, get_core(), db(), me(), channel.id,
                      _credentials(channel.platform), flash_errors=False,
                      ok=_("The channel is reconnected; waiting publications resume now."))
        if not isinstance(result, ServiceError):
            return redirect(url_for("channels.index"))
        fields, summary = result.fields or {"credentials": ""}, message(result)
    from web.ui.channels.connect import provider_for

    page = render_template("channels/reconnect.html", channel=channel,
                           cred_fields=_fields(channel.platform), fields=fields,
                           summary=summary, provider=provider_for(channel.platform),
                           notices=notices(channel))
    return (page, 400) if fields else page


@bp.route("/akun/<int:channel_id>/status", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def toggle(channel_id: int) -> Response:
    disable = request.form.get("disabled") == "1"
    call(channel_service.set_channel_disabled, get_core(), db(), me(), channel_id, disable,
         ok=_("The channel is disabled.") if disable else _("The channel is active again."))
    return redirect(url_for("channels.index"))


@bp.route("/akun/<int:channel_id>/baca-komentar", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def comment_reading(channel_id: int) -> Response:
    """The paid comment reader's switch (X: each reply read is charged)."""
    on = request.form.get("on") == "1"
    call(channel_service.set_comment_reading, get_core(), db(), me(), channel_id, on,
         ok=_("Citizens' replies on this account are read into Suara Warga.") if on
         else _("Replies on this account are no longer read."))
    return redirect(url_for("channels.index"))


@bp.route("/akun/<int:channel_id>/pindah", methods=["POST"])
@login_required
@role_required(Role.ADMIN)
def move(channel_id: int) -> Response:
    unit_id = request.form.get("unit", type=int)
    if unit_id is None:
        abort(400)
    call(channel_service.move_channel, get_core(), db(), me(), channel_id, unit_id,
         ok=_("The channel now belongs to the chosen unit."))
    return redirect(url_for("channels.index"))
