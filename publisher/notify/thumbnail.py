"""The post's first image as a small thumbnail for an e-mail (approval requests and
failures): made with Pillow at send time, attached inline by ``Content-ID`` — never a remote
image, so nothing loads from outside and nothing tells a sender the mail was opened.

Bounded on every side: a source larger than ``MAX_SOURCE_BYTES`` or ``MAX_PIXELS`` is not
decoded (JPEG is drafted down while it is read), the thumbnail fits ``BOX`` pixels, and its
JPEG stays under ``MAX_BYTES`` (the quality steps down until it fits, else no image). A
missing, unreadable or odd file leaves the message without a picture, never without the
message.
"""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.config import Settings
from publisher.models import AuditEvent, MediaAsset, PostMedia, Publication
from publisher.storage import storage_for

log = logging.getLogger(__name__)
#: Kinds whose e-mail shows the post's first image.
KINDS = frozenset({"approval_requested", "failed"})
BOX = (240, 240)
MAX_BYTES = 48_000
MAX_SOURCE_BYTES = 25_000_000
MAX_PIXELS = 60_000_000


def post_of(session: Session, event: AuditEvent) -> int | None:
    if event.object_id is None:
        return None
    if event.object_type == "post":
        return event.object_id
    if event.object_type == "publication":
        return session.execute(select(Publication.post_id).where(
            Publication.id == event.object_id)).scalar_one_or_none()
    return None


def first_image(session: Session, post_id: int) -> MediaAsset | None:
    return session.execute(
        select(MediaAsset).join(PostMedia, PostMedia.media_id == MediaAsset.id)
        .where(PostMedia.post_id == post_id, MediaAsset.kind == "image")
        .order_by(PostMedia.position).limit(1)).scalar_one_or_none()


def make(data: bytes) -> tuple[bytes, int, int] | None:
    """A JPEG thumbnail of ``data`` within ``BOX`` and ``MAX_BYTES``: (bytes, width, height)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > MAX_PIXELS:
                return None
            img.draft("RGB", (BOX[0] * 2, BOX[1] * 2))  # JPEG: decode at a fraction
            small = ImageOps.exif_transpose(img).convert("RGB")
            small.thumbnail(BOX)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError):
        return None
    for quality in (80, 65, 50, 35):
        out = io.BytesIO()
        small.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= MAX_BYTES:
            return out.getvalue(), small.width, small.height
    return None


def for_event(settings: Settings, session: Session, event: AuditEvent,
              kind: str) -> tuple[bytes, int, int] | None:
    """The thumbnail an e-mail of ``kind`` about ``event`` shows, if any."""
    if kind not in KINDS:
        return None
    post_id = post_of(session, event)
    asset = first_image(session, post_id) if post_id is not None else None
    if asset is None or asset.size > MAX_SOURCE_BYTES:
        return None
    try:
        with storage_for(settings).open(asset.path) as fh:
            data = fh.read(MAX_SOURCE_BYTES + 1)
    except (OSError, ValueError) as exc:
        log.warning("no thumbnail for media %s: %s", asset.id, type(exc).__name__)
        return None
    if len(data) > MAX_SOURCE_BYTES:
        return None
    return make(data)
