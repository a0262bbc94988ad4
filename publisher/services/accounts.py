"""A person's own account: logging in (with lockout), password, language, notifications seen;
and the admin's edits of other users. Kept out of the web layer so the API and CLI share it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Role, Unit, User
from publisher.services import audit, org
from publisher.services.access import require_role
from publisher.services.errors import Invalid, NotFound

#: Wrong passwords in a row before the account waits ``LOCK_MINUTES``.
MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
LOCALES = ("id", "en")


def authenticate(core: Core, session: Session, email: str, password: str) -> User:
    """The user for these credentials, counting failures; locked accounts are refused even
    with the right password, so guessing gains nothing while the lock lasts.

    Every refusal is the same answer, taking about the same time: an unknown email, a wrong
    password and a locked account must not be told apart, or the lockout itself would reveal
    which addresses have accounts (lock one by guessing five times, then see "locked").
    """
    refused = Invalid(
        f"Surel atau kata sandi salah. Setelah {MAX_FAILED_LOGINS} kali salah berturut-turut, "
        f"akun dikunci {LOCK_MINUTES} menit: coba lagi nanti atau hubungi admin.",
        f"Wrong email or password. After {MAX_FAILED_LOGINS} wrong attempts in a row an "
        f"account is locked for {LOCK_MINUTES} minutes: try again later or ask an admin.",
        fields={"password": "wrong"}, code="bad_login")
    user = session.execute(select(User).where(
        func.lower(User.email) == (email or "").strip().lower())).scalar_one_or_none()
    if user is None or not user.active:
        org.check_password_hash_of_nobody(password or "")
        raise refused
    now = core.now()
    right = org.check_password(user, password or "")
    if user.locked_until is not None and user.locked_until > now:
        raise refused
    if not right:
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            audit.record(session, "user.locked", "user", user.id, unit_id=user.unit_id)
        raise refused
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "user.login", "user", user.id, actor=user, unit_id=user.unit_id)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    if not org.check_password(user, current or ""):
        raise Invalid("Kata sandi saat ini salah.", "The current password is wrong.",
                      fields={"current": "wrong"})
    org.set_password(user, new or "")
    user.must_change_password = False
    audit.record(session, "user.password", "user", user.id, actor=user, unit_id=user.unit_id)


def reset_password(session: Session, user: User, new: str, actor: User | None = None) -> None:
    """Someone responsible (an admin, or the server's operator through the CLI) sets a new
    password for a user who forgot theirs, and lifts a lockout: the login page tells locked-out
    users to ask for exactly this."""
    org.set_password(user, new or "")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "user.password_reset", "user", user.id, actor=actor,
                 unit_id=user.unit_id)


def admin_reset_password(session: Session, actor: User, user_id: int, temporary: str) -> User:
    """An admin gives a user who forgot their password a temporary one. It works once: the UI
    asks for a new password before anything else, so the admin never knows the one in use."""
    require_role(actor, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Pengguna #{user_id} tidak ditemukan.", f"User #{user_id} not found.")
    reset_password(session, user, temporary, actor=actor)
    user.must_change_password = True
    return user


def unlock_user(session: Session, actor: User, user_id: int) -> User:
    """Lift a lockout after too many wrong passwords (the login page says to ask an admin)."""
    require_role(actor, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Pengguna #{user_id} tidak ditemukan.", f"User #{user_id} not found.")
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, "user.unlock", "user", user.id, actor=actor, unit_id=user.unit_id)
    return user


def log_out(session: Session, user: User) -> None:
    """Logging out ends every session of the user, on every device: an old cookie copied
    from a shared computer must not keep working."""
    org.end_sessions(user)
    audit.record(session, "user.logout", "user", user.id, actor=user, unit_id=user.unit_id)


def set_locale(session: Session, user: User, locale: str) -> None:
    if locale not in LOCALES:
        raise Invalid("Bahasa tidak dikenal.", "Unknown language.", fields={"locale": "id | en"})
    user.locale = locale


def mark_notifications_seen(core: Core, user: User, newest: datetime | None = None) -> None:
    """Everything up to now, and at least up to the newest event the user was shown (audit
    events carry the wall clock, which may run ahead of an injected clock)."""
    now = core.now()
    user.notifications_seen_at = max(now, newest) if newest is not None else now


def update_user(session: Session, actor: User, user_id: int, *, role: str | None = None,
                unit_id: int | None = None, active: bool | None = None,
                name: str | None = None) -> User:
    """An admin changes someone's role, unit or active flag (never their own role or access:
    an admin cannot lock themselves out by mistake)."""
    require_role(actor, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Pengguna #{user_id} tidak ditemukan.", f"User #{user_id} not found.")
    errors: dict[str, str] = {}
    if role is not None and role not in set(Role):
        errors["role"] = "Peran harus operator, approver atau admin."
    if user.id == actor.id and ((role is not None and role != user.role) or active is False):
        errors["role"] = "Anda tidak dapat mengubah peran atau menonaktifkan diri sendiri."
    new_role = role or user.role
    new_unit = unit_id if unit_id is not None else user.unit_id
    if unit_id is not None and session.get(Unit, unit_id) is None:
        errors["unit"] = "Unit tidak ditemukan."
    if new_role != Role.ADMIN and new_unit is None:
        errors["unit"] = "Operator dan penyetuju harus punya unit."
    if errors:
        raise Invalid("Periksa kembali isian pengguna.", "Please check the user's fields.",
                      fields=errors)
    changes = {}
    if role is not None and role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if unit_id is not None and unit_id != user.unit_id:
        changes["unit"] = [user.unit_id, unit_id]
        user.unit_id = unit_id
    if active is not None and active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
        if not active:
            org.end_sessions(user)  # a reactivated account does not revive old sessions
    if name is not None and name.strip() and name.strip() != user.name:
        changes["name"] = [user.name, name.strip()]
        user.name = name.strip()
    if changes:
        audit.record(session, "user.update", "user", user.id, actor=actor, unit_id=user.unit_id,
                     data=changes)
    return user
