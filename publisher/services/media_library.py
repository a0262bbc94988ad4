"""The media library: a unit's uploads and the region-wide assets admins share, searched,
described (alt text, tags), and deleted only when no post uses them.

Isolation lives here, not in the pages: a non-admin sees their unit's assets and the
region-wide ones, nothing else (another unit's asset is *not found*); a region-wide asset of
another unit is read-only to them. Every list is bounded in the query (a page of
``PAGE_SIZE``, the posts using the page's assets in one more query).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, func, literal, or_, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import MediaAsset, Post, PostMedia, Role, User
from publisher.services import audit
from publisher.services.access import can_see_unit
from publisher.services.errors import Conflict, Forbidden, Invalid, NotFound, Text
from publisher.services.posts import MAX_ALT
from publisher.storage import storage_for

log = logging.getLogger(__name__)

PAGE_SIZE = 50
#: Posts named per asset in the list ("where used"); the asset's page names up to USED_MAX.
USED_PER_ASSET, USED_MAX = 5, 50
TAGS_MAX, NAME_MAX, QUERY_MAX = 500, 255, 100
_TAG = re.compile(r"^[\w-]{1,40}$")
KINDS = ("image", "video")


@dataclass
class LibraryFilter:
    """What the library's search form asks; times are UTC (the page converts them)."""

    q: str = ""
    tag: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None
    page: int = 1


@dataclass
class LibraryPage:
    assets: list[MediaAsset]
    page: int
    has_next: bool
    #: Per asset id: (post id, status) of the posts using it the viewer may see.
    used: dict[int, list[tuple[int, str]]] = field(default_factory=dict)


def _visible(user: User) -> ColumnElement[bool] | None:
    if user.role == Role.ADMIN:
        return None
    return or_(MediaAsset.unit_id == user.unit_id, MediaAsset.region_wide.is_(True))


def may_see(user: User, asset: MediaAsset) -> bool:
    return asset.region_wide or can_see_unit(user, asset.unit_id)


def may_change(user: User, asset: MediaAsset) -> bool:
    """Its own unit's people and admins; a region-wide asset is read-only to other units."""
    return can_see_unit(user, asset.unit_id)


def _not_found(asset_id: int) -> NotFound:
    return NotFound(f"Media #{asset_id} tidak ditemukan.", f"Media #{asset_id} was not found.")


def get_visible(session: Session, asset_id: int, user: User) -> MediaAsset:
    asset = session.get(MediaAsset, asset_id)
    if asset is None or not may_see(user, asset):
        raise _not_found(asset_id)
    return asset


def _changeable(session: Session, asset_id: int, user: User) -> MediaAsset:
    asset = get_visible(session, asset_id, user)
    if not may_change(user, asset):
        raise Forbidden("Media ini dibagikan Diskominfo untuk semua unit; hanya admin yang "
                        "dapat mengubah atau menghapusnya.",
                        "This medium is shared with every unit by Diskominfo; only an admin "
                        "can change or delete it.", code="region_wide")
    return asset


def parse_tags(raw: str) -> str:
    """Tags as typed (spaces or commas between them) to the stored form: lower case, each
    once, space-separated. A tag is letters, digits, ``_`` and ``-``."""
    tags = dict.fromkeys(t.casefold() for t in re.split(r"[\s,]+", raw or "") if t)
    bad = [t for t in tags if not _TAG.match(t)]
    if bad:
        raise Invalid("Tag hanya boleh berisi huruf, angka, - dan _ (paling banyak 40).",
                      "A tag holds letters, digits, - and _ only (at most 40).",
                      fields={"tags": Text(f"Tag tidak sah: {bad[0][:40]}",
                                           f"Not a valid tag: {bad[0][:40]}")})
    out = " ".join(tags)
    if len(out) > TAGS_MAX:
        raise Invalid("Terlalu banyak tag.", "Too many tags.",
                      fields={"tags": Text(f"Paling banyak {TAGS_MAX} karakter.",
                                           f"At most {TAGS_MAX} characters.")})
    return out


def _printable(text: str, limit: int) -> str:
    """A search term as typed, without the characters no name holds (NUL, which PostgreSQL
    refuses in a parameter, and other controls)."""
    return "".join(c for c in text if c.isprintable())[:limit]


