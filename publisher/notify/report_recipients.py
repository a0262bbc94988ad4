"""The weekly report's outside recipients as admins keep them on the web page (the same rows
``warta report recipients`` keeps): addresses that receive a unit's report, or the whole
region's, without being Warta users.

Strict like every form, with a message on the field: an address that is one (no spaces,
separators or brackets; at most 254 characters), a name of at most 200, ``id`` or ``en``, and
a unit that exists (empty: the whole region). Adding an address already there for that scope
updates its name and language. Both changes are audited (``report.recipient_add``,
``report.recipient_remove``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import ReportRecipient, Role, User
from publisher.notify import weekly
from publisher.services import audit, org
from publisher.services.errors import Forbidden, Invalid, NotFound, Text


def _admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Hanya admin yang mengatur penerima laporan.",
                        "Only admins manage the report's recipients.")


def _check(session: Session, form: Mapping[str, Any]) -> tuple[str, str, str, int | None]:
    errors: dict[str, str] = {}
    email = str(form.get("email") or "").strip().lower()
    local, _, domain = email.partition("@")
    if (not local or "." not in domain or len(email) > 254
            or any(c in email for c in "\r\n\t <>,;\"'()[]\\") or email.count("@") != 1):
        errors["email"] = Text("Tulis satu alamat e-mail, mis. bupati@kab.go.id.",
                               "Write one e-mail address, e.g. regent@kab.go.id.")
    name = str(form.get("name") or "").strip()
    if len(name) > 200 or any(not c.isprintable() for c in name):
        errors["name"] = Text("Nama paling banyak 200 karakter.",
                              "A name of at most 200 characters.")
    locale = str(form.get("lang") or "id").strip()
    if locale not in ("id", "en"):
        errors["lang"] = Text("Pilih Bahasa Indonesia atau English.",
                              "Choose Bahasa Indonesia or English.")
    unit_id = org.unit_or_region(session, form.get("unit"), errors)
    if errors:
        raise Invalid("Periksa kembali isian penerima.", "Please check the recipient's fields.",
                      fields=errors)
    return email, name, locale, unit_id


def add(core: Core, session: Session, actor: User, form: Mapping[str, Any]) -> ReportRecipient:
    _admin(actor)
    email, name, locale, unit_id = _check(session, form)
    existed = session.execute(select(ReportRecipient.id).where(
        ReportRecipient.email == email,
        ReportRecipient.unit_id.is_(None) if unit_id is None
        else ReportRecipient.unit_id == unit_id)).scalar_one_or_none() is not None
    row = weekly.add_recipient(session, unit_id, email, name=name, locale=locale)
    audit.record(session, "report.recipient_add", "unit" if unit_id else "region", unit_id,
                 actor=actor, unit_id=unit_id, at=core.now(),
                 data={"email": email, "lang": locale, "updated": existed})
    return row


def remove(core: Core, session: Session, actor: User, recipient_id: int) -> None:
    _admin(actor)
    row = session.get(ReportRecipient, recipient_id)
    if row is None:
        raise NotFound("Penerima tidak ditemukan.", "Recipient not found.")
    audit.record(session, "report.recipient_remove", "unit" if row.unit_id else "region",
                 row.unit_id, actor=actor, unit_id=row.unit_id, at=core.now(),
                 data={"email": row.email})
    session.delete(row)


def ordered() -> Any:
    """The page's query (paged by the caller): the whole region's first, then by unit."""
    return select(ReportRecipient).order_by(ReportRecipient.unit_id.is_not(None),
                                            ReportRecipient.unit_id, ReportRecipient.email)
