"""The composer's "Repeat" section and the post page's skip and move of one occurrence."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from publisher.models import Post, PostRecurrence, Role
from publisher.services import recurrence as rec_service
from web.app import db, get_core
from web.ui.helpers import call, fmt_day, me, parse_local
from web.ui.posts.routes import _post, bp

FREQ_CHOICES = [("none", _l("Does not repeat")), ("daily", _l("Every day")),
                ("weekly", _l("Every week, on these days")),
                ("monthly_day", _l("Every month, on this date")),
                ("monthly_nth", _l("Every month, on a weekday (e.g. the first Monday)"))]
WEEKDAY_CHOICES = [(0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")),
                   (3, _l("Thursday")), (4, _l("Friday")), (5, _l("Saturday")),
                   (6, _l("Sunday"))]
NTH_CHOICES = [(1, _l("First")), (2, _l("Second")), (3, _l("Third")), (4, _l("Fourth")),
               (-1, _l("Last"))]


def rule_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The ``r_*`` fields as the service's rule values (``{}``: does not repeat). The service
    checks them (``recurrence_rule.parse_rule``); only the chosen end is passed on."""
    freq = form.get("r_freq", "none")
    if freq == "none":
        return {}
    raw: dict[str, Any] = {"freq": freq, "weekdays": form.getlist("r_weekdays"),
                           "month_day": form.get("r_month_day", ""),
                           "nth": form.get("r_nth", ""), "weekday": form.get("r_weekday", "")}
    if form.get("r_end") == "count":
        raw["count"] = form.get("r_count", "").strip() or "0"
    else:
        raw["until"] = form.get("r_until", "").strip() or None
    return raw


def values_from_post(post: Post | None) -> dict[str, Any]:
    """The section's values for the composer from the saved rule."""
    r = post.recurrence if post is not None else None
    if r is None:
        return {"freq": "none", "weekdays": [], "month_day": "", "nth": "1", "weekday": "0",
                "end": "until", "until": "", "count": ""}
    nth = r.freq == "monthly_nth"
    return {"freq": r.freq, "weekdays": [] if nth else [str(d) for d in r.weekdays or []],
            "month_day": str(r.month_day or ""), "nth": str(r.nth or 1),
            "weekday": str((r.weekdays or [0])[0]) if nth else "0",
            "end": "count" if r.count else "until",
            "until": r.until.isoformat() if r.until else "", "count": str(r.count or "")}


def values_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The section's values as sent (a form shown again with its errors)."""
    return {"freq": form.get("r_freq", "none"), "weekdays": form.getlist("r_weekdays"),
            "month_day": form.get("r_month_day", ""), "nth": form.get("r_nth", "1"),
            "weekday": form.get("r_weekday", "0"), "end": form.get("r_end", "until"),
            "until": form.get("r_until", ""), "count": form.get("r_count", "")}


@bp.app_template_filter("recurrence_label")
def recurrence_label(r: PostRecurrence) -> str:
    """"Every week on Monday, Thursday; until 31 Aug 2026" in the page's language."""
    days = dict(WEEKDAY_CHOICES)
    if r.freq == "daily":
        what = _("Every day")
    elif r.freq == "weekly":
        what = _("Every week on %(days)s", days=", ".join(str(days[d]) for d in r.weekdays))
    elif r.freq == "monthly_day":
        what = _("Every month on day %(day)s", day=r.month_day)
    else:
        nth = str(dict(NTH_CHOICES)[r.nth or 1]).lower()
        what = _("Every month on the %(nth)s %(day)s", nth=nth, day=days[(r.weekdays or [0])[0]])
    end = (_("%(n)s times", n=r.count) if r.count else
           _("until %(date)s", date=fmt_day(r.until, "d MMM y")))
    return f"{what}; {end}"


def may_manage(post: Post) -> bool:
    """Whether the page offers skip and move (the service decides again)."""
    return me().role in (Role.APPROVER, Role.ADMIN) and post.status == "approved"


def _occurrence_arg() -> datetime | None:
    try:
        return datetime.fromisoformat(request.form.get("occurrence", "")).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


@bp.route("/unggahan/<int:post_id>/ulangan/lewati", methods=["POST"])
@login_required
def skip_occurrence(post_id: int) -> Response:
    _post(post_id)
    at = _occurrence_arg()
    if at is None:
        flash(_("This time is not one of the series' occurrences."), "error")
    else:
        call(rec_service.skip_occurrence, get_core(), db(), me(), post_id, at,
             ok=_("This occurrence will be skipped."))
    return redirect(url_for("posts.detail", post_id=post_id))


@bp.route("/unggahan/<int:post_id>/ulangan/pindah", methods=["POST"])
@login_required
def move_occurrence(post_id: int) -> Response:
    post = _post(post_id)
    at = _occurrence_arg()
    when = parse_local(request.form.get("when"), post.unit.timezone)
    if at is None or when is None:
        flash(_("Choose a valid date and time."), "error")
    else:
        call(rec_service.move_occurrence, get_core(), db(), me(), post_id, at, when,
             ok=_("This occurrence has been moved."))
    return redirect(url_for("posts.detail", post_id=post_id))
