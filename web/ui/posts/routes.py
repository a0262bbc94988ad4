"""Posts list and detail, and the actions on a post or one of its publications."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import (
    Campaign,
    Channel,
    FirstComment,
    Post,
    Publication,
    User,
)
from publisher.models.post import OVERALL_STATUSES
from publisher.services import fanout, fanout_window
from publisher.services import posts as post_service
from publisher.services import publications as pub_service
from publisher.services import recurrence as rec_service
from publisher.services.access import get_scoped, scope, scope_shared
from publisher.services.errors import NotFound, ServiceError
from publisher.services.post_search import COUNT_CAP, PostFilter, search_posts_keyset
from publisher.services.query_args import small_int
from web.app import db, get_core
from web.ui.helpers import call, int_arg, me, message, parse_local, user_zone

bp = Blueprint("posts", __name__)

PER_PAGE = 20


def _post(post_id: int) -> Post:
    try:
        return get_scoped(db(), Post, post_id, me())
    except NotFound:
        abort(404)


def publications_of(post_ids: list[int]) -> dict[int, list[Publication]]:
    out: dict[int, list[Publication]] = {pid: [] for pid in post_ids}
    if post_ids:
        rows = db().execute(select(Publication).where(Publication.post_id.in_(post_ids))
                            .order_by(Publication.id)).unique().scalars()
        for pub in rows:
            out[pub.post_id].append(pub)
    return out


@bp.route("/unggahan")
@login_required
def index() -> str:
    s, user = db(), me()
    f = request.args
    end = parse_local(f.get("to"))
    found = search_posts_keyset(s, user, PostFilter(
        # the list's status is the rolled-up one it shows (Post.overall_status); an unknown
        # value from a hand-edited link drops the filter
        overall_status=f.get("status") if f.get("status") in OVERALL_STATUSES else None,
        text=f.get("q"), channel_id=int_arg("channel"),
        campaign_id=int_arg("campaign"), author_id=int_arg("author"),
        created_from=parse_local(f.get("from")),
        created_before=end + timedelta(days=1) if end is not None else None,  # "to" is inclusive
    ), before=int_arg("sebelum"), after=int_arg("sesudah"), per_page=PER_PAGE)
    channels = s.execute(scope(select(Channel).order_by(Channel.name), user,
                               Channel.unit_id)).unique().scalars().all()
    campaigns = s.execute(scope_shared(select(Campaign).order_by(Campaign.name), user,
                                       Campaign.unit_id)).scalars().all()
    authors = s.execute(scope(select(User).order_by(User.name), user, User.unit_id)
                        ).unique().scalars().all()
    return render_template("posts/index.html",
                           page=found,
                           fanout_ids=fanout.fanout_post_ids(s, [p.id for p in found.items]),
                           channels=channels, campaigns=campaigns, authors=authors,
                           overall_statuses=OVERALL_STATUSES, count_cap=COUNT_CAP)


@bp.route("/unggahan/<int:post_id>")
@login_required
def detail(post_id: int) -> str:
    post = _post(post_id)
    s, core = db(), get_core()
    channels = {c.id: c for c in s.execute(select(Channel).where(
        Channel.id.in_(post.channel_ids))).unique().scalars()}
    problems = (post_service.validation_problems(core, s, post)
                if post.status in ("draft", "rejected") else {})
    source = fanout_window.fanout_of_post(s, post.id)
    from web.ui.posts import recurrence as rec_page

    pubs = publications_of([post.id])[post.id]
    # Each publication's first comment, if it has one (issue 21): shown with its state.
    first_comments = {fc.publication_id: fc for fc in s.execute(select(FirstComment).where(
        FirstComment.publication_id.in_([p.id for p in pubs]))).scalars()} if pubs else {}
    return render_template("posts/detail.html", post=post, channels=channels,
                           fanout=source,
                           fanout_window=fanout_window.window(source) if source else None,
                           pubs=pubs, problems=problems, first_comments=first_comments,
                           zone=post.unit.timezone,
                           occurrences=rec_service.upcoming(core, s, post),
                           manage_series=rec_page.may_manage(post))


@bp.route("/unggahan/<int:post_id>/ajukan", methods=["POST"])
@login_required
def submit(post_id: int) -> Response:
    acked = {n for a in request.form.getlist("ack") if (n := small_int(a)) is not None}
    call(post_service.submit_post, get_core(), db(), me(), post_id, acked,
         ok=_("The post has been submitted for approval."))
    return redirect(url_for("posts.detail", post_id=post_id))


@bp.route("/unggahan/<int:post_id>/batal", methods=["POST"])
@login_required
def cancel(post_id: int) -> Response:
    call(post_service.cancel_post, get_core(), db(), me(), post_id,
         ok=_("The post has been cancelled; nothing more will be published."))
    return redirect(url_for("posts.detail", post_id=post_id))


@bp.route("/unggahan/<int:post_id>/duplikat", methods=["POST"])
@login_required
def duplicate(post_id: int) -> Response:
    result = call(post_service.duplicate_post, get_core(), db(), me(), post_id,
                  keep_overrides=request.form.get("keep_overrides") == "1",
                  ok=_("A copy was created as a new draft."))
    if isinstance(result, ServiceError):
        return redirect(url_for("posts.detail", post_id=post_id))
    return redirect(url_for("posts.edit", post_id=result.id))


@bp.route("/unggahan/<int:post_id>/jadwal", methods=["POST"])
@login_required
def reschedule(post_id: int) -> Response | tuple[dict, int]:
    """Move a post in time: the post page's and the calendar item menu's form (back where it
    came from, with the service's message), or the calendar's drag and drop (JSON)."""
    post = _post(post_id)
    wants_json = request.is_json
    raw = (request.get_json(silent=True) or {}).get("when") if wants_json \
        else request.form.get("when")
    when = parse_local(raw, post.unit.timezone)
    if when is None:
        if wants_json:
            return {"error": _("Choose a valid date and time.")}, 400
        flash(_("Choose a valid date and time."), "error")
        return _back(url_for("posts.detail", post_id=post_id))
    result = call(post_service.reschedule_post, get_core(), db(), me(), post_id, when,
                  ok=None if wants_json else _("The post has been rescheduled."))
    if wants_json:
        if isinstance(result, ServiceError):
            return {"error": message(result)}, 409
        return {"ok": True, "scheduled_at": when.isoformat()}, 200
    return _back(url_for("posts.detail", post_id=post_id))


def _back(default: str) -> Response:
    """Back where the form came from, if that is a page of this site (never another host)."""
    target = request.form.get("back", "")
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return redirect(target)
    return redirect(default)


@bp.route("/penayangan/<int:pub_id>/coba-lagi", methods=["POST"])
@login_required
def pub_retry(pub_id: int) -> Response:
    call(pub_service.retry_publication, get_core(), db(), me(), pub_id,
         ok=_("The publication will be tried again in a moment."))
    return _back(url_for("dashboard.index"))


@bp.route("/penayangan/<int:pub_id>/jadwal-ulang", methods=["POST"])
@login_required
def pub_reschedule(pub_id: int) -> Response:
    when = parse_local(request.form.get("when"), user_zone())
    if when is None:
        flash(_("Choose a valid date and time."), "error")
        return _back(url_for("dashboard.index"))
    call(pub_service.reschedule_publication, get_core(), db(), me(), pub_id, when,
         ok=_("The publication has been rescheduled."))
    return _back(url_for("dashboard.index"))


@bp.route("/penayangan/<int:pub_id>/tandai-terbit", methods=["POST"])
@login_required
def pub_mark(pub_id: int) -> Response:
    call(pub_service.mark_published, get_core(), db(), me(), pub_id,
         request.form.get("permalink", "").strip(),
         ok=_("Marked as published."))
    return _back(url_for("dashboard.index"))


from web.ui.posts import (  # noqa: E402,F401  (routes on this blueprint)
    bulk,
    composer,
    library,
    media,
    policy,
    recurrence,
    template_pages,
)
