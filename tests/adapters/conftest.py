"""Fixtures shared by the adapter tests: the fake servers and small media files for the case
tables; cores wired to the fakes, and the people who write and approve, for the worker
end-to-end tests (whose helper functions are in ``worker_e2e.py``)."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from adapters.base import MediaFile
from publisher.config import load_settings
from publisher.core import Core, build_core
from publisher.models import Role, User
from tests.fakes import telegram as tg_fake
from tests.fakes import x as x_fake

#: ``WARTA_PUBLIC_URL`` of the Meta cores: Instagram fetches media from signed links under it.
PUBLIC_URL = "https://warta.example.go.id"


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def real_mp4(width: int, height: int, seconds: int) -> bytes:
    """A real H.264 MP4 (one frame a second), encoded by PyAV: what an upload must be now
    that uploads are parsed by FFmpeg (``tiny_mp4``'s filler would be refused)."""
    import tempfile
    from fractions import Fraction

    import av

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "v.mp4"
        with av.open(str(path), "w", format="mp4") as out:
            stream = out.add_stream("libx264", rate=1, options={"preset": "ultrafast"})
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.time_base = Fraction(1, 1)
            frame = av.VideoFrame.from_image(Image.new("RGB", (width, height), (20, 90, 160)))
            for i in range(seconds):
                frame.pts = i
                for packet in stream.encode(frame):
                    out.mux(packet)
            for packet in stream.encode():
                out.mux(packet)
        return path.read_bytes()


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


# -- the worker end-to-end tests ---------------------------------------------------------------
@pytest.fixture
def core_with(test_env: dict[str, str], clock) -> Iterator[Callable[..., Core]]:  # type: ignore[no-untyped-def]
    """``core_with(WARTA_X=…)``: a core on this test's database and clock with extra settings
    (the fakes' URLs, knobs). Its engine is disposed after the test."""
    cores: list[Core] = []

    def build(**env: str) -> Core:
        core = build_core(load_settings({**test_env, **env}, dotenv=None), clock=clock)
        cores.append(core)
        return core

    yield build
    for core in cores:
        core.engine.dispose()


@pytest.fixture
def meta_core(core_with, graph_fake) -> Core:  # type: ignore[no-untyped-def]
    """Facebook and Instagram (Graph) pointed at the Graph fake; containers polled after 5 s."""
    base = graph_fake.url + "/v25.0"
    return core_with(WARTA_FACEBOOK_API_URL=base, WARTA_INSTAGRAM_GRAPH_API_URL=base,
                     WARTA_FACEBOOK_UPLOAD_URL=graph_fake.url + "/video-upload/v25.0",
                     WARTA_INSTAGRAM_GRAPH_POLL_SECONDS="5", WARTA_PUBLIC_URL=PUBLIC_URL)




@pytest.fixture
def xt_core(core_with, fx: x_fake.FakeX, ft: tg_fake.FakeTelegram) -> Core:  # type: ignore[no-untyped-def]
    """X and Telegram pointed at their fakes."""
    return core_with(WARTA_X_API_URL=fx.url, WARTA_TELEGRAM_API_URL=ft.url)


@pytest.fixture
def people(make_user) -> tuple[User, User]:  # type: ignore[no-untyped-def]
    """An operator who writes and an approver who approves, in the same unit."""
    return make_user(Role.OPERATOR), make_user(Role.APPROVER)