def _filtered(user: User, f: LibraryFilter) -> Select:
    q = select(MediaAsset)
    f.q, f.tag = _printable(f.q, QUERY_MAX), _printable(f.tag, 40)
    seen = _visible(user)
    if seen is not None:
        q = q.where(seen)
    if f.q:
        term = f.q[:QUERY_MAX].casefold().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_")
        q = q.where(func.lower(MediaAsset.original_name).like(f"%{term}%", escape="\\"))
    if f.tag:
        tag = f.tag.casefold().strip()[:40].replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_")
        # whole tags only: "logo" is not "logo-hut"
        padded = literal(" ", String) + MediaAsset.tags + literal(" ", String)
        q = q.where(padded.like(f"% {tag} %", escape="\\"))
    if f.kind in KINDS:
        q = q.where(MediaAsset.kind == f.kind)
    if f.since is not None:
        q = q.where(MediaAsset.created_at >= f.since)
    if f.until is not None:
        q = q.where(MediaAsset.created_at < f.until)
    return q


def search(session: Session, user: User, f: LibraryFilter) -> LibraryPage:
    """One page of the library, newest first, and where each asset is used."""
    page = max(1, min(f.page, 10_000))
    q = (_filtered(user, f).order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc())
         .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1))
    rows = list(session.execute(q).scalars())
    assets = rows[:PAGE_SIZE]
    used = where_used(session, user, [a.id for a in assets], per_asset=USED_PER_ASSET)
    return LibraryPage(assets=assets, page=page, has_next=len(rows) > PAGE_SIZE, used=used)


def where_used(session: Session, user: User, asset_ids: list[int],
               per_asset: int = USED_MAX) -> dict[int, list[tuple[int, str]]]:
    """The posts using each asset that ``user`` may see (another unit's post using a
    region-wide asset is not named), newest first, at most ``per_asset`` each — one query,
    the cap applied in it by a window over each asset's rows."""
    out: dict[int, list[tuple[int, str]]] = {a: [] for a in asset_ids}
    if not asset_ids:
        return out
    rank = func.row_number().over(partition_by=PostMedia.media_id,
                                  order_by=Post.id.desc()).label("rank")
    inner = (select(PostMedia.media_id, Post.id.label("post_id"), Post.status, rank)
             .join(Post, Post.id == PostMedia.post_id)
             .where(PostMedia.media_id.in_(asset_ids)))
    if user.role != Role.ADMIN:
        inner = inner.where(Post.unit_id == user.unit_id)
    sub = inner.subquery()
    rows = session.execute(select(sub.c.media_id, sub.c.post_id, sub.c.status)
                           .where(sub.c.rank <= per_asset)
                           .order_by(sub.c.media_id, sub.c.post_id.desc()))
    for media_id, post_id, status in rows:
        out[media_id].append((post_id, status))
    return out


def pickable(session: Session, user: User, unit_id: int | None,
             limit: int = PAGE_SIZE) -> list[MediaAsset]:
    """What the composer's "pick from the library" offers for a post of ``unit_id``: that
    unit's assets and the region-wide ones, newest first (a non-admin always gets their own
    unit's, whatever ``unit_id`` says)."""
    if user.role != Role.ADMIN:
        unit_id = user.unit_id
    q = (select(MediaAsset)
         .where(or_(MediaAsset.unit_id == unit_id, MediaAsset.region_wide.is_(True)))
         .order_by(MediaAsset.created_at.desc(), MediaAsset.id.desc()).limit(limit))
    return list(session.execute(q).scalars())


