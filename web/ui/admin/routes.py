"""Admin pages; every route is admin-only."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from publisher.models import AuditEvent, Channel, Pause, Role, Unit, User
from publisher.services import accounts, org, pauses, tokens
from publisher.services.errors import ServiceError
from web.app import db, get_core
from web.ui.admin import audit_view
from web.ui.helpers import (
    call,
    int_arg,
    me,
    message,
    paginate,
    parse_local,
    role_required,
    user_zone,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
USERS_PER_PAGE = 50


@bp.before_request
@login_required
@role_required(Role.ADMIN)
def _guard() -> None:
    """Every admin page needs an admin; checked once for the whole blueprint."""
    return None


@bp.route("/")
def index() -> str:
    return render_template("admin/index.html")


def _units_page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """The units page; after a refused form, with the field messages and the input kept."""
    units = db().execute(select(Unit).order_by(Unit.name)).scalars().all()
    return render_template("admin/units.html", units=units, errors=errors or {},
                           values=request.form if errors else {}), status


@bp.route("/unit", methods=["GET", "POST"])
def units() -> tuple[str, int] | Response:
    if request.method == "POST":
        result = call(org.create_unit, db(), name=request.form.get("name", ""),
                      slug=request.form.get("slug", "").strip(),
                      timezone=request.form.get("timezone", "Asia/Jakarta"), actor=me(),
                      ok=_("Unit created."))
        if isinstance(result, ServiceError):
            return _units_page(result.fields or {"name": message(result)}, 400)
        return redirect(url_for("admin.units"))
    return _units_page()


@bp.route("/unit/<int:unit_id>", methods=["POST"])
def update_unit(unit_id: int) -> tuple[str, int] | Response:
    public = request.form.get("public_report")
    public_inbox = request.form.get("public_inbox")
    replies = request.form.get("replies_need_approval")
    result = call(org.update_unit, db(), me(), unit_id, name=request.form.get("name"),
                  timezone=request.form.get("timezone"),
                  public_report=None if public is None else public == "1",
                  public_inbox=None if public_inbox is None else public_inbox == "1",
                  replies_need_approval=None if replies is None else replies == "1",
                  ok=_("Unit updated."))
    if isinstance(result, ServiceError):
        return _units_page(result.fields or {"name": message(result)}, 400)
    return redirect(url_for("admin.units"))


@bp.route("/unit/<int:unit_id>/pratinjau-publik")
def public_preview(unit_id: int) -> str:
    """What the public transparency page would show of this unit this month, before (or
    after) it opts in: the admin decides with the figures in front of them."""
    from publisher.reports.period import month_period
    from publisher.reports.public import public_report

    s, core = db(), get_core()
    unit = s.get(Unit, unit_id)
    if unit is None:
        abort(404)
    try:
        period = month_period(request.args.get("bulan"), core.settings.timezone, core.now())
    except ServiceError as exc:
        abort(400, description=message(exc))
    return render_template("public/report.html", zone=core.settings.timezone, preview=unit,
                           data=public_report(s, period, core.now(),
                                                preview=(me(), unit.id)))


def _users_page(errors: dict[str, str] | None = None, status: int = 200) -> tuple[str, int]:
    """A page of users (each row carries its own forms, ~3 KB: a province's users on one
    page were megabytes), optionally one unit's."""
    s = db()
    q = select(User).order_by(User.name, User.id)
    if (unit := int_arg("unit")) is not None:
        q = q.where(User.unit_id == unit)
    page = paginate(s, q, per_page=USERS_PER_PAGE)
    return render_template(
        "admin/users.html", users=page.items, page=page,
        units=s.execute(select(Unit).order_by(Unit.name)).scalars().all(),
        now=get_core().now(), errors=errors or {},
        values=request.form if errors else {}), status


@bp.route("/pengguna", methods=["GET", "POST"])
def users() -> tuple[str, int] | Response:
    s = db()
    if request.method == "POST":
        unit_id = request.form.get("unit", type=int)
        result = call(org.create_user, s, email=request.form.get("email", ""),
                      name=request.form.get("name", ""), role=request.form.get("role", ""),
                      unit=s.get(Unit, unit_id) if unit_id else None,
                      password=request.form.get("password") or None, actor=me(),
                      ok=_("User created. Give them their password in person."))
        if isinstance(result, ServiceError):
            return _users_page(result.fields or {"email": message(result)}, 400)
        return redirect(url_for("admin.users"))
    return _users_page()


