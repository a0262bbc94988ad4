"""``/suara-warga``: citizens' comments on the unit's posts and those forwarded to it, newest
first and filtered, one bounded page at a time; one comment's thread with its post; and the
three actions (category, forward, status), each a service call in the request's transaction.

Another unit's comment is a 404 on every route (``inbox.get_comment``), never a 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from adapters import REGISTRY
from publisher.models import (
    EDITABLE_REPLY_STATES,
    Campaign,
    CommentCategory,
    CommentStatus,
    ReplyStatus,
    Role,
    Unit,
    User,
)
from publisher.services import inbox, inbox_refresh, inbox_reply
from publisher.services.access import scope_shared
from publisher.services.errors import NotFound, ServiceError
from publisher.services.inbox_search import InboxFilter, search, thread
from publisher.services.query_args import small_int
from web.app import db, get_core
from web.ui.helpers import call, int_arg, lang, me, role_required

bp = Blueprint("inbox", __name__)

STATUS_LABELS: dict[str, Any] = {
    CommentStatus.NEW: _l("New"), CommentStatus.FORWARDED: _l("Forwarded"),
    CommentStatus.RESPONDED: _l("Responded"), CommentStatus.DONE: _l("Done"),
    CommentStatus.NO_ACTION: _l("No follow-up needed"),
}
CATEGORY_LABELS: dict[str, Any] = {
    CommentCategory.COMPLAINT: _l("Complaint"), CommentCategory.QUESTION: _l("Question"),
    CommentCategory.APPRECIATION: _l("Appreciation"), CommentCategory.SUGGESTION: _l("Suggestion"),
    CommentCategory.SPAM: _l("Spam"), CommentCategory.OTHER: _l("Other"),
}
REPLY_LABELS: dict[str, Any] = {
    ReplyStatus.DRAFT: _l("Draft"), ReplyStatus.AWAITING: _l("Awaiting approval"),
    ReplyStatus.APPROVED: _l("Approved, to be sent"), ReplyStatus.REJECTED: _l("Rejected"),
    ReplyStatus.SENDING: _l("Sending"), ReplyStatus.SENT: _l("Sent"),
    ReplyStatus.FAILED: _l("Failed"), ReplyStatus.UNCONFIRMED: _l("Unconfirmed"),
}
MAX_UNITS = 500


def _choice(name: str, allowed: object) -> str | None:
    value = request.args.get(name, "")
    return value if value and value in allowed else None  # type: ignore[operator]


def _units() -> list[tuple[int, str]]:
    return [(i, n) for i, n in db().execute(select(Unit.id, Unit.name).order_by(Unit.name)
                                            .limit(MAX_UNITS)).all()]


@bp.route("/suara-warga")
@login_required
def index() -> str:
    f = InboxFilter(platform=_choice("platform", REGISTRY),
                    publication_id=int_arg("post"),
                    status=_choice("status", STATUS_LABELS),
                    category=_choice("kategori", [*CATEGORY_LABELS, "none"]),
                    unit_id=int_arg("unit"),
                    campaign_id=int_arg("kampanye"),
                    text=(request.args.get("q") or "").strip()[:200] or None,
                    overdue_at=get_core().now() if request.args.get("overdue") == "1"
                    else None)
    page = search(db(), me(), f, page=int_arg("halaman", 1) or 1)
    words = inbox.keywords(db())
    suggestions = {c.id: inbox.suggest(c.text, words) for c, _p, _ch in page.rows
                   if c.category is None}
    return render_template("inbox/index.html", page=page, f=f, suggestions=suggestions,
                           statuses=STATUS_LABELS, categories=CATEGORY_LABELS,
                           platforms=sorted(REGISTRY), units=_units(), now=get_core().now(),
                           campaigns=_campaigns())


def _campaigns() -> list[tuple[int, str]]:
    """The campaigns the viewer may filter by: their unit's and the region's."""
    q = scope_shared(select(Campaign.id, Campaign.name).order_by(Campaign.name), me(),
                     Campaign.unit_id).limit(MAX_UNITS)
    return [(i, n) for i, n in db().execute(q).all()]


@bp.route("/suara-warga/baca-ulang/<int:publication_id>", methods=["POST"])
@login_required
def refresh(publication_id: int) -> Response:
    """"Read now": the post's comments are read by the worker within a minute."""
    call(inbox_refresh.refresh, db(), me(), publication_id, get_core().now(),
         ok=_("The post's comments will be read within a minute."))
    return redirect(url_for("inbox.index", post=publication_id))


@bp.route("/suara-warga/<int:comment_id>")
@login_required
def detail(comment_id: int) -> str:
    try:
        t = thread(db(), me(), comment_id)
    except NotFound:
        abort(404)
    words = inbox.keywords(db())
    units = dict(_units())
    return render_template("inbox/detail.html", t=t, units=units, **_reply_context(t.comment),
                           suggestion=inbox.suggest(t.comment.text, words),
                           statuses=STATUS_LABELS, categories=CATEGORY_LABELS,
                           next_statuses=sorted(inbox.TRANSITIONS.get(t.comment.status, ())),
                           can_forward=t.comment.status in inbox.FORWARDABLE,
                           now=get_core().now())


