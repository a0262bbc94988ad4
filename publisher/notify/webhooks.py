"""The office's webhooks as admins keep them (add, remove, list), which events each receives,
and the payload of one delivery.

Strict like every form: a name, an ``https`` address (plain ``http`` only to this machine, for
a receiver next to Warta; no credentials in the address), a secret of at least 16 characters,
one kind at least, and a unit that exists (empty: the whole region). The secret is sealed with
``core.box`` at once and never rendered, returned or put in the audit log.

**Who receives what.** A region webhook (no unit) gets every event of its kinds; a unit's gets
that unit's events, never the installation's health (``kinds.ADMIN_ONLY``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import AuditEvent, NotifyChannel, NotifyDelivery, NotifyWebhook, Role, Unit
from publisher.models import User as UserModel
from publisher.notify import content
from publisher.notify.kinds import ADMIN_ONLY, KIND_OF, KINDS
from publisher.services import audit, org
from publisher.services.errors import Forbidden, Invalid, NotFound, Text

#: Webhooks one installation keeps (the page lists them all).
MAX_WEBHOOKS = 20
MIN_SECRET, MAX_SECRET = 16, 200
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def address(webhook_id: int) -> str:
    """The ``address`` of a webhook's deliveries: part of their unique key."""
    return f"webhook:{webhook_id}"


def any_active(session: Session) -> bool:
    return bool(session.execute(select(exists().where(NotifyWebhook.active.is_(True))))
                .scalar())


def listening(session: Session, event: AuditEvent) -> list[NotifyWebhook]:
    """The active webhooks that receive ``event``."""
    kind = KIND_OF.get(event.action)
    if kind is None:
        return []
    out = []
    for hook in session.execute(select(NotifyWebhook).where(NotifyWebhook.active.is_(True))
                                .order_by(NotifyWebhook.id)).scalars():
        if kind not in (hook.kinds or []):
            continue
        if hook.unit_id is None or (hook.unit_id == event.unit_id and kind not in ADMIN_ONLY):
            out.append(hook)
    return out


def _check(session: Session, form: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = str(form.get("name") or "").strip()
    if not name or len(name) > 120:
        errors["name"] = Text("Isi nama (paling banyak 120 karakter).",
                              "Fill in a name (at most 120 characters).")
    url = str(form.get("url") or "").strip()
    parts = urlsplit(url) if len(url) <= 500 else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.hostname:
        errors["url"] = Text("Tulis alamat lengkap, mis. https://sistem.kab.go.id/warta.",
                             "Write a full address, e.g. https://system.kab.go.id/warta.")
    elif parts.username or parts.password:
        errors["url"] = Text("Alamat tidak boleh memuat nama pengguna atau sandi.",
                             "The address must not contain a user name or password.")
    elif parts.scheme == "http" and parts.hostname not in LOOPBACK:
        errors["url"] = Text("Pakai https (http hanya untuk penerima di mesin ini).",
                             "Use https (http only for a receiver on this machine).")
    secret = str(form.get("secret") or "")
    if not MIN_SECRET <= len(secret) <= MAX_SECRET or secret != secret.strip():
        errors["secret"] = Text(f"Rahasia {MIN_SECRET}–{MAX_SECRET} karakter, tanpa spasi di "
                                "awal atau akhir.",
                                f"A secret of {MIN_SECRET}–{MAX_SECRET} characters, without "
                                "spaces at either end.")
    kinds = [k for k in KINDS if k in set(form.get("kinds") or [])]
    if not kinds or len(kinds) != len(set(form.get("kinds") or [])):
        errors["kinds"] = Text("Pilih setidaknya satu jenis notifikasi.",
                               "Choose at least one kind of notification.")
    unit_id = org.unit_or_region(session, form.get("unit"), errors)
    if errors:
        raise Invalid("Periksa kembali isian webhook.", "Please check the webhook's fields.",
                      fields=errors)
    return {"name": name, "url": url, "secret": secret, "kinds": kinds, "unit_id": unit_id}


def _admin(actor: UserModel) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Hanya admin yang mengatur webhook.", "Only admins manage webhooks.")


def add(core: Core, session: Session, actor: UserModel, form: Mapping[str, Any]) -> NotifyWebhook:
    """Validate, seal the secret and store; audited without the secret."""
    _admin(actor)
    values = _check(session, form)
    count = len(session.execute(select(NotifyWebhook.id)).all())
    if count >= MAX_WEBHOOKS:
        raise Invalid(f"Paling banyak {MAX_WEBHOOKS} webhook; hapus satu dulu.",
                      f"At most {MAX_WEBHOOKS} webhooks; remove one first.")
    now = core.now()
    hook = NotifyWebhook(unit_id=values["unit_id"], name=values["name"], url=values["url"],
                         secret_encrypted=core.box.seal({"secret": values["secret"]}),
                         kinds=values["kinds"], active=True, created_at=now, updated_at=now)
    session.add(hook)
    session.flush()
    audit.record(session, "notify.webhook_add", "webhook", hook.id, actor=actor,
                 unit_id=hook.unit_id, at=now,
                 data={"name": hook.name, "url": hook.url, "kinds": hook.kinds})
    return hook


def remove(core: Core, session: Session, actor: UserModel, webhook_id: int) -> None:
    """Delete the webhook; its pending deliveries are dropped by their send jobs."""
    _admin(actor)
    hook = session.get(NotifyWebhook, webhook_id)
    if hook is None:
        raise NotFound("Webhook tidak ditemukan.", "Webhook not found.")
    audit.record(session, "notify.webhook_remove", "webhook", hook.id, actor=actor,
                 unit_id=hook.unit_id, at=core.now(), data={"name": hook.name, "url": hook.url})
    session.delete(hook)


def listed(session: Session) -> list[NotifyWebhook]:
    return list(session.execute(select(NotifyWebhook).order_by(NotifyWebhook.id)
                                .limit(MAX_WEBHOOKS)).scalars())


def recent(session: Session, hooks: Sequence[NotifyWebhook],
           per_hook: int = 5) -> dict[int, list[NotifyDelivery]]:
    """The last few deliveries of each webhook (bounded), for the admin page."""
    out: dict[int, list[NotifyDelivery]] = {}
    for hook in hooks:
        out[hook.id] = list(session.execute(select(NotifyDelivery).where(
            NotifyDelivery.user_id.is_(None), NotifyDelivery.channel == NotifyChannel.WEBHOOK,
            NotifyDelivery.address == address(hook.id)).order_by(NotifyDelivery.id.desc())
            .limit(per_hook)).scalars())
    return out


def payload(core: Core, session: Session, delivery: NotifyDelivery, hook: NotifyWebhook,
            event: AuditEvent) -> dict[str, Any]:
    """The JSON body: the event, its unit and object, and the notification's Indonesian
    text and link (what a person would read), with ids a receiver can join on."""
    reader = UserModel(name=hook.name, locale="id", role=Role.ADMIN)  # transient: wording only
    said = content.build(session, reader, event, delivery.kind, core.settings.public_url,
                         core.settings.timezone)
    unit = session.get(Unit, event.unit_id) if event.unit_id is not None else None
    at: datetime = event.at
    return {"delivery_id": delivery.id, "webhook_id": hook.id, "kind": delivery.kind,
            "action": event.action, "event_id": event.id, "occurred_at": at.isoformat(),
            "unit": {"id": unit.id, "name": unit.name} if unit is not None else None,
            "object": {"type": event.object_type, "id": event.object_id},
            "subject": said.subject, "lines": said.lines,
            "facts": [{"label": label, "value": value} for label, value in said.facts],
            "url": said.action_url}
