"""Media on disk: storing uploads by content hash, converting for picky platforms, and signing
expiring public URLs for platforms that fetch media themselves (Instagram Graph)."""

from __future__ import annotations

import hashlib
import mimetypes
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from PIL import Image, UnidentifiedImageError

from publisher.services.errors import Invalid
from publisher.storage import MediaStorage
from publisher.storage.local import LocalStorage

IMAGE_MIMES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
VIDEO_MIMES = {"video/mp4", "video/quicktime", "video/webm"}
PUBLIC_URL_SECONDS = 24 * 3600
#: The most pixels a photo may have: 8192 × 8192, as much as any platform takes (X's limit).
#: A PNG of a few kilobytes can claim 50,000 × 50,000 and need gigabytes once decoded, so the
#: header is checked before any pixel is; Pillow's own guard is set to the same number.
MAX_IMAGE_PIXELS = 8192 * 8192
Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
#: Video streams and containers Warta accepts (what the platforms take), by FFmpeg's names.
VIDEO_CODECS = {"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"}
AUDIO_CODECS = {"aac", "mp3", "opus", "vorbis", "alac", "pcm_s16le"}
MAX_VIDEO_SIDE = 8192


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    kind: str
    mime: str
    size: int
    width: int | None
    height: int | None
    relpath: str
    duration: float | None = None


def store_upload(stream: BinaryIO, filename: str, media_dir: Path, max_bytes: int,
                 storage: MediaStorage | None = None) -> StoredFile:
    """Stream an upload to disk (never whole in memory), hash it, and sniff what it really is;
    then hand it to the media storage (default: the folder itself) under its content hash.

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
    try:
        kind, mime, width, height, duration = _sniff(tmp_path, filename)
    except BaseException:
        # Refused (or crashed): nothing of the upload may stay behind in the media folder.
        tmp_path.unlink(missing_ok=True)
        raise
    sha = digest.hexdigest()
    ext = mimetypes.guess_extension(mime) or Path(filename).suffix or ".bin"
    if ext == ".jpe":
        ext = ".jpg"
    rel = f"{sha[:2]}/{sha}{ext}"
    (storage or LocalStorage(media_dir)).put_file(tmp_path, rel)
    return StoredFile(sha, kind, mime, size, width, height, rel, duration)


def _refuse(filename: str, why_id: str, why_en: str, field: str = "unsupported type") -> Invalid:
    return Invalid(f"'{filename}' {why_id}", f"'{filename}' {why_en}", fields={"file": field},
                   code="media_type")


def _sniff(path: Path, filename: str) -> tuple[str, str, int | None, int | None, float | None]:
    """(kind, mime, width, height, duration) of the file, from its content.

    A photo's size is read from its header and checked before it is decoded (decompression
    bombs). A video is opened by FFmpeg (PyAV) and must be a real container with a video
    stream of a known codec; its first bytes alone prove nothing (an MP4 header glued to an
    HTML page would otherwise be served as "video").
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                mime = Image.MIME.get(img.format or "", "")
                if mime in IMAGE_MIMES:
                    _check_pixels(filename, img.width, img.height)
                    img.verify()  # the data is really there (a truncated file is refused)
                    return "image", mime, img.width, img.height, None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse(filename, f"melebihi batas {MAX_IMAGE_PIXELS // 1_000_000} megapiksel.",
                      f"exceeds the {MAX_IMAGE_PIXELS // 1_000_000} megapixel limit.",
                      "too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        pass
    with path.open("rb") as fh:
        head = fh.read(64)
    if head[4:8] == b"ftyp" or head[:4] == b"\x1a\x45\xdf\xa3":
        return _probe_video(path, filename, head)
    raise _refuse(filename, "bukan foto (JPEG, PNG, WebP, GIF) atau video (MP4, MOV, WebM).",
                  "is not a photo (JPEG, PNG, WebP, GIF) or a video (MP4, MOV, WebM).")


def _check_pixels(filename: str, width: int, height: int) -> None:
    if width * height > MAX_IMAGE_PIXELS:
        raise _refuse(filename, f"berukuran {width} × {height} piksel, melebihi batas "
                      f"{MAX_IMAGE_PIXELS // 1_000_000} megapiksel.",
                      f"is {width} × {height} pixels, over the "
                      f"{MAX_IMAGE_PIXELS // 1_000_000} megapixel limit.", "too many pixels")


def _probe_video(path: Path, filename: str,
                 head: bytes) -> tuple[str, str, int | None, int | None, float | None]:
    """Container, codecs, resolution and duration as FFmpeg reads them, and one decoded
    frame: a file that only starts like a video is refused."""
    import av

    bad = _refuse(filename, "bukan video yang dapat dibaca (MP4, MOV, WebM).",
                  "is not a readable video (MP4, MOV, WebM).", "unreadable video")
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            fmt = container.format.name
            videos = container.streams.video
            if not videos:
                raise bad
            stream = videos[0]
            codec = stream.codec_context.name
            audio = [a.codec_context.name for a in container.streams.audio]
            width, height = stream.codec_context.width, stream.codec_context.height
            if codec not in VIDEO_CODECS or any(a not in AUDIO_CODECS for a in audio):
                raise _refuse(filename, f"memakai codec {codec} yang tidak didukung platform.",
                              f"uses the codec {codec}, which the platforms do not take.",
                              "unsupported codec")
            if not (0 < width <= MAX_VIDEO_SIDE and 0 < height <= MAX_VIDEO_SIDE):
                raise bad
            duration = (float(container.duration) / av.time_base if container.duration
                        else float(stream.duration * stream.time_base)
                        if stream.duration and stream.time_base else None)
            if next(container.decode(stream), None) is None:
                raise bad
    except Invalid:
        raise
    except (av.FFmpegError, ValueError, OSError, StopIteration, IndexError, AttributeError,
            TypeError):
        raise bad from None
    if "webm" in fmt or "matroska" in fmt:
        if head[:4] != b"\x1a\x45\xdf\xa3":
            raise bad
        mime = "video/webm"
    elif "mp4" in fmt or "mov" in fmt:
        mime = "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    else:
        raise bad
    return "video", mime, width, height, duration


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
