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


# -- every uploader, with a file too big to hold ----------------------------------------------
@pytest.fixture
def big_video(tmp_path: Path) -> MediaFile:
    path = tmp_path / "besar.mp4"
    with open(path, "wb") as fh:
        fh.write(b"\x00\x00\x00\x18ftypmp42")
        fh.truncate(BIG)  # sparse: the rest reads as zeros
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(MiB), b""):
            digest.update(block)
    return MediaFile(str(path), "video", "video/mp4", BIG, digest.hexdigest(), 1280, 720, 30.0)


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
