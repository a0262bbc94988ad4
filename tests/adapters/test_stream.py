"""Uploads stream from disk: ``adapters/_stream.py`` is the one multipart body (and file slice)
every adapter that sends files uses. A file far bigger than the memory allowed while sending it
goes out whole, read in blocks: nothing asks for "everything" (``read()`` without a size)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.formparser import parse_form_data

from adapters import _stream as stream
from adapters._stream import FileSlice, StreamingMultipart
from adapters.base import MediaFile, OutgoingPost, Published
from tests.fakes import telegram as tg_fake
from tests.fakes import x as x_fake
from tests.fakes import youtube as yt_fake

MiB = 1024 * 1024
BIG = 32 * MiB
#: Peak Python memory allowed while a BIG file is uploaded: half the file. tracemalloc sees the
#: fake servers too, and werkzeug's dev server allocates a 10 MB buffer per request when it
#: drains what is left on the socket; a body read whole would need all 32 MiB at once.
MEMORY_LIMIT = 16 * MiB
#: The largest single read allowed on a body or a file slice.
READ_LIMIT = 1 * MiB


# -- the body itself ---------------------------------------------------------------------------
def parse(body: StreamingMultipart, data: bytes) -> tuple[dict[str, str], dict[str, tuple]]:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": body.content_type,
               "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    _, form, files = parse_form_data(environ)
    return dict(form.items()), {k: (f.filename, f.mimetype, f.read())
                                for k, f in files.items()}


def test_multipart_body_is_well_formed_with_its_exact_length(tmp_path: Path) -> None:
    one, two = tmp_path / "satu.jpg", tmp_path / 'du"a\r\n.mp4'
    one.write_bytes(b"\xff\xd8" + bytes(range(256)) * 300)
    two.write_bytes(b"0123456789" * 7000)
    body = StreamingMultipart(
        {"chat_id": "@kanal", "caption": "Kabar & berita ✓", "segment_index": 3},
        {"photo": (str(one), "image/jpeg", FileSlice.whole(str(one))),
         "video": (str(two), "video/mp4", FileSlice(str(two), 10, 50_000))})
    data = b"".join(body)
    assert len(data) == len(body)
    form, files = parse(body, data)
    assert form == {"chat_id": "@kanal", "caption": "Kabar & berita ✓", "segment_index": "3"}
    assert files["photo"] == ("satu.jpg", "image/jpeg", one.read_bytes())
    assert files["video"] == ("du_a__.mp4", "video/mp4", two.read_bytes()[10:50_010])


@pytest.mark.parametrize("size", [1, 7, 1000, 16384, 100_000])
def test_reads_of_any_size_give_the_same_bytes(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 1000)

    def build() -> tuple[StreamingMultipart, bytes]:
        """A body and, from a twin iterated whole, the bytes it must produce."""
        body, twin = (StreamingMultipart({"a": "1"}, {"f": (
            str(path), "application/octet-stream", FileSlice.whole(str(path)))})
            for _ in range(2))
        return body, b"".join(twin).replace(twin.boundary.encode(), body.boundary.encode())

    body, whole = build()
    out = b"".join(iter(lambda: body.read(size), b""))
    assert out == whole and len(out) == len(body)
    # read() without a size is "the rest", once, like any file
    body, whole = build()
    head = body.read(300)
    assert head + body.read() == whole and body.read() == b"" and body.read(10) == b""


def test_progress_counts_file_bytes_of_all_parts(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_bytes(bytes(200_000))
    b.write_bytes(bytes(70_000))
    seen: list[tuple[int, int]] = []
    body = StreamingMultipart({"x": "y"}, {
        "a": ("a", "image/jpeg", FileSlice.whole(str(a))),
        "b": ("b", "image/jpeg", FileSlice.whole(str(b)))},
        progress=lambda done, total: seen.append((done, total)))
    assert seen == [], "nothing is read before the body is sent"
    for _ in iter(lambda: body.read(8192), b""):
        pass
    assert seen[-1] == (270_000, 270_000)
    assert all(t == 270_000 for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# -- a slice over a storage object -------------------------------------------------------------
class Ranges:
    """A storage object's ``read_range`` over ``data``, recording every range asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.asked: list[tuple[int, int]] = []

    def __call__(self, start: int, length: int) -> bytes:
        self.asked.append((start, length))
        return self.data[start:start + length]


@pytest.mark.parametrize("size", [1, 1000, 65536, 300_000])
def test_a_slice_over_a_storage_object_reads_windows_of_ranges(
        size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "WINDOW", 100_000)
    data = bytes(range(256)) * 1200  # 307,200 bytes
    ranges = Ranges(data)
    media = MediaFile("ab/abcd.mp4", "video", "video/mp4", len(data), "", read_range=ranges)
    part = FileSlice.of(media, 1000, 250_000)
    assert len(part) == 250_000
    assert b"".join(iter(lambda: part.read(size), b"")) == data[1000:251_000]
    # each byte asked for once, in windows (a block read never costs a request of its own)
    assert sum(n for _, n in ranges.asked) == 250_000
    assert ranges.asked[0][0] == 1000
    assert len(ranges.asked) == (3 if size < 100_000 else 1)
    # in a multipart body, as X's APPEND sends it, with the object's name as the file name
    body = StreamingMultipart({"segment_index": 0}, {"media": (media.path, "video/mp4",
                                                               FileSlice.of(media))})
    _, files = parse(body, b"".join(body))
    assert files["media"] == ("abcd.mp4", "video/mp4", data)


