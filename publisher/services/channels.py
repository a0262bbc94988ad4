"""Connecting, reconnecting, disabling and moving channels (a unit's social accounts).

Credentials are verified with the platform (the adapter's ``account()``) before anything is
saved, then sealed with Fernet; they are never returned, logged or rendered. Whenever they are
stored (connect, reconnect, a token an adapter refreshed) ``Channel.token_expires_at`` is set
from them in the same write, so the health board shows when the token stops working.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters import AdapterUnavailable, get_adapter_class, platforms
from adapters.base import COMMENTS_OPT_IN, AccountInfo
from adapters.errors import (
    AdapterError,
    CredentialFieldError,
    OutcomeUnknown,
    RetryLater,
    redact,
    secret_values,
)
from publisher.core import Core
from publisher.jobs import enqueue_publish
from publisher.models import (
    Channel,
    ChannelStatus,
    Publication,
    PublicationStatus,
    Role,
    Unit,
    User,
)
from publisher.runtime import build_adapter
from publisher.services import audit
from publisher.services.access import get_scoped, require_role
from publisher.services.channel_state import save_changes
from publisher.services.errors import Invalid, Text


def token_expiry(credentials: Mapping[str, Any]) -> datetime | None:
    """When the channel's access token stops working, as the platform said: the OAuth
    ``expires_at`` (Unix seconds) the code exchange and every refresh write from the token
    answer's ``expires_in``. None means it does not expire or nobody said: Meta Page tokens
    derived from a long-lived user token, Telegram bot tokens, instagrapi sessions, OAuth 1.0a
    keys, tokens typed into the manual form. A date is never guessed.

    Where the platform also dates the refresh token (TikTok: 365 days), that is the date that
    matters: the access token renews itself until then, and only then must a person act."""
    value = credentials.get("refresh_expires_at") or credentials.get("expires_at")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        seconds = float(value)
        if not math.isfinite(seconds) or seconds <= 0:
            return None
        return datetime.fromtimestamp(seconds, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def credential_columns(core: Core, credentials: Mapping[str, Any]) -> dict[str, Any]:
    """The channel columns that store ``credentials``: sealed, and the token's expiry."""
    return {"credentials_encrypted": core.box.seal(dict(credentials)),
            "token_expires_at": token_expiry(credentials)}


def save_credentials(core: Core, channel_id: int, credentials: Mapping[str, Any]) -> None:
    """Store credentials an adapter rotated (a refreshed token, a renewed session) in their
    own transaction: a spent single-use refresh token must never outlive its successor."""
    with core.sessions.begin() as s:
        s.execute(update(Channel).where(Channel.id == channel_id)
                  .values(**credential_columns(core, credentials)))


def verify_credentials(core: Core, platform: str, credentials: dict[str, Any],
                       state: dict[str, Any] | None = None
                       ) -> tuple[AccountInfo, dict[str, Any]]:
    """Ask the platform who these credentials belong to; any failure is a field error.

    Returns the account and the credentials to store: the check may have made a session
    (instagrapi logs in) or rotated a token, and throwing that away would make the worker log
    in again for the first post (Instagram treats quick repeated logins as an attack) or keep
    a single-use refresh token that is already spent. What the adapter cached while checking
    lands in ``state`` when one is given (TikTok's creator rules: the privacy levels the
    account may use, which the composer and the channel page show before any post).
    """
    if platform not in platforms():
        raise Invalid(f"Platform '{platform}' tidak dikenal.", f"Unknown platform '{platform}'.",
                      fields={"platform": f"one of {', '.join(platforms())}"})
    latest = dict(credentials)

    def keep(saved: Any) -> None:
        latest.clear()
        latest.update(saved)

    try:
        get_adapter_class(platform)
        adapter = build_adapter(core, platform, credentials, save_credentials=keep,
                                state=state)
        return adapter.account(), latest
    except AdapterUnavailable as exc:
        raise Invalid(str(exc), str(exc), fields={"platform": "unavailable"}) from None
    except CredentialFieldError as exc:
        raise Invalid(exc.message_id, exc.message_en, fields={exc.field: exc.message_id},
                      code="malformed") from None
    except (RetryLater, OutcomeUnknown) as exc:
        # A timeout, a 5xx or a rate limit while checking: the platform said nothing about the
        # credentials, nothing was saved and nothing will retry by itself.
        raise _unreachable(exc.message_en) from None
    except AdapterError as exc:
        raise Invalid(f"Platform menolak kredensial ini: {exc.message_id} Periksa isiannya, "
                      "lalu coba lagi.",
                      f"The platform refused these credentials: {exc.message_en} Check them "
                      "and try again.",
                      fields={"credentials": exc.message_id}, code="bad_credentials") from None
    except requests.RequestException as exc:
        raise _unreachable(type(exc).__name__) from None
    except KeyError as exc:
        known = {name for name, _label, _secret in get_adapter_class(platform).credential_fields}
        field = str(exc.args[0]) if exc.args and str(exc.args[0]) in known else "credentials"
        raise Invalid(f"Isian '{field}' wajib diisi untuk platform ini.",
                      f"The field '{field}' is required for this platform.",
                      fields={field: "Wajib diisi untuk platform ini."},
                      code="missing") from None
    except (TypeError, ValueError) as exc:
        # The exception may quote the caller's input (a token of the wrong type, a URL with
        # the token in it): every string they sent is removed before it is echoed.
        why = redact(str(exc), secret_values(credentials, everything=True))
        raise Invalid(f"Kredensial tidak lengkap atau salah bentuk: {why}",
                      f"Incomplete or malformed credentials: {why}",
                      fields={"credentials": "incomplete"}, code="malformed") from None


