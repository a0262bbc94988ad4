"""Fixtures shared by the adapter case tables: the fake servers and small media files."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from adapters.base import MediaFile
from tests.fakes.graph import graph_fake  # noqa: F401  (fixture)

#: The publication state the worker gives each outcome (DESIGN §2), for the case tables.
WORKER_STATE = {"Published": "published", "Pending": "publishing", "RetryLater": "queued",
                "AuthExpired": "needs_reauth", "Rejected": "failed",
                "OutcomeUnknown": "unconfirmed"}


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def tiny_mp4(width: int, height: int, seconds: int) -> bytes:
    """The smallest MP4 whose boxes instagrapi's own parser reads (size and duration), so
    no MoviePy/ffmpeg is ever needed; the media data itself is filler."""
    mvhd = bytes(12) + struct.pack(">II", 1000, seconds * 1000) + bytes(80)
    tkhd = bytes(76) + struct.pack(">II", width << 16, height << 16)
    hdlr = bytes(8) + b"vide" + bytes(12)
    trak = _box(b"tkhd", tkhd) + _box(b"mdia", _box(b"hdlr", hdlr))
    return (_box(b"ftyp", b"mp42" + bytes(4) + b"mp42isom") + _box(b"moov", _box(b"mvhd", mvhd)
            + _box(b"trak", trak)) + _box(b"mdat", bytes(4096)))


@pytest.fixture
def make_media(tmp_path: Path) -> Callable[..., MediaFile]:
    """Build a real small file on disk and the MediaFile describing it."""
    counter = iter(range(1000))

    def make(kind: str = "image", size: tuple[int, int] = (1080, 1080),
             public: bool = True) -> MediaFile:
        n = next(counter)
        if kind == "image":
            path = tmp_path / f"img{n}.jpg"
            Image.new("RGB", size, (n * 40 % 255, 90, 160)).save(path, "JPEG")
            mime = "image/jpeg"
        else:
            path = tmp_path / f"vid{n}.mp4"
            path.write_bytes(tiny_mp4(*size, seconds=12))
            mime = "video/mp4"
        data = path.read_bytes()
        return MediaFile(str(path), kind, mime, len(data), hashlib.sha256(data).hexdigest(),
                         size[0], size[1], 12.0 if kind == "video" else None,
                         f"https://warta.example.go.id/m/{n}.{path.suffix[1:]}" if public
                         else None)

    return make