def test_a_storage_object_shorter_than_said_ends_the_slice_early() -> None:
    media = MediaFile("ab/abcd.mp4", "video", "video/mp4", 10, "", read_range=Ranges(b"12345"))
    assert b"".join(FileSlice.of(media)) == b"12345"


# -- every uploader, with a file too big to hold ----------------------------------------------
@pytest.fixture(params=["disk", "storage"])
def big_video(tmp_path: Path, request: pytest.FixtureRequest) -> MediaFile:
    """A video of BIG bytes: a local file, or an object in storage that is no file on this
    machine (``read_range`` over it; every byte must be asked for once)."""
    path = tmp_path / "besar.mp4"
    with open(path, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        fh.truncate(BIG)  # sparse: the rest reads as zeros
    digest = hashlib.sha256()
    with open(path, "rb") as src:
        for block in iter(lambda: src.read(MiB), b""):
            digest.update(block)
    if request.param == "disk":
        return MediaFile(str(path), "video", "video/mp4", BIG, digest.hexdigest(), 1280, 720,
                         30.0)
    asked: list[int] = []

    def read_range(start: int, length: int) -> bytes:
        assert length <= stream.WINDOW, "a window at a time"
        asked.append(length)
        with open(path, "rb") as obj:
            obj.seek(start)
            return obj.read(length)

    request.addfinalizer(lambda: _all_read_once(asked))
    return MediaFile(str(tmp_path / "in-the-bucket" / "besar.mp4"), "video", "video/mp4", BIG,
                     digest.hexdigest(), 1280, 720, 30.0, read_range=read_range)


def _all_read_once(asked: list[int]) -> None:
    assert sum(asked) == BIG, "the object was read once, by ranges"


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every ``size`` asked of an upload body or file slice while the test runs."""
    seen: list[object] = []
    for cls in (FileSlice, StreamingMultipart):
        def spy(self, size=-1, _read=cls.read):  # type: ignore[no-untyped-def]
            seen.append(size)
            return _read(self, size)
        monkeypatch.setattr(cls, "read", spy)
    return seen


def streamed(upload: Callable[[], object], reads: list[object]) -> object:
    """Run ``upload``; check it read in bounded blocks and kept Python memory bounded."""
    import tracemalloc

    tracemalloc.start()
    try:
        result = upload()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reads, "the upload went through _stream"
    unbounded = [s for s in reads if not isinstance(s, int) or not 0 < s <= READ_LIMIT]
    assert unbounded == [], f"reads without a (small) size: {unbounded[:5]}"
    assert peak < MEMORY_LIMIT, f"peak Python memory {peak / MiB:.1f} MiB, file {BIG // MiB} MiB"
    return result


def test_facebook_video_streams(graph_fake, big_video: MediaFile, reads: list[object]) -> None:  # type: ignore[no-untyped-def]
    from tests.adapters.test_facebook import make_adapter

    adapter = make_adapter(graph_fake)
    result = streamed(lambda: adapter.publish(OutgoingPost("k", "Video", media=(big_video,))),
                      reads)
    assert isinstance(result, Published)
    (call,) = graph_fake.calls("POST", f"/{graph_fake.page_id}/videos")
    assert call.files["source"][1] == BIG


def test_telegram_video_streams(big_video: MediaFile, reads: list[object]) -> None:
    from tests.adapters.test_telegram import make

    with contextmanager(tg_fake.serve)() as fake:
        adapter = make(fake)
        result = streamed(lambda: adapter.publish(OutgoingPost("k", "Video",
                                                               media=(big_video,))), reads)
        assert isinstance(result, Published)
        (call,) = fake.calls("/sendVideo")
        assert call.files["video"] == BIG


def test_x_media_append_streams(big_video: MediaFile, reads: list[object]) -> None:
    from tests.adapters.test_x import make

    with contextmanager(x_fake.serve)() as fake:
        adapter = make(fake, chunk_size=str(4 * MiB))
        streamed(lambda: adapter.publish(OutgoingPost("k", "Video", media=(big_video,))), reads)
        appends = fake.calls("/append", "POST")
        assert len(appends) == BIG // (4 * MiB)
        assert sum(c.files["media"] for c in appends) == BIG


def test_youtube_chunks_stream(big_video: MediaFile, reads: list[object]) -> None:
    from tests.adapters.test_youtube import make, post

    with contextmanager(yt_fake.serve)() as fake:
        adapter = make(fake, chunk_size=str(8 * MiB))
        result = streamed(lambda: adapter.publish(post((big_video,))), reads)
        assert isinstance(result, Published)
        assert fake.videos[result.external_id]["sha256"] == big_video.sha256


def test_uploaders_build_slices_only_through_fileslice_of() -> None:
    """``FileSlice.of`` is what reads a medium from object storage when it is not on this
    machine (``caps.media_by_range``); a slice built from ``m.path`` directly would open a
    file that is not there."""
    folder = Path(stream.__file__).parent
    direct = [f.name for f in folder.glob("*.py") if f.name != "_stream.py"
              and ("FileSlice(" in f.read_text() or "FileSlice.whole(" in f.read_text())]
    assert direct == []
