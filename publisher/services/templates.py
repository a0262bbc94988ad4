"""Post templates and hashtag sets: create, change, delete (audited), and what the composer
needs to use them.

A unit's operators and approvers keep their unit's; admins keep the region's (``unit_id``
None, offered to every unit) and may keep any unit's. Another unit's template or set is
*not found*, so its existence does not leak; a region one an operator may use but not change.
Names are unique per owner (case-insensitive), checked here because a NULL unit makes a
database unique constraint useless for the region's.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Campaign, Channel, Role, User
from publisher.models.template import HashtagSet, PostTemplate
from publisher.services import audit
from publisher.services.errors import Forbidden, Invalid, NotFound, Text
from publisher.services.query_args import MAX_ID

MAX_LISTED = 200
NAME_MAX, BODY_MAX, TAGS_MAX, TAG_COUNT_MAX = 100, 5000, 1000, 30
_TAG = re.compile(r"^#\w{1,99}$")
_PLACEHOLDER = re.compile(r"\{(\w{1,40})\}")

Model = type[PostTemplate] | type[HashtagSet]


def placeholders(body: str) -> list[str]:
    """The ``{name}`` placeholders of a body, each once, in order: the operator fills them."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(body or "")))


def parse_tags(raw: str) -> list[str]:
    """Hashtags as typed (spaces, commas or new lines between them), each once."""
    seen: dict[str, str] = {}
    for tag in re.split(r"[\s,]+", raw or ""):
        if tag:
            seen.setdefault(tag.casefold(), tag)
    return list(seen.values())


def append_tags(body: str, tags: list[str]) -> str:
    """The body with the tags it does not carry yet appended (case-insensitive, whole
    words: ``#Jaga`` is not in ``#JagaJakarta``)."""
    have = {t.casefold() for t in re.findall(r"#\w+", body or "")}
    new = [t for t in tags if t.casefold() not in have]
    if not new:
        return body
    base = (body or "").rstrip()
    return (base + ("\n\n" if base else "") + " ".join(new))


def _owner_filter(model: Model, unit_id: int | None):  # type: ignore[no-untyped-def]
    return model.unit_id.is_(None) if unit_id is None else model.unit_id == unit_id


def usable(session: Session, model: Model, user: User,
           unit_id: int | None) -> list:  # type: ignore[type-arg]
    """What a composer for ``unit_id`` offers: that unit's and the region's (a non-admin
    always gets their own unit's, whatever ``unit_id`` says)."""
    if user.role != Role.ADMIN:
        unit_id = user.unit_id
    q = select(model).where(or_(model.unit_id.is_(None), model.unit_id == unit_id))
    return list(session.execute(q.order_by(model.name, model.id).limit(MAX_LISTED)).scalars())


def manageable(session: Session, model: Model, user: User) -> list:  # type: ignore[type-arg]
    """The list page: an admin's every one, a unit's own and the region's."""
    q = select(model)
    if user.role != Role.ADMIN:
        q = q.where(or_(model.unit_id.is_(None), model.unit_id == user.unit_id))
    return list(session.execute(q.order_by(model.unit_id.is_not(None), model.unit_id,
                                           model.name, model.id).limit(MAX_LISTED)).scalars())


def get_usable(session: Session, model: Model, user: User, object_id: int) -> Any:
    """One to use in a composer: the region's, or the user's unit's (any, for an admin)."""
    obj: Any = \
        session.get(model, object_id) if 0 < object_id <= MAX_ID else None
    if obj is None or not (obj.unit_id is None or user.role == Role.ADMIN
                           or obj.unit_id == user.unit_id):
        what = ("Templat", "Template") if model is PostTemplate else ("Set tagar", "Hashtag set")
        raise NotFound(f"{what[0]} #{object_id} tidak ditemukan.",
                       f"{what[1]} #{object_id} not found.")
    return obj


def _get_managed(session: Session, model: Model, user: User, object_id: int) -> Any:
    obj = get_usable(session, model, user, object_id)
    if obj.unit_id is None and user.role != Role.ADMIN:
        raise Forbidden("Hanya admin yang dapat mengubah milik seluruh wilayah.",
                        "Only an admin may change the region's.", code="wrong_role")
    return obj


def _owner(actor: User, unit_id: int | None) -> int | None:
    """A non-admin keeps their own unit's, whatever the form says."""
    return unit_id if actor.role == Role.ADMIN else actor.unit_id


def _check_name(session: Session, model: Model, name: str, unit_id: int | None,
                own_id: int | None, errors: dict[str, str]) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        errors["name"] = Text(f"Tulis nama (paling banyak {NAME_MAX} karakter).",
                              f"Write a name (at most {NAME_MAX} characters).")
        return name
    q = select(model.id).where(_owner_filter(model, unit_id),
                               func.lower(model.name) == name.lower())
    if own_id is not None:
        q = q.where(model.id != own_id)
    if session.execute(q.limit(1)).first() is not None:
        errors["name"] = Text(f"Nama \u201c{name}\u201d sudah dipakai.",
                              f"The name \u201c{name}\u201d is already taken.")
    return name


