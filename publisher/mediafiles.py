"""Media on disk: storing uploads by content hash, converting for picky platforms, and signing
expiring public URLs for platforms that fetch media themselves (Instagram Graph)."""

from __future__ import annotations

import hashlib
import mimetypes
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from PIL import Image, UnidentifiedImageError

from publisher.services.errors import Invalid

IMAGE_MIMES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
VIDEO_MIMES = {"video/mp4", "video/quicktime", "video/webm"}
PUBLIC_URL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    kind: str
    mime: str
    size: int
    width: int | None
    height: int | None
    relpath: str


def store_upload(stream: BinaryIO, filename: str, media_dir: Path, max_bytes: int) -> StoredFile:
    """Stream an upload to disk (never whole in memory), hash it, and sniff what it really is.

    The file's content decides its kind, not its name: a renamed executable is refused.
    """
    media_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    with tempfile.NamedTemporaryFile(dir=media_dir, delete=False, suffix=".part") as tmp:
        while chunk := stream.read(1024 * 1024):
            size += len(chunk)
            if size > max_bytes:
                tmp.close()
                Path(tmp.name).unlink(missing_ok=True)
                mb = max_bytes // (1024 * 1024)
                raise Invalid(f"Berkas lebih besar dari batas {mb} MB.",
                              f"The file is larger than the {mb} MB limit.",
                              fields={"file": f"max {mb} MB"}, code="too_large")
            digest.update(chunk)
            tmp.write(chunk)
    tmp_path = Path(tmp.name)
    if size == 0:
        tmp_path.unlink(missing_ok=True)
        raise Invalid("Berkas kosong.", "The file is empty.", fields={"file": "empty"})
    kind, mime, width, height = _sniff(tmp_path, filename)
    sha = digest.hexdigest()
    ext = mimetypes.guess_extension(mime) or Path(filename).suffix or ".bin"
    if ext == ".jpe":
        ext = ".jpg"
    rel = f"{sha[:2]}/{sha}{ext}"
    target = media_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        tmp_path.unlink()
    else:
        shutil.move(str(tmp_path), target)
    return StoredFile(sha, kind, mime, size, width, height, rel)


def _sniff(path: Path, filename: str) -> tuple[str, str, int | None, int | None]:
    try:
        with Image.open(path) as img:
            mime = Image.MIME.get(img.format or "", "")
            if mime in IMAGE_MIMES:
                return "image", mime, img.width, img.height
    except (UnidentifiedImageError, OSError):
        pass
    with path.open("rb") as fh:
        head = fh.read(64)
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "video", "video/quicktime" if brand == b"qt  " else "video/mp4", None, None
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "video/webm", None, None
    path.unlink(missing_ok=True)
    raise Invalid(f"'{filename}' bukan foto (JPEG, PNG, WebP, GIF) atau video (MP4, MOV, WebM).",
                  f"'{filename}' is not a photo (JPEG, PNG, WebP, GIF) or a video "
                  "(MP4, MOV, WebM).", fields={"file": "unsupported type"}, code="media_type")


def convert_image(src: Path, media_dir: Path, mimes: frozenset[str] | None,
                  aspect: tuple[float, float] | None) -> tuple[Path, str, int, int]:
    """A derived copy a platform accepts: JPEG, padded (never cropped) into the aspect range.

    Padding keeps every part of an official photo (a face, a banner's text) visible.
    Derived files are cached by source hash and spec.
    """
    with Image.open(src) as img:
        w, h = img.size
        target_w, target_h = w, h
        if aspect:
            lo, hi = aspect
            ratio = w / h
            if ratio < lo:
                target_w = round(h * lo)
            elif ratio > hi:
                target_h = round(w / hi)
        mime = "image/jpeg" if (mimes and Image.MIME.get(img.format or "") not in mimes) \
            else Image.MIME.get(img.format or "", "image/jpeg")
        if (target_w, target_h) == (w, h) and (not mimes or mime in mimes) \
                and Image.MIME.get(img.format or "") == mime:
            return src, mime, w, h
        spec = hashlib.sha256(f"{src.name}:{target_w}x{target_h}:{mime}".encode()).hexdigest()[:16]
        out = media_dir / "derived" / f"{spec}.jpg"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            canvas = Image.new("RGB", (target_w, target_h), (255, 255, 255))
            rgb = img.convert("RGB")
            canvas.paste(rgb, ((target_w - w) // 2, (target_h - h) // 2))
            tmp = out.with_suffix(".part")
            canvas.save(tmp, "JPEG", quality=90)
            tmp.replace(out)
        return out, "image/jpeg", target_w, target_h


def sign_media_path(secret: str, relpath: str) -> str:
    return URLSafeTimedSerializer(secret, salt="warta-media").dumps(relpath)


def unsign_media_path(secret: str, token: str, max_age: int = PUBLIC_URL_SECONDS) -> str | None:
    """The relative path a public media token grants, or ``None`` if forged or expired."""
    try:
        rel = URLSafeTimedSerializer(secret, salt="warta-media").loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(rel, str) or ".." in rel or rel.startswith("/"):
        return None
    return rel
