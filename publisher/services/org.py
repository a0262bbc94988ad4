"""Units, users and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from publisher.core import Core
from publisher.models import ApiToken, Role, Unit, User
from publisher.services import audit, passwords
from publisher.services.errors import Conflict, Forbidden, Invalid, NotFound, Text
from publisher.services.query_args import small_int

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TOKEN_PREFIX = "wrt_"


def _zone_error(timezone: str) -> str | None:
    """The field message for a zone name the zone database does not know, else None."""
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return f"Zona waktu '{timezone}' tidak dikenal (mis. Asia/Jakarta)."
    return None


def create_unit(session: Session, *, name: str, slug: str, timezone: str = "Asia/Jakarta",
                actor: User | None = None) -> Unit:
    errors = {}
    if not name.strip():
        errors["name"] = "Nama unit wajib diisi."
    if not _SLUG.match(slug or ""):
        errors["slug"] = "Slug hanya huruf kecil, angka dan tanda hubung (mis. dinas-sosial)."
    if (bad_zone := _zone_error(timezone)) is not None:
        errors["timezone"] = bad_zone
    if errors:
        raise Invalid("Periksa kembali isian unit.", "Please check the unit's fields.",
                      fields=errors)
    if session.execute(select(Unit).where(Unit.slug == slug)).scalar_one_or_none():
        raise Conflict(f"Unit dengan slug '{slug}' sudah ada.", f"Unit '{slug}' already exists.",
                       fields={"slug": Text(f"Slug '{slug}' sudah dipakai unit lain.",
                                            f"The slug '{slug}' is used by another unit.")})
    unit = Unit(name=name.strip(), slug=slug, timezone=timezone)
    session.add(unit)
    session.flush()
    audit.record(session, "unit.create", "unit", unit.id, actor=actor, unit_id=unit.id)
    return unit


def unit_by_slug(session: Session, slug: str) -> Unit:
    unit = session.execute(select(Unit).where(Unit.slug == slug)).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"Unit '{slug}' tidak ditemukan.", f"Unit '{slug}' was not found.",
                       fields={"unit": "not found"})
    return unit


def unit_or_region(session: Session, raw: object, errors: dict[str, str],
                   field: str = "unit") -> int | None:
    """A form's optional unit: empty is the whole region (``None``); a value that names no
    unit ('²', an id past any row, a word) is an error under ``field``."""
    text = str(raw or "").strip()
    unit_id = small_int(text)
    if text and (unit_id is None or session.get(Unit, unit_id) is None):
        errors[field] = Text("Unit tidak dikenal.", "Unknown unit.")
    return unit_id


def create_user(session: Session, *, email: str, name: str, role: str, unit: Unit | None,
                password: str | None = None, actor: User | None = None,
                check_strength: bool = True) -> User:
    """A new user. ``check_strength=False`` skips the password rule
    (``services/passwords.py``): only for fixtures and the demo's published password, never
    for a password a person chooses."""
    errors = {}
    email = (email or "").strip().lower()
    if not _EMAIL.match(email):
        errors["email"] = "Alamat surel tidak valid."
    if not (name or "").strip():
        errors["name"] = "Nama wajib diisi."
    if role not in set(Role):
        errors["role"] = "Peran harus operator, approver atau admin."
    elif role != Role.ADMIN and unit is None:
        errors["unit"] = "Operator dan penyetuju harus punya unit."
    if password is not None and check_strength:
        weak = passwords.problem(password, role=role, personal=(email, name or ""))
        if weak:
            errors["password"] = weak[0]
    elif password is not None and not password:
        errors["password"] = "Kata sandi wajib diisi."
    if errors:
        raise Invalid("Periksa kembali isian pengguna.", "Please check the user's fields.",
                      fields=errors)
    if session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise Conflict(f"Pengguna {email} sudah ada.", f"User {email} already exists.",
                       fields={"email": Text(f"Alamat {email} sudah dipakai pengguna lain.",
                                             f"{email} is already used by another user.")})
    user = User(email=email, name=name.strip(), role=role, unit_id=unit.id if unit else None,
                password_hash=generate_password_hash(password) if password else None)
    session.add(user)
    session.flush()
    audit.record(session, "user.create", "user", user.id, actor=actor,
                 unit_id=user.unit_id, data={"role": role})
    return user


def set_password(user: User, password: str) -> None:
    """A new password (it must pass the password rule), which also ends every session opened
    with the old one."""
    weak = passwords.problem(password, role=user.role, personal=(user.email, user.name))
    if weak:
        raise Invalid(weak[0], weak[1], fields={"password": weak[0], "new": weak[0]},
                      code="weak_password")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)


def end_sessions(user: User) -> None:
    """End every browser session of the user: each carries the version it was opened with,
    and the web app's user loader refuses a session whose version is no longer the user's."""
    user.session_version = (user.session_version or 0) + 1


def check_password(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash, password)


_NOBODY_HASH: list[str] = []


def check_password_hash_of_nobody(password: str) -> None:
    """Spend the time a real password check takes, for a login whose email has no account:
    an instant refusal would tell which addresses exist."""
    if not _NOBODY_HASH:
        _NOBODY_HASH.append(generate_password_hash("nobody has this password"))
    check_password_hash(_NOBODY_HASH[0], password)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str = "",
                 expires_at: datetime | None = None) -> str:
    """Create an API token and return it; only its hash is kept, so this is the only time
    anyone sees it. ``expires_at`` (optional) is when it stops working."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), name=name,
                         expires_at=expires_at))
    audit.record(session, "token.create", "user", user.id, actor=user, unit_id=user.unit_id,
                 data={"name": name,
                       "expires_at": expires_at.isoformat() if expires_at else None})
    return token


