"""Emergency broadcast: one admin starts it, a second admin confirms it, and it goes out at
once to every active account of the chosen units.

Two people, both recorded: the starter, and whoever last changed the text, may not confirm.
The confirmation is bound to the content: the confirm form sends the hash of the version the
confirmer read, and an edit after start changes that hash, so a confirmation always means the
version that person saw. The two-admin confirmation *is* the approval: confirming creates one
approved post per unit (its own approval hash, as any post) and its publications, whose
publish jobs get ``EMERGENCY_PRIORITY`` in the queue. The worker passes freeze windows for
them only after re-checking the content against the confirmed hash
(``publisher/worker/emergency.py``). Publishing goes through the ordinary publications and
claim machinery, so "never publish twice" holds unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.jobs import EMERGENCY_PRIORITY, enqueue_publishes, publish_kind
from publisher.models import (
    AuditEvent,
    Channel,
    ChannelStatus,
    Emergency,
    EmergencyPost,
    EmergencyStatus,
    MediaAsset,
    Post,
    PostChannel,
    PostMedia,
    PostStatus,
    Publication,
    PublicationStatus,
    Role,
    Unit,
    User,
)
from publisher.services import audit
from publisher.services.access import require_role
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden, Invalid, NotFound, Text

MAX_TITLE = 200
MAX_BODY = 5000
MAX_LINK = 2000
MAX_MEDIA = 4


@dataclass
class EmergencyInput:
    """What the admin submits: ``unit_ids`` ``None`` means every unit."""

    title: str
    body: str
    link: str | None = None
    media_ids: list[int] | None = None
    unit_ids: list[int] | None = None


def emergency_hash(*, body: str, link: str | None, media_hashes: list[str],
                   unit_ids: list[int] | None) -> str:
    """The hash of what an emergency sends and to whom; the worker recomputes it from the
    post it is about to publish (so it takes plain values, not the ORM)."""
    canonical = {"body": body, "link": link or None, "media": list(media_hashes),
                 "units": sorted(unit_ids) if unit_ids is not None else "all"}
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def _media(session: Session, ids: list[int]) -> list[MediaAsset]:
    found = {m.id: m for m in session.execute(
        select(MediaAsset).where(MediaAsset.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]


def hash_of(session: Session, em: Emergency) -> str:
    return emergency_hash(body=em.body, link=em.link,
                          media_hashes=[m.sha256 for m in _media(session, list(em.media_ids))],
                          unit_ids=em.unit_ids)


def _checked(session: Session, data: EmergencyInput) -> EmergencyInput:
    """The input cleaned, or ``Invalid`` with a message per field."""
    errors: dict[str, str] = {}
    title, body = (data.title or "").strip(), (data.body or "").strip()
    link = (data.link or "").strip() or None
    if not title:
        errors["title"] = Text("Isi judul siaran darurat.", "Give the emergency a title.")
    elif len(title) > MAX_TITLE:
        errors["title"] = Text(f"Judul paling banyak {MAX_TITLE} karakter.",
                               f"A title holds at most {MAX_TITLE} characters.")
    if not body:
        errors["body"] = Text("Isi teks siaran darurat.", "Write the emergency's text.")
    elif len(body) > MAX_BODY:
        errors["body"] = Text(f"Teks paling banyak {MAX_BODY} karakter.",
                              f"The text holds at most {MAX_BODY} characters.")
    if link and (not link.startswith(("http://", "https://")) or len(link) > MAX_LINK):
        errors["link"] = Text("Tautan harus diawali http:// atau https:// (paling banyak "
                              f"{MAX_LINK} karakter).", "A link must start with http:// or "
                              f"https:// (at most {MAX_LINK} characters).")
    media_ids = list(dict.fromkeys(data.media_ids or []))
    if len(media_ids) > MAX_MEDIA:
        errors["media"] = Text(f"Paling banyak {MAX_MEDIA} media.",
                               f"At most {MAX_MEDIA} media.")
    elif len(_media(session, media_ids)) != len(media_ids):
        errors["media"] = Text("Media tidak ditemukan.", "Media not found.")
    unit_ids = None if data.unit_ids is None else sorted(set(data.unit_ids))
    if unit_ids is not None:
        known = set(session.execute(select(Unit.id).where(Unit.id.in_(unit_ids))).scalars())
        if not unit_ids:
            errors["units"] = Text("Pilih unit, atau semua unit.", "Choose units, or all.")
        elif known != set(unit_ids):
            errors["units"] = Text("Unit tidak ditemukan.", "Unit not found.")
    if errors:
        raise Invalid("Periksa isian siaran darurat.", "Check the emergency's fields.",
                      fields=errors)
    return EmergencyInput(title=title, body=body, link=link, media_ids=media_ids,
                          unit_ids=unit_ids)


def get(session: Session, emergency_id: int) -> Emergency:
    em = session.get(Emergency, emergency_id)
    if em is None:
        raise NotFound(f"Siaran darurat #{emergency_id} tidak ditemukan.",
                       f"Emergency #{emergency_id} was not found.")
    return em


def start(core: Core, session: Session, actor: User, data: EmergencyInput) -> Emergency:
    """Start an emergency; nothing goes out until a second admin confirms it."""
    require_role(actor, Role.ADMIN)
    clean = _checked(session, data)
    now = core.now()
    em = Emergency(title=clean.title, body=clean.body, link=clean.link,
                   media_ids=clean.media_ids or [], unit_ids=clean.unit_ids,
                   status=EmergencyStatus.STARTED, content_hash="", started_by=actor.id,
                   started_at=now, edited_by=actor.id, updated_at=now)
    session.add(em)
    session.flush()
    em.content_hash = hash_of(session, em)
    audit.record(session, "emergency.start", "emergency", em.id, actor=actor, at=now,
                 data={"hash": em.content_hash} | _units_data(clean.unit_ids))
    return em


def _units_data(unit_ids: list[int] | None) -> dict[str, Any]:
    """The targets as the audit log shows them: the unit ids (names on the page), or all."""
    return {"all_units": True} if unit_ids is None else {"units": list(unit_ids)}


def _open(session: Session, emergency_id: int) -> Emergency:
    em = get(session, emergency_id)
    if em.status != EmergencyStatus.STARTED:
        raise Conflict("Siaran darurat ini sudah dikonfirmasi atau dibatalkan.",
                       "This emergency was already confirmed or cancelled.", code="bad_status")
    return em


def edit(core: Core, session: Session, actor: User, emergency_id: int,
         data: EmergencyInput) -> Emergency:
    """Change an emergency before it is confirmed: its hash changes, so a confirmation of the
    earlier version is refused, and the editor becomes one who may not confirm."""
    require_role(actor, Role.ADMIN)
    em = _open(session, emergency_id)
    clean = _checked(session, data)
    em.title, em.body, em.link = clean.title, clean.body, clean.link
    em.media_ids, em.unit_ids = clean.media_ids or [], clean.unit_ids
    before = em.content_hash
    em.content_hash = hash_of(session, em)
    em.edited_by = actor.id
    em.updated_at = core.now()
    audit.record(session, "emergency.edit", "emergency", em.id, actor=actor, at=em.updated_at,
                 data={"hash": em.content_hash, "previous_hash": before}
                 | _units_data(clean.unit_ids))
    return em


def targets(session: Session, unit_ids: list[int] | None) -> list[Channel]:
    """Every enabled, connected account of the units (all units for ``None``)."""
    q = select(Channel).where(Channel.status == ChannelStatus.ACTIVE)
    if unit_ids is not None:
        q = q.where(Channel.unit_id.in_(unit_ids))
    return list(session.execute(q.order_by(Channel.unit_id, Channel.id)).unique().scalars())


def confirm(core: Core, session: Session, actor: User, emergency_id: int,
            seen_hash: str | None) -> Emergency:
    """The second admin's confirmation: the emergency goes out at once, ahead of the queue.

    Refused for the starter and the last editor (two different people), and when the content
    changed since the confirmer opened it (``seen_hash``)."""
    require_role(actor, Role.ADMIN)
    em = _open(session, emergency_id)
    if actor.id in (em.started_by, em.edited_by):
        raise Forbidden("Siaran darurat harus dikonfirmasi oleh admin kedua, bukan yang "
                        "memulai atau terakhir mengubahnya.",
                        "An emergency must be confirmed by a second admin, not the one who "
                        "started or last changed it.", code="two_person")
    current = hash_of(session, em)
    if not seen_hash or seen_hash != current or current != em.content_hash:
        raise Conflict("Siaran darurat berubah sejak Anda membukanya; periksa lagi lalu "
                       "konfirmasi.", "The emergency changed since you opened it; check it "
                       "again, then confirm.", code="changed")
    channels = targets(session, em.unit_ids)
    if not channels:
        raise Invalid("Unit yang dipilih tidak punya akun aktif.",
                      "The chosen units have no active account.",
                      fields={"units": Text("Tidak ada akun aktif.", "No active account.")})
    now = core.now()
    em.status = EmergencyStatus.CONFIRMED
    em.confirmed_by, em.confirmed_at, em.confirmed_hash = actor.id, now, current
    by_unit: dict[int, list[Channel]] = {}
    for ch in channels:
        by_unit.setdefault(ch.unit_id, []).append(ch)
    audit.record(session, "emergency.confirm", "emergency", em.id, actor=actor, at=now,
                 data={"hash": current, "starter": em.started_by, "approver": actor.id,
                       "unit_count": len(by_unit), "channels": len(channels)})
    _send(session, em, actor, by_unit, now)
    return em


def _send(session: Session, em: Emergency, actor: User, by_unit: dict[int, list[Channel]],
          now: datetime) -> None:
    """One approved post per unit, a publication per account and their urgent jobs, in a few
    batched statements (hundreds of accounts: a round trip each made confirming slow)."""
    media = _media(session, list(em.media_ids))
    posts: list[tuple[Post, list[Channel]]] = []
    for unit_id, channels in by_unit.items():
        post = Post(unit_id=unit_id, author_id=em.started_by, body=em.body, link=em.link,
                    status=PostStatus.APPROVED, scheduled_at=None, overrides={},
                    submitted_at=now, approved_by=actor.id, approved_at=now, created_at=now,
                    updated_at=now)
        post.channel_links = [PostChannel(channel_id=ch.id) for ch in channels]
        post.media_links = [PostMedia(position=i, media_id=m.id, media=m)
                            for i, m in enumerate(media)]
        posts.append((post, channels))
    session.add_all([p for p, _ in posts])
    session.flush()
    pubs: list[Publication] = []
    for post, channels in posts:
        post.approval_hash = content_hash(post)
        session.add(EmergencyPost(post_id=post.id, emergency_id=em.id))
        audit.record(session, "post.approve", "post", post.id, actor=actor,
                     unit_id=post.unit_id, at=now,
                     data={"hash": post.approval_hash, "approver": actor.id, "emergency": em.id})
        pubs += [Publication(post_id=post.id, channel_id=ch.id, status=PublicationStatus.QUEUED,
                             scheduled_at=now, created_at=now, updated_at=now)
                 for ch in channels]
    session.add_all(pubs)
    session.flush()
    kind = publish_kind(session, pubs[0].id)  # the same media in every unit's post
    job_ids = enqueue_publishes(session, [(p.id, p.channel_id) for p in pubs], kind=kind,
                                run_at=now, now=now, priority=EMERGENCY_PRIORITY)
    for pub, job_id in zip(pubs, job_ids, strict=True):
        pub.job_id = job_id


def cancel(core: Core, session: Session, actor: User, emergency_id: int) -> Emergency:
    """Drop an emergency that was not confirmed (a confirmed one has gone out)."""
    require_role(actor, Role.ADMIN)
    em = _open(session, emergency_id)
    em.status = EmergencyStatus.CANCELLED
    em.cancelled_by = actor.id
    em.updated_at = core.now()
    audit.record(session, "emergency.cancel", "emergency", em.id, actor=actor, at=em.updated_at)
    return em


# -- reading -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One account of an emergency: where it stands and when it published."""

    publication_id: int
    unit_id: int
    unit_name: str
    channel_name: str
    platform: str
    status: str
    published_at: datetime | None
    permalink: str | None
    error: str | None


