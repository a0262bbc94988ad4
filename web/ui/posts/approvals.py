"""The approval queue: submitted posts of the approver's unit (admins: all units)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Channel, Post, PostStatus, Role
from publisher.services import posts as post_service
from publisher.services.access import scope
from publisher.services.approval import content_hash
from web.app import db, get_core
from web.ui.helpers import call, me, role_required

bp = Blueprint("approvals", __name__)


@bp.route("/persetujuan")
@login_required
def index() -> str:
    s, user = db(), me()
    q = scope(select(Post).where(Post.status == PostStatus.SUBMITTED)
              .order_by(Post.submitted_at), user, Post.unit_id)
    if user.role == Role.OPERATOR:
        q = q.where(Post.author_id == user.id)
    posts = list(s.execute(q).unique().scalars())
    ids = {cid for p in posts for cid in p.channel_ids}
    channels = {c.id: c for c in s.execute(select(Channel).where(Channel.id.in_(ids)))
                .unique().scalars()} if ids else {}
    core = get_core()
    return render_template("posts/approvals.html", posts=posts, channels=channels,
                           can_approve=user.role in (Role.APPROVER, Role.ADMIN),
                           not_mine_to_approve={p.id for p in posts if not
                                                post_service.may_approve(core, s, user, p)},
                           seen_hashes={p.id: content_hash(p) for p in posts})


@bp.route("/persetujuan/<int:post_id>/setujui", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def approve(post_id: int) -> Response:
    call(post_service.approve_post, get_core(), db(), me(), post_id,
         request.form.get("seen") or None,
         ok=_("Approved. It will be published at its scheduled time."))
    return redirect(url_for("approvals.index"))


@bp.route("/persetujuan/<int:post_id>/tolak", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def reject(post_id: int) -> Response:
    call(post_service.reject_post, get_core(), db(), me(), post_id,
         request.form.get("comment", ""),
         ok=_("Rejected. The author will see your reason."))
    return redirect(url_for("approvals.index"))