def _unreachable(reason: str) -> Invalid:
    return Invalid("Platform tidak dapat dihubungi untuk memeriksa kredensial; belum ada yang "
                   "disimpan. Coba lagi sebentar lagi.",
                   f"Could not reach the platform to check the credentials ({reason}); nothing "
                   "was saved. Try again in a moment.",
                   fields={"credentials": "Platform tidak dapat dihubungi; coba lagi."},
                   code="unreachable")


def create_channel(core: Core, session: Session, actor: User, *, platform: str,
                   name: str | None, credentials: dict[str, Any],
                   unit_id: int | None = None) -> Channel:
    """``name=None`` (the "Connect with …" flow) names the channel after the verified account."""
    require_role(actor, Role.APPROVER, Role.ADMIN, Role.OPERATOR)
    errors = {}
    if name is not None and not name.strip():
        errors["name"] = Text("Nama akun wajib diisi.", "A name is required.")
    if not isinstance(credentials, dict) or not credentials:
        errors["credentials"] = Text("Kredensial wajib diisi.", "Credentials are required.")
    target_unit = unit_id if (unit_id is not None and actor.role == Role.ADMIN) else actor.unit_id
    if unit_id is not None and actor.role != Role.ADMIN and unit_id != actor.unit_id:
        errors["unit"] = f"Unit #{unit_id} tidak ditemukan."
    if target_unit is None or session.get(Unit, target_unit) is None:
        errors["unit"] = Text("Pilih unit pemilik akun.", "Choose the owning unit.")
    if errors:
        raise Invalid("Periksa kembali isian akun.", "Please check the channel's fields.",
                      fields=errors)
    state: dict[str, Any] = {}
    info, credentials = verify_credentials(core, platform, credentials, state)
    if name is None:
        name = info.name or info.username or info.external_id
    channel = Channel(unit_id=target_unit, platform=platform, name=name.strip()[:200],
                      external_id=info.external_id, username=info.username,
                      status=ChannelStatus.ACTIVE, state=state, created_at=core.now(),
                      **credential_columns(core, credentials))
    session.add(channel)
    session.flush()
    audit.record(session, "channel.create", "channel", channel.id, actor=actor,
                 unit_id=target_unit, data={"platform": platform, "account": info.name})
    return channel


def _bare(username: str) -> str:
    return username.strip().lstrip("@").lower()


def _handle(username: str | None, name: str | None, external_id: str | None) -> str:
    return f"@{username}" if username else (name or external_id or "?")


def reconnect_channel(core: Core, session: Session, actor: User, channel_id: int,
                      credentials: dict[str, Any], *, same_account: bool = True) -> Channel:
    """New credentials for a channel; publications waiting for them resume at once.

    The platform is asked whose credentials these are (``account()``) and they must belong to
    the channel's own account (its external id): approved posts must never go to another
    account while the accounts page still shows the old name. Another account is refused
    (connect it as a new channel). Anyone of the channel's unit may reconnect it (operators
    too: a token expiring at night must not wait for an approver), since the account cannot
    change; other units do not see the channel at all. ``same_account`` stays for callers that
    passed it; it cannot be turned off."""
    del same_account  # always enforced
    channel = get_scoped(session, Channel, channel_id, actor)
    fresh: dict[str, Any] = {}
    info, credentials = verify_credentials(core, channel.platform, credentials, fresh)
    # A channel with no stored account id (a row older than the check, or written by hand)
    # is judged by its username, then bound to the account the platform names.
    other = (str(info.external_id) != str(channel.external_id) if channel.external_id
             else bool(channel.username and info.username
                       and _bare(info.username) != _bare(channel.username)))
    if other:
        theirs = _handle(info.username, info.name, info.external_id)
        ours = _handle(channel.username, channel.name, channel.external_id)
        raise Invalid(f"Kredensial ini milik {theirs}, saluran ini {ours}: sambungkan sebagai "
                      "saluran baru. Saluran tidak diubah.",
                      f"These credentials belong to {theirs}, this channel is {ours}: connect "
                      "them as a new channel. The channel was not changed.",
                      fields={"credentials": "other account"}, code="other_account",
                      audit={"action": "channel.reconnect_refused", "object_type": "channel",
                             "object_id": channel.id, "actor": actor, "unit_id": channel.unit_id,
                             "data": {"offered_account": str(info.external_id),
                                      "account": str(channel.external_id)}})
    for column, value in credential_columns(core, credentials).items():
        setattr(channel, column, value)
    if not channel.external_id:
        channel.external_id = str(info.external_id)
        channel.username = channel.username or info.username
    if fresh:  # on the row as it is now: a publish job may have saved state meanwhile
        save_changes(session, channel.id, {}, fresh)
        session.expire(channel, ["state"])
    channel.status = ChannelStatus.ACTIVE
    channel.reconnected_at = core.now()
    channel.last_error = None
    resumed = resume_waiting(core, session, channel)
    audit.record(session, "channel.reconnect", "channel", channel.id, actor=actor,
                 unit_id=channel.unit_id,
                 data={"resumed": resumed, "account": str(info.external_id)})
    return channel


