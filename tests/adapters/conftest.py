"""Fixtures shared by the adapter case tables: the fake servers and small media files."""

from __future__ import annotations

import hashlib
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
            path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4096))
            mime = "video/mp4"
        data = path.read_bytes()
        return MediaFile(str(path), kind, mime, len(data), hashlib.sha256(data).hexdigest(),
                         size[0], size[1], 12.0 if kind == "video" else None,
                         f"https://warta.example.go.id/m/{n}.{path.suffix[1:]}" if public
                         else None)

    return make
