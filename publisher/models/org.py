"""Units (OPD), their users and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, utcnow
from publisher.models.enums import Role


class Unit(Base):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    #: Opt-in for the public transparency page (/publik/laporan).
    public_report: Mapped[bool] = mapped_column(Boolean, default=False)
    #: A second opt-in: the public page also shows the unit's citizen-inbox figures (counts and
    #: response times, never the comments). Only with ``public_report``: without the page there
    #: is nowhere to show them.
    public_inbox: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: Replies to citizens from Warta wait for a second person's approval (issue 19).
    replies_need_approval: Mapped[bool] = mapped_column(Boolean, default=True,
                                                        server_default=true())
    #: The unit's approval stages, an ordered list of stage kinds
    #: (``services/review_stages.STAGE_KINDS``); ``None`` is one stage, the unit's approver.
    review_stages: Mapped[list[str] | None] = mapped_column(JSON)
    #: Hours a post may wait at one stage before the people who can act are reminded (once).
    review_remind_hours: Mapped[int | None] = mapped_column(Integer)
    #: Hours after which a post still waiting at a stage is flagged (never auto-approved).
    review_deadline_hours: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16), default=Role.OPERATOR)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    locale: Mapped[str] = mapped_column(String(8), default="id")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    #: Set when an admin gave a temporary password: the UI asks for a new one before anything
    #: else, so the admin never knows the password in use.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())
    #: When the user last opened their notifications; newer events count as unread.
    notifications_seen_at: Mapped[datetime | None] = mapped_column()
    #: Bumped by logout, a password change and deactivation; a browser session carries the
    #: version it was opened with and stops working once it differs (every session ends).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The TOTP secret, sealed with the credential key; set while enrolling, in use once
    #: ``totp_enabled_at`` is set (services/totp.py).
    totp_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enabled_at: Mapped[datetime | None] = mapped_column()
    #: SHA-256 hashes of the unused recovery codes.
    totp_recovery: Mapped[list[str] | None] = mapped_column(JSON)
    #: The last time step a code was accepted for (a code works once).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    #: The region's verifier (Diskominfo): may act at the ``region_verifier`` review stage of
    #: any unit's post. Set by an admin on /admin/pengguna.
    region_verifier: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit | None] = relationship(lazy="joined")

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    # The user protocol Flask-Login expects, written out so the domain does not import Flask.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(Base):
    """A bearer token for the JSON API. Only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    #: ``None``: the token does not expire; otherwise it stops working at this instant.
    expires_at: Mapped[datetime | None] = mapped_column()
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class LoginThrottle(Base):
    """Login attempts per key (client address, account) in the current fixed window.

    Kept in the database so every web process counts the same attempts (an in-memory counter
    per process would multiply the allowance by the number of processes)."""

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[datetime] = mapped_column()
    count: Mapped[int] = mapped_column(Integer, default=0)