def resume_waiting(core: Core, session: Session, channel: Channel) -> int:
    now = core.now()
    pubs = session.execute(select(Publication).where(
        Publication.channel_id == channel.id,
        Publication.status == PublicationStatus.NEEDS_REAUTH)).scalars().all()
    for pub in pubs:
        pub.status = PublicationStatus.QUEUED
        pub.updated_at = now
        pub.job_id = enqueue_publish(session, pub.id, channel.id, run_at=now, now=now)
        audit.record(session, "publication.resumed", "publication", pub.id,
                     unit_id=channel.unit_id)
    return len(pubs)


def set_channel_disabled(core: Core, session: Session, actor: User, channel_id: int,
                         disabled: bool) -> Channel:
    require_role(actor, Role.APPROVER, Role.ADMIN)
    channel = get_scoped(session, Channel, channel_id, actor)
    channel.status = ChannelStatus.DISABLED if disabled else ChannelStatus.ACTIVE
    audit.record(session, "channel.disable" if disabled else "channel.enable", "channel",
                 channel.id, actor=actor, unit_id=channel.unit_id)
    return channel


def set_comment_reading(core: Core, session: Session, actor: User, channel_id: int,
                        on: bool) -> Channel:
    """Switch reading citizens' replies on or off for a channel whose platform charges per
    read (``caps.comments_opt_in``: X). Off by default; the channel page shows the price.
    Only the switch's key of the state is written (``channel_state``), so a job saving the
    channel's state at the same time keeps its own changes."""
    require_role(actor, Role.APPROVER, Role.ADMIN)
    channel = get_scoped(session, Channel, channel_id, actor)
    try:
        opt_in = get_adapter_class(channel.platform).caps.comments_opt_in
    except AdapterUnavailable:
        opt_in = False
    if not opt_in:
        raise Invalid("Akun ini tidak perlu sakelar baca komentar.",
                      "This channel has no comment reading switch.",
                      fields={"read_comments": "not applicable"})
    before = dict(channel.state or {})
    save_changes(session, channel.id, before, {**before, COMMENTS_OPT_IN: bool(on)})
    session.refresh(channel)
    audit.record(session, "channel.comments_on" if on else "channel.comments_off", "channel",
                 channel.id, actor=actor, unit_id=channel.unit_id)
    return channel


def move_channel(core: Core, session: Session, actor: User, channel_id: int,
                 unit_id: int) -> Channel:
    require_role(actor, Role.ADMIN)
    channel = get_scoped(session, Channel, channel_id, actor)
    if session.get(Unit, unit_id) is None:
        raise Invalid("Unit tujuan tidak ditemukan.", "Target unit not found.",
                      fields={"unit": "not found"})
    old = channel.unit_id
    channel.unit_id = unit_id
    audit.record(session, "channel.move", "channel", channel.id, actor=actor, unit_id=unit_id,
                 data={"from_unit": old, "to_unit": unit_id})
    return channel


def public_view(channel: Channel) -> dict[str, Any]:
    """What may be shown of a channel: everything but its credentials."""
    return {"id": channel.id, "platform": channel.platform, "name": channel.name,
            "unit": channel.unit_id, "external_id": channel.external_id,
            "username": channel.username, "status": channel.status,
            "paused_until": channel.paused_until.isoformat() if channel.paused_until else None,
            "last_published_at": (channel.last_published_at.isoformat()
                                   if channel.last_published_at else None),
            "last_error": channel.last_error}