#: How the dashboard groups a publication's status.
PENDING = frozenset({PublicationStatus.QUEUED, PublicationStatus.PUBLISHING})


def rows(session: Session, emergency_id: int, viewer: User | None = None) -> list[Row]:
    """Every account of the emergency, by unit; a unit's user sees only their unit's."""
    q = (select(Publication.id, Post.unit_id, Unit.name, Channel.name, Channel.platform,
                Publication.status, Publication.published_at, Publication.permalink,
                Publication.error)
         .join(Post, Post.id == Publication.post_id)
         .join(EmergencyPost, EmergencyPost.post_id == Post.id)
         .join(Channel, Channel.id == Publication.channel_id)
         .join(Unit, Unit.id == Post.unit_id)
         .where(EmergencyPost.emergency_id == emergency_id))
    if viewer is not None and viewer.role != Role.ADMIN:
        q = q.where(Post.unit_id == viewer.unit_id)
    return [Row(*r) for r in session.execute(q.order_by(Unit.name, Channel.name,
                                                        Publication.id))]


def tally(items: list[Row]) -> dict[str, int]:
    """Published, pending and failed (everything that ended without publishing) counts."""
    out = {"published": 0, "pending": 0, "failed": 0}
    for r in items:
        if r.status == PublicationStatus.PUBLISHED:
            out["published"] += 1
        elif r.status in PENDING:
            out["pending"] += 1
        elif r.status != PublicationStatus.CANCELLED:
            out["failed"] += 1
    return out