def _reply_context(c: Any) -> dict[str, Any]:
    """What the reply box, the approvals and the hide button need."""
    user = me()
    replies = inbox_reply.replies_of(db(), user, c.id)
    ids = {i for r in replies for i in (r.written_by, r.approved_by) if i}
    people = dict(db().execute(select(User.id, User.name).where(User.id.in_(ids))).all()
                  ) if ids else {}
    holder = db().get(Unit, c.unit_id)
    return {"office_replies": replies, "people": people, "reply_statuses": REPLY_LABELS,
            "reply_hashes": {r.id: inbox_reply.hash_of(r) for r in replies},
            "editable_replies": [str(x) for x in EDITABLE_REPLY_STATES],
            "reply_busy": any(r.status in inbox_reply.IN_PROGRESS for r in replies),
            "may_act": user.role == Role.ADMIN or c.unit_id == user.unit_id,
            "may_approve": user.role in (Role.APPROVER, Role.ADMIN)
            and (user.role == Role.ADMIN or c.unit_id == user.unit_id),
            "me_id": user.id, "lang": lang(),
            "needs_approval": holder is None or holder.replies_need_approval,
            "can_reply": inbox_reply.can_reply(c.platform),
            "can_hide": inbox_reply.can_hide(c.platform)}


def _back(comment_id: int) -> Response:
    return redirect(url_for("inbox.detail", comment_id=comment_id))


def _after(result: object, comment_id: int) -> Response | tuple[str, int]:
    """A refusal shows the page again with its message and its status (403 for another
    unit's comment, 409 for a reply in the wrong state); a success goes back to it."""
    if isinstance(result, ServiceError):
        return detail(comment_id), result.status
    return _back(comment_id)


def _reply_id() -> int:
    return small_int(request.form.get("reply_id", "")) or 0


@bp.route("/suara-warga/<int:comment_id>/balas", methods=["POST"])
@login_required
def write_reply(comment_id: int) -> Response | tuple[str, int]:
    result = call(inbox_reply.write_reply, db(), me(), comment_id, request.form.get("text", ""),
                  now=get_core().now(), ok=_("The reply has been saved."))
    return _after(result, comment_id)


@bp.route("/suara-warga/<int:comment_id>/balasan/ubah", methods=["POST"])
@login_required
def edit_reply(comment_id: int) -> Response | tuple[str, int]:
    result = call(inbox_reply.edit_reply, db(), me(), comment_id, _reply_id(),
                  request.form.get("text", ""), now=get_core().now(),
                  ok=_("The reply has been changed; it needs approval again."))
    return _after(result, comment_id)


@bp.route("/suara-warga/<int:comment_id>/balasan/setujui", methods=["POST"])
@login_required
def approve_reply(comment_id: int) -> Response | tuple[str, int]:
    result = call(inbox_reply.approve_reply, db(), me(), comment_id, _reply_id(),
                  request.form.get("seen_hash") or None, now=get_core().now(),
                  ok=_("The reply has been approved and will be sent."))
    return _after(result, comment_id)


@bp.route("/suara-warga/<int:comment_id>/balasan/tolak", methods=["POST"])
@login_required
def reject_reply(comment_id: int) -> Response | tuple[str, int]:
    result = call(inbox_reply.reject_reply, db(), me(), comment_id, _reply_id(),
                  request.form.get("note"), now=get_core().now(),
                  ok=_("The reply has been rejected."))
    return _after(result, comment_id)


@bp.route("/suara-warga/<int:comment_id>/sembunyikan", methods=["POST"])
@login_required
def hide(comment_id: int) -> Response | tuple[str, int]:
    result = call(inbox_reply.hide_comment, get_core(), db(), me(), comment_id,
                  now=get_core().now(), ok=_("The comment has been hidden on the platform."))
    return _after(result, comment_id)


@bp.route("/suara-warga/<int:comment_id>/kategori", methods=["POST"])
@login_required
def categorise(comment_id: int) -> Response:
    call(inbox.set_category, db(), me(), comment_id, request.form.get("category") or None,
         now=get_core().now(), ok=_("The category has been saved."))
    return _back(comment_id)


@bp.route("/suara-warga/<int:comment_id>/teruskan", methods=["POST"])
@login_required
def forward(comment_id: int) -> Response:
    raw = request.form.get("unit_id", "")
    unit_id = small_int(raw) or 0
    # The sender still sees it afterwards (its own post, or forwarded to it before).
    call(inbox.forward, db(), me(), comment_id, unit_id, request.form.get("note"),
         now=get_core().now(), ok=_("The comment has been forwarded."))
    return _back(comment_id)


@bp.route("/suara-warga/<int:comment_id>/status", methods=["POST"])
@login_required
def status(comment_id: int) -> Response:
    call(inbox.set_status, db(), me(), comment_id, request.form.get("status", ""),
         now=get_core().now(), note=request.form.get("note"),
         ok=_("The status has been changed."))
    return _back(comment_id)


@bp.route("/suara-warga/kata-kunci", methods=["GET", "POST"])
@login_required
@role_required(Role.ADMIN)
def keywords() -> Response | str:
    if request.method == "POST":
        category = request.form.get("category", "")
        words = (request.form.get("keywords") or "").replace(",", "\n").splitlines()
        call(inbox.set_keywords, db(), me(), category, words,
             ok=_("The keywords have been saved."))
        return redirect(url_for("inbox.keywords"))
    return render_template("inbox/keywords.html", words=inbox.keywords(db()),
                           categories=CATEGORY_LABELS)