def user_for_token(core: Core, session: Session, token: str) -> User | None:
    """The token's user, if the token is not revoked, not expired and the user is active;
    the token's last use is recorded (shown on the profile and admin token lists)."""
    row = session.execute(select(ApiToken).where(ApiToken.token_hash == hash_token(token),
                                                 ApiToken.revoked.is_(False))).scalar_one_or_none()
    now = core.now()
    if row is None or not row.user.active:
        return None
    if row.expires_at is not None and row.expires_at <= now:
        return None
    return row.user


#: A token's last use is written at most this often (every API call wrote a row).
LAST_USED_EVERY = timedelta(minutes=1)


def token_used(core: Core, token: str) -> None:
    """Record a token's last use, in a short transaction of its own (a GET's request session
    only reads, see ``web.app.db``), at most once per ``LAST_USED_EVERY``."""
    now = core.now()
    with core.sessions.begin() as s:
        s.execute(update(ApiToken).where(
            ApiToken.token_hash == hash_token(token),
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - LAST_USED_EVERY))
            .values(last_used_at=now))


def update_unit(session: Session, actor: User | None, unit_id: int, *, name: str | None = None,
                timezone: str | None = None, public_report: bool | None = None,
                public_inbox: bool | None = None,
                replies_need_approval: bool | None = None) -> Unit:
    """An admin renames a unit, changes its zone, opts it in or out of the public
    transparency page (which shows only opted-in units: nothing is public by default) and,
    separately, of its citizen-inbox figures there (``public_inbox``: counts and response
    times, shown only while ``public_report`` is on too; it may be set ahead of it), or
    lets its replies to citizens go out without a second person's approval.
    ``actor`` None is the server's operator at the command line, as for ``create_unit``."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("Hanya admin yang dapat mengubah unit.", "Only admins can change units.")
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFound(f"Unit #{unit_id} tidak ditemukan.", f"Unit #{unit_id} not found.")
    errors: dict[str, str] = {}
    if name is not None and not name.strip():
        errors["name"] = "Nama unit wajib diisi."
    if timezone is not None and (bad_zone := _zone_error(timezone)) is not None:
        errors["timezone"] = bad_zone
    if errors:
        raise Invalid("Periksa kembali isian unit.", "Please check the unit's fields.",
                      fields=errors)
    changes: dict[str, object] = {}
    for field, value in (("name", name.strip() if name is not None else None),
                         ("timezone", timezone), ("public_report", public_report),
                         ("public_inbox", public_inbox),
                         ("replies_need_approval", replies_need_approval)):
        if value is not None and getattr(unit, field) != value:
            changes[field] = [getattr(unit, field), value]
            setattr(unit, field, value)
    if changes:
        audit.record(session, "unit.update", "unit", unit.id, actor=actor, unit_id=unit.id,
                     data=changes)
    return unit
