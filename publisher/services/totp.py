"""An optional second factor: a TOTP authenticator app (RFC 6238, ``pyotp``), with one-time
recovery codes kept only as hashes. ``WARTA_REQUIRE_TOTP=admin,approver`` makes it compulsory
for those roles: until they set it up, the web app only lets them reach the set-up page.

The secret is sealed with the credential key (like channel credentials), and each code works
once: the accepted time step is remembered, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import hashlib
import secrets

import pyotp
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import User
from publisher.services import audit
from publisher.services.errors import Invalid

ISSUER = "Warta"
RECOVERY_CODES = 10
STEP = 30


def enabled(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret_encrypted is not None


def required(core: Core, user: User) -> bool:
    return user.role in core.settings.require_totp


def _secret(core: Core, user: User) -> str:
    return str(core.box.open(user.totp_secret_encrypted or b"")["secret"])


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().replace("-", "").lower().encode()).hexdigest()


def begin(core: Core, session: Session, user: User) -> str:
    """A new secret awaiting confirmation (an enabled factor is kept until confirmed)."""
    if enabled(user):
        raise Invalid("Verifikasi dua langkah sudah aktif.", "Two-step sign-in is already on.",
                      fields={"totp": "enabled"})
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = core.box.seal({"secret": secret})
    return secret


def provisioning_uri(core: Core, user: User) -> str:
    return pyotp.TOTP(_secret(core, user)).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _check_code(core: Core, user: User, code: str) -> bool:
    code = (code or "").strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(_secret(core, user), interval=STEP)
    step = totp.timecode(core.now())
    for candidate in (step - 1, step, step + 1):  # a phone's clock may be 30 s off
        if secrets.compare_digest(totp.generate_otp(candidate), code):
            if user.totp_last_step is not None and candidate <= user.totp_last_step:
                return False  # already used
            user.totp_last_step = candidate
            return True
    return False


def confirm(core: Core, session: Session, user: User, code: str) -> list[str]:
    """Turn the factor on with a first code from the app; returns the recovery codes, shown
    this once."""
    if user.totp_secret_encrypted is None or enabled(user):
        raise Invalid("Mulai penyiapan verifikasi dua langkah dulu.",
                      "Start setting up two-step sign-in first.", fields={"code": "not started"})
    if not _check_code(core, user, code):
        raise Invalid("Kode salah atau kedaluwarsa.", "Wrong or expired code.",
                      fields={"code": "wrong"})
    codes = [f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES)]
    user.totp_recovery = [_hash(c) for c in codes]
    user.totp_enabled_at = core.now()
    audit.record(session, "user.totp_on", "user", user.id, actor=user, unit_id=user.unit_id)
    return codes


def verify(core: Core, session: Session, user: User, code: str) -> bool:
    """A code from the app, or an unused recovery code (which is then spent)."""
    if not enabled(user):
        return False
    if _check_code(core, user, code):
        return True
    hashed = _hash(code or "")
    left = list(user.totp_recovery or [])
    if code and any(secrets.compare_digest(hashed, h) for h in left):
        user.totp_recovery = [h for h in left if h != hashed]
        audit.record(session, "user.totp_recovery_used", "user", user.id, actor=user,
                     unit_id=user.unit_id, data={"left": len(user.totp_recovery)})
        return True
    return False


def disable(core: Core, session: Session, user: User, code: str) -> None:
    if required(core, user):
        raise Invalid("Kantor Anda mewajibkan verifikasi dua langkah untuk peran ini.",
                      "Your office requires two-step sign-in for this role.",
                      fields={"totp": "required"})
    if not verify(core, session, user, code):
        raise Invalid("Kode salah atau kedaluwarsa.", "Wrong or expired code.",
                      fields={"code": "wrong"})
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_recovery = None
    audit.record(session, "user.totp_off", "user", user.id, actor=user, unit_id=user.unit_id)
