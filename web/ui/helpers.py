"""Shared plumbing for the UI's blueprints: the acting user, service calls in a transaction,
role guards, time and number formatting in the user's language and the unit's zone."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from flask import abort, flash, request
from flask_login import current_user

from publisher.models import User
from publisher.services.audit import keep_audit
from publisher.services.errors import NotFound, ServiceError, in_english
from publisher.timeutil import BadTime, home_zone, parse_time
from web import formatting
from web.app import db, get_core

T = TypeVar("T")


def me() -> User:
    """The logged-in user as a model bound to the request's session."""
    return current_user._get_current_object()  # type: ignore[attr-defined, no-any-return]


lang = formatting.lang


def message(exc: ServiceError) -> str:
    return exc.message_en if lang() == "en" else exc.message


def call(fn: Callable[..., T], *args: Any, ok: str | None = None, flash_errors: bool = True,
         **kw: Any) -> T | ServiceError:
    """Run a service in the request's transaction. NotFound becomes a 404 (objects of other
    units must look absent); other service errors are flashed (unless the form shows them
    itself: ``flash_errors=False``, so a message is not said twice) and returned."""
    s = db()
    try:
        result = fn(*args, **kw)
        s.commit()
    except NotFound:
        s.rollback()
        abort(404)
    except ServiceError as exc:
        s.rollback()
        keep_audit(s, exc)
        if lang() == "en":
            exc.fields = in_english(exc.fields)
        if flash_errors:
            flash(message(exc), "error")
        return exc
    if ok:
        flash(ok, "success")
    return result


def role_required(*roles: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def deco(view: Callable[..., T]) -> Callable[..., T]:
        @wraps(view)
        def wrapped(*args: Any, **kw: Any) -> T:
            if not current_user.is_authenticated or current_user.role not in roles:
                abort(403)
            return view(*args, **kw)
        return wrapped
    return deco


def user_zone() -> str:
    user = current_user
    return home_zone(user if getattr(user, "is_authenticated", False) else None,
                     str(get_core().settings.timezone))


def fmt_dt(value: datetime | None, zone: str | None = None, short: bool = False) -> str:
    """'Senin, 30 November 2026 09.00 WIB' (id) or 'Monday, 30 November 2026 09:00 WIB' (en)."""
    if value is None:
        return "—"
    return formatting.local_datetime(value, zone or user_zone(), short=short)


def fmt_time(value: datetime | None, zone: str | None = None) -> str:
    if value is None:
        return "—"
    from zoneinfo import ZoneInfo

    local = value.astimezone(ZoneInfo(zone or user_zone()))
    return local.strftime("%H.%M" if lang() == "id" else "%H:%M")


def fmt_day(value: Any, pattern: str = "EEEE, d MMMM y") -> str:
    return formatting.day(value, pattern)


def fmt_num(value: float | int | None) -> str:
    return "—" if value is None else formatting.number(value)


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else formatting.percent(value, "#,##0.#%")


def local_input(value: datetime | None, zone: str | None = None) -> str:
    """A UTC time as the value of an <input type=datetime-local> in the zone."""
    if value is None:
        return ""
    from zoneinfo import ZoneInfo

    try:
        return value.astimezone(ZoneInfo(zone or user_zone())).strftime("%Y-%m-%dT%H:%M")
    except OverflowError:  # at the very end of datetime (stored before such times were refused)
        return ""


def parse_local(value: str | None, zone: str | None = None) -> datetime | None:
    """A datetime-local input (in the unit's zone) to UTC; empty is None, junk is a 400."""
    if not value or not value.strip():
        return None
    try:
        return parse_time(value, zone or user_zone())
    except BadTime:
        return None


def int_arg(name: str, default: int | None = None) -> int | None:
    """A page's own numeric argument; junk, or a number no id or page can be (beyond 64 bits,
    or a page past ``MAX_PAGE``), is ``default``: a hand-edited link loses that filter."""
    raw = request.args.get(name, "")
    try:
        value = int(raw) if len(raw) <= 20 else None
    except ValueError:
        return default
    if value is None or abs(value) > MAX_PAGE * (1 if name == "halaman" else 10**12):
        return default
    return value


#: The last page number anyone may ask for (an offset past it would overflow the database's).
MAX_PAGE = 10**6


class Page:
    """One page of a query's results, for the pagination links."""

    def __init__(self, items: list[Any], page: int, per_page: int, total: int) -> None:
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, math.ceil(total / per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


def paginate(session: Any, query: Any, per_page: int = 20) -> Page:
    from sqlalchemy import func, select

    page = max(1, int_arg("halaman", 1) or 1)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())
                            ).scalar_one()
    items = session.execute(query.limit(per_page).offset((page - 1) * per_page)).unique()\
        .scalars().all()
    return Page(list(items), page, per_page, total)


def cursor_url(name: str | None, post_id: int | None) -> str:
    """This list's address with the filters kept and the position replaced (``None``: the
    first page)."""
    from urllib.parse import urlencode

    args = {k: v for k, v in request.args.to_dict().items()
            if k not in ("sebelum", "sesudah", "halaman")}
    if name is not None:
        args[name] = str(post_id)
    return f"{request.path}?{urlencode(args)}" if args else request.path


def page_url(page: int) -> str:
    args = request.args.to_dict()
    args["halaman"] = str(page)
    from urllib.parse import urlencode

    return request.path + "?" + urlencode(args)


__all__ = ["NotFound", "Page", "call", "fmt_day", "fmt_dt", "fmt_num", "fmt_pct", "fmt_time",
           "cursor_url", "int_arg", "lang", "local_input", "me", "message", "page_url", "paginate",
           "parse_local", "role_required", "user_zone"]