def _clean_template(session: Session, unit_id: int | None, own_id: int | None, name: str,
                    body: str, channel_ids: list[int], campaign_id: int | None
                    ) -> tuple[str, str, list[int], int | None]:
    errors: dict[str, str] = {}
    name = _check_name(session, PostTemplate, name, unit_id, own_id, errors)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body or len(body) > BODY_MAX:
        errors["body"] = Text(f"Tulis isi templat (paling banyak {BODY_MAX} karakter).",
                              f"Write the template's text (at most {BODY_MAX} characters).")
    channel_ids = list(dict.fromkeys(c for c in channel_ids if 0 < c <= MAX_ID))
    if channel_ids:
        found = set(session.execute(select(Channel.id).where(
            Channel.id.in_(channel_ids), Channel.unit_id == unit_id)).scalars()) \
            if unit_id is not None else set()
        if set(channel_ids) - found:
            errors["channels"] = Text("Pilih akun milik unit templat ini.",
                                      "Choose channels of this template's unit.")
    if campaign_id is not None:
        camp = session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
        if camp is None or not (camp.unit_id is None or camp.unit_id == unit_id):
            errors["campaign"] = Text(f"Kampanye #{campaign_id} tidak ditemukan.",
                                      f"Campaign #{campaign_id} not found.")
    if errors:
        raise Invalid("Periksa kembali isian templat.", "Please check the template's fields.",
                      fields=errors)
    return name, body, channel_ids, campaign_id


def _template_snapshot(t: PostTemplate) -> dict[str, object]:
    return {"name": t.name, "body": t.body, "channels": t.channel_ids,
            "campaign": t.campaign_id, "unit": t.unit_id}


def create_template(core: Core, session: Session, actor: User, *, name: str, body: str,
                    channel_ids: list[int] | None = None, campaign_id: int | None = None,
                    unit_id: int | None = None) -> PostTemplate:
    unit_id = _owner(actor, unit_id)
    name, body, chans, campaign_id = _clean_template(session, unit_id, None, name, body,
                                                     channel_ids or [], campaign_id)
    now = core.now()
    t = PostTemplate(unit_id=unit_id, name=name, body=body, channel_ids=chans,
                     campaign_id=campaign_id, created_by=actor.id, created_at=now,
                     updated_at=now)
    session.add(t)
    session.flush()
    audit.record(session, "template.create", "post_template", t.id, actor=actor,
                 unit_id=unit_id, data=_template_snapshot(t))
    return t


def update_template(core: Core, session: Session, actor: User, template_id: int, *,
                    name: str, body: str, channel_ids: list[int] | None = None,
                    campaign_id: int | None = None) -> PostTemplate:
    t = _get_managed(session, PostTemplate, actor, template_id)
    before = _template_snapshot(t)
    t.name, t.body, t.channel_ids, t.campaign_id = _clean_template(
        session, t.unit_id, t.id, name, body, channel_ids or [], campaign_id)
    t.updated_at = core.now()
    audit.record(session, "template.update", "post_template", t.id, actor=actor,
                 unit_id=t.unit_id, data={"before": before, "after": _template_snapshot(t)})
    return t


def delete_template(core: Core, session: Session, actor: User, template_id: int) -> None:
    t = _get_managed(session, PostTemplate, actor, template_id)
    audit.record(session, "template.delete", "post_template", t.id, actor=actor,
                 unit_id=t.unit_id, data=_template_snapshot(t))
    session.delete(t)


def _clean_set(session: Session, unit_id: int | None, own_id: int | None, name: str,
               tags: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    name = _check_name(session, HashtagSet, name, unit_id, own_id, errors)
    parsed = parse_tags(tags)
    bad = [t for t in parsed if not _TAG.match(t)]
    joined = " ".join(parsed)
    if not parsed or bad or len(parsed) > TAG_COUNT_MAX or len(joined) > TAGS_MAX:
        errors["tags"] = Text(
            f"Tulis 1-{TAG_COUNT_MAX} tagar dipisah spasi (contoh: #JagaJakarta #PemkotPeduli),"
            f" paling banyak {TAGS_MAX} karakter"
            + (f"; bukan tagar: {' '.join(bad[:5])}" if bad else "") + ".",
            f"Write 1-{TAG_COUNT_MAX} hashtags separated by spaces (e.g. #JagaJakarta "
            f"#PemkotPeduli), at most {TAGS_MAX} characters"
            + (f"; not a hashtag: {' '.join(bad[:5])}" if bad else "") + ".")
    if errors:
        raise Invalid("Periksa kembali isian set tagar.", "Please check the hashtag set's fields.",
                      fields=errors)
    return name, joined


def _set_snapshot(h: HashtagSet) -> dict[str, object]:
    return {"name": h.name, "tags": h.tags, "unit": h.unit_id}


def create_set(core: Core, session: Session, actor: User, *, name: str, tags: str,
               unit_id: int | None = None) -> HashtagSet:
    unit_id = _owner(actor, unit_id)
    name, joined = _clean_set(session, unit_id, None, name, tags)
    now = core.now()
    h = HashtagSet(unit_id=unit_id, name=name, tags=joined, created_by=actor.id,
                   created_at=now, updated_at=now)
    session.add(h)
    session.flush()
    audit.record(session, "hashtag_set.create", "hashtag_set", h.id, actor=actor,
                 unit_id=unit_id, data=_set_snapshot(h))
    return h


def update_set(core: Core, session: Session, actor: User, set_id: int, *, name: str,
               tags: str) -> HashtagSet:
    h = _get_managed(session, HashtagSet, actor, set_id)
    before = _set_snapshot(h)
    h.name, h.tags = _clean_set(session, h.unit_id, h.id, name, tags)
    h.updated_at = core.now()
    audit.record(session, "hashtag_set.update", "hashtag_set", h.id, actor=actor,
                 unit_id=h.unit_id, data={"before": before, "after": _set_snapshot(h)})
    return h


def delete_set(core: Core, session: Session, actor: User, set_id: int) -> None:
    h = _get_managed(session, HashtagSet, actor, set_id)
    audit.record(session, "hashtag_set.delete", "hashtag_set", h.id, actor=actor,
                 unit_id=h.unit_id, data=_set_snapshot(h))
    session.delete(h)