def update_asset(core: Core, session: Session, actor: User, asset_id: int, *,
                 name: str | None = None, alt_text: str | None = None,
                 tags: str | None = None, region_wide: bool | None = None) -> MediaAsset:
    """Describe an asset. Its alt text is the default of the posts that attach it later;
    posts already using it keep their own (what they were approved with)."""
    asset = _changeable(session, asset_id, actor)
    errors: dict[str, str] = {}
    if name is not None:
        name = "".join(c for c in name if c.isprintable()).strip()
        if not name or len(name) > NAME_MAX:
            errors["name"] = Text(f"Nama wajib diisi, paling banyak {NAME_MAX} karakter.",
                                  f"A name is required, at most {NAME_MAX} characters.")
    if alt_text is not None:  # one line of text: NUL (PostgreSQL refuses it) and controls go
        alt_text = " ".join("".join(c if c.isprintable() else " " for c in alt_text).split())
        if len(alt_text) > MAX_ALT:
            errors["alt_text"] = Text(f"Teks alternatif paling banyak {MAX_ALT} karakter.",
                                      f"Alt text holds at most {MAX_ALT} characters.")
    if region_wide is not None and region_wide != asset.region_wide:
        if actor.role != Role.ADMIN:
            raise Forbidden("Hanya admin yang dapat membagikan media ke semua unit.",
                            "Only an admin can share a medium with every unit.",
                            code="wrong_role")
        if not region_wide and _used_elsewhere(session, asset):
            raise Conflict("Media ini dipakai unggahan unit lain; tidak dapat berhenti "
                           "dibagikan.", "Other units' posts use this medium; it cannot stop "
                           "being shared.", code="in_use")
    parsed_tags = parse_tags(tags) if tags is not None else None
    if errors:
        raise Invalid("Periksa kembali isian media.", "Please check the medium's fields.",
                      fields=errors)
    before = {"name": asset.original_name, "alt_text": asset.alt_text, "tags": asset.tags,
              "region_wide": asset.region_wide}
    if name is not None:
        asset.original_name = name
    if alt_text is not None:
        asset.alt_text = alt_text
    if parsed_tags is not None:
        asset.tags = parsed_tags
    if region_wide is not None:
        asset.region_wide = region_wide
    after = {"name": asset.original_name, "alt_text": asset.alt_text, "tags": asset.tags,
             "region_wide": asset.region_wide}
    changed = sorted(k for k in after if after[k] != before[k])
    if changed:
        audit.record(session, "media.update", "media", asset.id, actor=actor,
                     unit_id=asset.unit_id, data={"changed": changed})
    if "region_wide" in changed:
        audit.record(session, "media.share" if asset.region_wide else "media.unshare",
                     "media", asset.id, actor=actor, unit_id=asset.unit_id)
    return asset


def _used_elsewhere(session: Session, asset: MediaAsset) -> bool:
    return session.execute(select(PostMedia.post_id).join(Post, Post.id == PostMedia.post_id)
                           .where(PostMedia.media_id == asset.id,
                                  Post.unit_id != asset.unit_id).limit(1)).first() is not None


def delete_asset(core: Core, session: Session, actor: User, asset_id: int) -> str | None:
    """Delete an asset no post uses (any post, of any unit, in any status: a published post
    still names its media). Returns the stored file to remove once the deletion is committed
    (``remove_file``), or ``None`` while another unit's asset shares it (the store keeps one
    file per content)."""
    asset = _changeable(session, asset_id, actor)
    uses = session.execute(select(func.count()).select_from(PostMedia)
                           .where(PostMedia.media_id == asset.id)).scalar_one()
    if uses:
        raise Conflict(f"Media ini dipakai {uses} unggahan dan tidak dapat dihapus. Lepaskan "
                       "dari unggahannya dulu.",
                       f"This medium is used by {uses} post(s) and cannot be deleted. Remove "
                       "it from those posts first.", code="in_use")
    path, unit_id = asset.path, asset.unit_id
    data = {"name": asset.original_name, "sha256": asset.sha256}
    session.delete(asset)
    session.flush()
    shared = session.execute(select(MediaAsset.id).where(MediaAsset.path == path)
                             .limit(1)).first()
    audit.record(session, "media.delete", "media", asset_id, actor=actor, unit_id=unit_id,
                 data=data)
    return None if shared is not None else path


def remove_file(core: Core, key: str) -> None:
    """The deleted asset's file, after the commit (a failed commit keeps row and file). A
    file the store cannot remove now stays: harmless, unnamed by any row."""
    try:
        storage_for(core.settings).delete(key)
    except Exception:  # noqa: BLE001 - the deletion is done; a stray file is no error
        log.warning("could not remove the deleted medium's file %s", key, exc_info=True)
