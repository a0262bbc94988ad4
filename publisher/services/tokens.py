"""Listing and revoking API tokens: a person's own (profile, CLI) and, for admins, everyone's.

A token is never shown again after it is created (only its hash is stored); what is listed is
its name, owner, creation, last use, expiry and whether it was revoked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import ApiToken, Role, User
from publisher.services import audit
from publisher.services.errors import Invalid, NotFound


@dataclass(frozen=True)
class TokenView:
    id: int
    name: str
    user_id: int
    user_email: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked: bool
    revoked_at: datetime | None

    def state(self, now: datetime) -> str:
        """``active``, ``expired`` or ``revoked``."""
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _view(row: ApiToken) -> TokenView:
    return TokenView(row.id, row.name, row.user_id, row.user.email, row.created_at,
                     row.last_used_at, row.expires_at, bool(row.revoked), row.revoked_at)


def list_tokens(session: Session, actor: User, *, everyone: bool = False,
                user_id: int | None = None) -> list[TokenView]:
    """The actor's own tokens; an admin may ask for everyone's or one user's."""
    q = select(ApiToken).order_by(ApiToken.id)
    if actor.role == Role.ADMIN and (everyone or user_id is not None):
        if user_id is not None:
            q = q.where(ApiToken.user_id == user_id)
    else:
        q = q.where(ApiToken.user_id == actor.id)
    return [_view(r) for r in session.execute(q).unique().scalars()]


def revoke_token(core: Core, session: Session, actor: User, token_id: int) -> TokenView:
    """Revoke a token at once (its next request gets 401). Owners revoke their own tokens,
    admins anyone's; another person's token is *not found*, so ids do not leak."""
    row = session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if row is None or (row.user_id != actor.id and actor.role != Role.ADMIN):
        raise NotFound(f"Token #{token_id} tidak ditemukan.", f"Token #{token_id} not found.",
                       fields={"token": "not found"})
    if row.revoked:
        raise Invalid(f"Token #{token_id} sudah dicabut.", f"Token #{token_id} is already revoked.",
                      fields={"token": "revoked"}, code="already_revoked")
    row.revoked = True
    row.revoked_at = core.now()
    audit.record(session, "token.revoke", "user", row.user_id, actor=actor,
                 unit_id=row.user.unit_id, data={"token": row.id, "name": row.name})
    return _view(row)