def recent(session: Session, now: datetime, limit: int = 5) -> list[Emergency]:
    """Emergencies awaiting confirmation, and the ones confirmed in the last day (the
    dashboard's "going out" card)."""
    from datetime import timedelta

    return list(session.execute(
        select(Emergency).where(or_(
            Emergency.status == EmergencyStatus.STARTED,
            (Emergency.status == EmergencyStatus.CONFIRMED)
            & (Emergency.confirmed_at >= now - timedelta(days=1))))
        .order_by(Emergency.started_at.desc()).limit(limit)).scalars())


def listed(session: Session, limit: int = 50) -> list[Emergency]:
    return list(session.execute(select(Emergency).order_by(Emergency.started_at.desc())
                                .limit(limit)).scalars())


def trail(session: Session, emergency_id: int) -> list[AuditEvent]:
    """The whole audit trail: the emergency's own events (start, edits, confirmation), its
    posts' approvals and every state change of its publications, oldest first."""
    post_ids = select(EmergencyPost.post_id).where(EmergencyPost.emergency_id == emergency_id)
    pub_ids = select(Publication.id).where(Publication.post_id.in_(post_ids))
    return list(session.execute(
        select(AuditEvent).where(or_(
            (AuditEvent.object_type == "emergency") & (AuditEvent.object_id == emergency_id),
            (AuditEvent.object_type == "post") & AuditEvent.object_id.in_(post_ids),
            (AuditEvent.object_type == "publication") & AuditEvent.object_id.in_(pub_ids)))
        .order_by(AuditEvent.at, AuditEvent.id)).scalars())


def seconds_to_publish(em: Emergency, items: list[Row]) -> float | None:
    """From confirmation to the last account's publication, when every account published."""
    if em.confirmed_at is None or not items or any(r.published_at is None for r in items):
        return None
    last = max(r.published_at for r in items if r.published_at is not None)
    return (last - em.confirmed_at).total_seconds()


def describe(em: Emergency) -> dict[str, Any]:
    return {"id": em.id, "title": em.title, "status": em.status, "hash": em.content_hash}


@dataclass(frozen=True)
class Board:
    """One emergency on the dashboard: itself, its accounts (the viewer's unit's only, for a
    unit's user) and their counts."""

    emergency: Emergency
    rows: list[Row]
    tally: dict[str, int]


def board(session: Session, viewer: User, now: datetime) -> list[Board]:
    """The dashboard's emergencies: admins see those awaiting confirmation and every account;
    a unit's users see a confirmed one going to their unit's accounts, and only those."""
    out = []
    for em in recent(session, now):
        if em.status != EmergencyStatus.CONFIRMED and viewer.role != Role.ADMIN:
            continue
        items = rows(session, em.id, viewer)
        if viewer.role != Role.ADMIN and not items:
            continue
        out.append(Board(em, items, tally(items)))
    return out
