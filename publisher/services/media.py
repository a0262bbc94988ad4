"""Storing uploads as media assets of a unit (deduplicated by content hash)."""

from __future__ import annotations

from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.mediafiles import store_upload
from publisher.models import MediaAsset, User
from publisher.services import audit
from publisher.services.errors import Invalid
from publisher.storage import storage_for


def upload_media(core: Core, session: Session, actor: User, stream: BinaryIO,
                 filename: str) -> MediaAsset:
    if actor.unit_id is None:
        raise Invalid("Akun admin tanpa unit tidak dapat mengunggah media.",
                      "An admin without a unit cannot upload media.", fields={"unit": "required"})
    # A file name is the client's to choose: NUL (which PostgreSQL cannot store) and other
    # control characters are dropped, not kept as the asset's name.
    filename = "".join(c for c in filename or "" if c.isprintable())[:255]
    stored = store_upload(stream, filename or "upload", core.settings.media_dir,
                          core.settings.max_upload_bytes, storage_for(core.settings))
    existing = session.execute(select(MediaAsset).where(
        MediaAsset.unit_id == actor.unit_id, MediaAsset.sha256 == stored.sha256)
    ).scalar_one_or_none()
    if existing:
        return existing
    asset = MediaAsset(unit_id=actor.unit_id, sha256=stored.sha256, kind=stored.kind,
                       mime=stored.mime, size=stored.size, width=stored.width,
                       height=stored.height, duration=stored.duration, path=stored.relpath,
                       original_name=(filename or "")[:255], uploaded_by=actor.id,
                       created_at=core.now())
    session.add(asset)
    session.flush()
    audit.record(session, "media.upload", "media", asset.id, actor=actor, unit_id=actor.unit_id,
                 data={"sha256": stored.sha256, "size": stored.size})
    return asset
