"""The approval queue: submitted posts of the approver's unit (admins: all units)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import Channel, Post, PostStatus, Role
from publisher.services import pauses, policy_gate
from publisher.services import posts as post_service
from publisher.services.access import scope
from publisher.services.approval import content_hash
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.helpers import call, fmt_dt, lang, me, paginate, role_required

bp = Blueprint("approvals", __name__)
PER_PAGE = 20


@bp.route("/persetujuan")
@login_required
def index() -> str:
    s, user = db(), me()
    q = scope(select(Post).where(Post.status == PostStatus.SUBMITTED)
              .order_by(Post.submitted_at), user, Post.unit_id)
    if user.role == Role.OPERATOR:
        q = q.where(Post.author_id == user.id)
    # A page at a time, oldest request first: each post is shown with a preview per channel
    # (after a holiday a unit's backlog on one page was megabytes).
    page = paginate(s, q.order_by(Post.id), per_page=PER_PAGE)
    posts = page.items
    ids = {cid for p in posts for cid in p.channel_ids}
    channels = {c.id: c for c in s.execute(select(Channel).where(Channel.id.in_(ids)))
                .unique().scalars()} if ids else {}
    core = get_core()
    en = lang() == "en"
    blocked = {p.id: [v.message.en if en else str(v.message)
                      for v in policy_gate.check_post(core, s, p) if v.hard] for p in posts}
    return render_template("posts/approvals.html", posts=posts, page=page, channels=channels,
                           acks=policy_gate.acks_for(s, posts), blocked=blocked,
                           can_approve=user.role in (Role.APPROVER, Role.ADMIN),
                           not_mine_to_approve={p.id for p in posts if not
                                                post_service.may_approve(core, s, user, p)},
                           seen_hashes={p.id: content_hash(p) for p in posts},
                           passed={p.id for p in posts if p.scheduled_at and p.scheduled_at
                                   < core.now() - post_service.PAST_GRACE})


@bp.route("/persetujuan/<int:post_id>/setujui", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def approve(post_id: int) -> Response:
    result = call(post_service.approve_post, get_core(), db(), me(), post_id,
                  request.form.get("seen") or None,
                  publish_now=request.form.get("publish_now") == "1")
    if not isinstance(result, ServiceError):
        flash(what_happens_next(result), "success")
    return redirect(url_for("approvals.index"))


def what_happens_next(post: Post) -> str:
    """Say what the approval will do, truthfully: held by a pause, at its time, or now."""
    s, core = db(), get_core()
    now = core.now()
    when = post.scheduled_at if post.scheduled_at and post.scheduled_at > now else now
    loaded = pauses.current_pauses(s, now)
    held = [p for cid in post.channel_ids
            if (p := pauses.holding_pause(loaded, post.unit_id, cid, max(when, now)))]
    zone = post.unit.timezone
    if held:
        ends = max((p.ends_at for p in held if p.ends_at), default=None)
        if ends is None or any(p.ends_at is None for p in held):
            return _("Approved, but held by a pause until an admin lifts it; it is published "
                     "within a second after that.")
        return _("Approved, but held by a pause until %(end)s; it is published within a "
                 "second after that.", end=fmt_dt(ends, zone))
    if when > now:
        return _("Approved. It will be published on %(when)s.", when=fmt_dt(when, zone))
    return _("Approved. It is being published now.")


@bp.route("/persetujuan/<int:post_id>/tolak", methods=["POST"])
@login_required
@role_required(Role.APPROVER, Role.ADMIN)
def reject(post_id: int) -> Response:
    call(post_service.reject_post, get_core(), db(), me(), post_id,
         request.form.get("comment", ""),
         ok=_("Rejected. The author will see your reason."))
    return redirect(url_for("approvals.index"))