@bp.route("/pengguna/<int:user_id>/sandi", methods=["POST"])
def reset_password(user_id: int) -> tuple[str, int] | Response:
    result = call(accounts.admin_reset_password, db(), me(), user_id,
                  request.form.get("temporary", ""),
                  ok=_("Temporary password set. Give it to the user in person: they must "
                       "choose a new one when they log in."))
    if isinstance(result, ServiceError):
        return _users_page({f"temporary-{user_id}": message(result)}, 400)
    return redirect(url_for("admin.users"))


@bp.route("/pengguna/<int:user_id>/buka-kunci", methods=["POST"])
def unlock(user_id: int) -> Response:
    call(accounts.unlock_user, db(), me(), user_id, ok=_("Account unlocked."))
    return redirect(url_for("admin.users"))


@bp.route("/pengguna/<int:user_id>", methods=["POST"])
def update_user(user_id: int) -> Response:
    active = request.form.get("active")
    call(accounts.update_user, db(), me(), user_id, role=request.form.get("role") or None,
         unit_id=request.form.get("unit", type=int),
         active=None if active is None else active == "1", ok=_("User updated."))
    return redirect(url_for("admin.users"))


@bp.route("/token")
def tokens_page() -> str:
    return render_template("admin/tokens.html", now=get_core().now(),
                           tokens=tokens.list_tokens(db(), me(), everyone=True))


@bp.route("/token/<int:token_id>/cabut", methods=["POST"])
def revoke_token(token_id: int) -> Response:
    call(tokens.revoke_token, get_core(), db(), me(), token_id, ok=_("The token is revoked."))
    return redirect(url_for("admin.tokens_page"))


@bp.route("/riwayat")
def audit() -> str:
    s = db()
    q = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    f = request.args
    if f.get("action") in audit_view.ACTIONS:  # the filter's choices: that action only
        q = q.where(AuditEvent.action == f["action"])
    elif f.get("action"):  # a typed prefix ("post.") still works
        q = q.where(AuditEvent.action.startswith(f["action"]))
    if (unit := int_arg("unit")) is not None:
        q = q.where(AuditEvent.unit_id == unit)
    if (actor := int_arg("actor")) is not None:
        q = q.where(AuditEvent.actor_id == actor)
    if f.get("object_type"):
        q = q.where(AuditEvent.object_type == f["object_type"])
    if (start := parse_local(f.get("from"))) is not None:
        q = q.where(AuditEvent.at >= start)
    if (end := parse_local(f.get("to"))) is not None:
        q = q.where(AuditEvent.at < end + timedelta(days=1))
    page = paginate(s, q, per_page=50)
    users = {u.id: u for u in s.execute(select(User)).unique().scalars()}
    units = {u.id: u for u in s.execute(select(Unit).order_by(Unit.name)).scalars()}
    zone = user_zone()
    rows = [audit_view.view(e, users, units, zone) for e in page.items]
    return render_template("admin/audit.html", page=page, rows=rows, users=users, units=units,
                           actions=audit_view.action_choices())


@bp.route("/jeda", methods=["GET", "POST"])
def pause_list() -> str | Response:
    s, core = db(), get_core()
    if request.method == "POST":
        starts = parse_local(request.form.get("starts_at")) or core.now()
        call(pauses.create_pause, s, me(), scope=request.form.get("scope", ""),
             starts_at=starts, ends_at=parse_local(request.form.get("ends_at")),
             unit_id=request.form.get("unit", type=int),
             channel_id=request.form.get("channel", type=int),
             reason=request.form.get("reason", "").strip(), ok=_("Pause saved."))
        return redirect(url_for("admin.pause_list"))
    return render_template(
        "admin/pauses.html", pauses=pauses.current_pauses(s, core.now()), now=core.now(),
        units={u.id: u for u in s.execute(select(Unit).order_by(Unit.name)).scalars()},
        channels={c.id: c for c in s.execute(select(Channel).order_by(Channel.name))
                  .unique().scalars()},
        history=s.execute(select(Pause).order_by(Pause.created_at.desc()).limit(20))
        .scalars().all())


@bp.route("/jeda/<int:pause_id>/cabut", methods=["POST"])
def lift(pause_id: int) -> Response:
    call(pauses.lift_pause, db(), me(), pause_id, get_core().now(),
         ok=_("Pause lifted; publishing resumes."))
    return redirect(url_for("admin.pause_list"))


from web.ui.admin import emergency_pages as _emergency_pages  # noqa: E402,F401  (routes on bp)
from web.ui.admin import policy  # noqa: E402,F401  (routes on this blueprint)
from web.ui.admin import report_pages as _report_pages  # noqa: E402,F401  (routes on bp)
from web.ui.admin import stage_pages as _stage_pages  # noqa: E402,F401  (routes on bp)
from web.ui.admin import webhook_pages as _webhook_pages  # noqa: E402,F401  (routes on bp)
