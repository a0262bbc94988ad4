"""The approval queue: submitted posts of the approver's unit (admins: all units), and for the
region's verifier the posts of every unit waiting at the verifier stage (issue 20). Each post
shows its stages: who approved which and when, the one it waits at, and a flag once that stage's
deadline passed; a post waiting at a stage the viewer cannot act at is shown read-only."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, select
from werkzeug.wrappers import Response

from publisher.models import Channel, Post, PostStatus, Role, User
from publisher.models.review import PostReview
from publisher.services import pauses, policy_gate, review_stages
from publisher.services import posts as post_service
from publisher.services.approval import content_hash
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.helpers import call, fmt_dt, lang, me, paginate

bp = Blueprint("approvals", __name__)
PER_PAGE = 20


def _queue(user: User) -> Select:
    """The submitted posts ``user`` sees here: their unit's (an operator: their own), and for
    a verifier every unit's post waiting at the verifier stage."""
    q = select(Post).where(Post.status == PostStatus.SUBMITTED)
    if user.role == Role.ADMIN:
        return q
    mine = Post.unit_id == user.unit_id
    if user.role == Role.OPERATOR:
        mine = mine & (Post.author_id == user.id)
    if user.region_verifier:
        at_region = Post.id.in_(select(PostReview.post_id).where(
            PostReview.stage_kind == review_stages.REGION_VERIFIER))
        return q.where(mine | at_region)
    return q.where(mine)


def reviewer_required(view):  # type: ignore[no-untyped-def]
    """Approvers, admins and the region's verifier (whatever their role) may act here; the
    service decides which stage each may act at."""
    @wraps(view)
    def wrapped(*args, **kw):  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated or not (
                current_user.role in (Role.APPROVER, Role.ADMIN) or current_user.region_verifier):
            abort(403)
        return view(*args, **kw)
    return wrapped


@bp.route("/persetujuan")
@login_required
def index() -> str:
    s, user = db(), me()
    q = _queue(user).order_by(Post.submitted_at)
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
    reviews = {p.id: review_stages.review_state(core, s, p) for p in posts}
    other_stage = {p.id for p in posts if not _can_act_at(user, p, reviews[p.id].kind)}
    return render_template("posts/approvals.html", posts=posts, page=page, channels=channels,
                           acks=policy_gate.acks_for(s, posts), blocked=blocked,
                           can_approve=user.role in (Role.APPROVER, Role.ADMIN)
                           or bool(user.region_verifier),
                           not_mine_to_approve={p.id for p in posts if p.id not in other_stage
                                                and not post_service.may_approve_now(
                                                    core, s, user, p)},
                           other_stage=other_stage, reviews=reviews,
                           seen_hashes={p.id: content_hash(p) for p in posts},
                           passed={p.id for p in posts if p.scheduled_at and p.scheduled_at
                                   < core.now() - post_service.PAST_GRACE
                                   and _at_last_stage(reviews[p.id])})


def _can_act_at(user: User, post: Post, kind: str | None) -> bool:
    """Whether the stage the post waits at is one ``user`` acts at (a unit's approver does not
    act at the region's stage, nor a verifier who is no approver at a unit's)."""
    if kind == review_stages.REGION_VERIFIER:
        return bool(user.region_verifier)
    return user.role in (Role.APPROVER, Role.ADMIN) and (
        user.role == Role.ADMIN or post.unit_id == user.unit_id)


def _at_last_stage(review: review_stages.ReviewState) -> bool:
    return bool(review.stages) and review.stages[-1].current


@bp.route("/persetujuan/<int:post_id>/setujui", methods=["POST"])
@login_required
@reviewer_required
def approve(post_id: int) -> Response:
    result = call(post_service.approve_post, get_core(), db(), me(), post_id,
                  request.form.get("seen") or None,
                  publish_now=request.form.get("publish_now") == "1")
    if isinstance(result, Post) and result.status == PostStatus.SUBMITTED:
        flash(_("Stage approved. The post now waits for its next stage."), "success")
    elif not isinstance(result, ServiceError):
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
@reviewer_required
def reject(post_id: int) -> Response:
    call(post_service.reject_post, get_core(), db(), me(), post_id,
         request.form.get("comment", ""),
         ok=_("Rejected. The author will see your reason."))
    return redirect(url_for("approvals.index"))
