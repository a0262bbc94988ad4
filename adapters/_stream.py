"""Request bodies that stream from disk, so a 1 GB video never sits in memory.

``requests`` builds ``files=`` multipart bodies entirely in memory and has no streaming
encoder of its own (requests-toolbelt is not a Warta dependency). An object with ``read``,
``__iter__`` and ``__len__`` is sent by requests/urllib3 block by block with a proper
``Content-Length``, which is all these two classes provide. Every adapter that uploads a file
uses them: Facebook (Graph ``source`` parts), X (media ``append`` segments), Telegram (photos,
videos, albums) and YouTube (resumable chunks, ``FileSlice`` alone).

``read(size)`` returns at most ``size`` bytes; http.client and urllib3 always read with their
block size. ``read()`` without a size means "everything that is left" as for any file, so
nothing in Warta calls it on an upload (``tests/adapters/test_stream.py`` checks).

A slice reads either a local file or, when the medium is still in object storage, byte ranges
through the medium's ``read_range`` (``MediaFile.read_range``, given by the core: adapters know
nothing of storage). ``FileSlice.of(media, …)`` picks whichever the medium has, so a worker
never downloads a whole video to its disk before a chunked upload: each chunk is fetched when
it is sent, ``WINDOW`` bytes at a time (one ranged GET per window, not one per 64 KiB block).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from adapters.base import MediaFile

BLOCK = 64 * 1024
#: The most bytes a slice over a storage object asks for (and holds) at once.
WINDOW = 4 * 1024 * 1024

#: ``reader(start, length)``: at most ``length`` bytes of the medium from ``start``.
RangeReader = Callable[[int, int], bytes]


class FileSlice:
    """``length`` bytes of the file at ``path`` from ``offset``, readable in blocks; with a
    ``reader``, of the storage object it reads instead (``path`` then only names it)."""

    def __init__(self, path: str, offset: int, length: int, *,
                 reader: RangeReader | None = None) -> None:
        self.path = path
        self.offset = offset
        self.length = length
        self._fh: BinaryIO | None = None
        self._left = length
        self._reader = reader
        self._window = b""
        self._at = 0  # read position inside the window

    @classmethod
    def whole(cls, path: str) -> FileSlice:
        """The whole file, its length taken from the disk now."""
        return cls(path, 0, os.path.getsize(path))

    @classmethod
    def of(cls, media: MediaFile, offset: int = 0, length: int | None = None) -> FileSlice:
        """``length`` bytes (default: the rest) of a medium from ``offset``, from wherever it
        is: its local file, or ranges of its storage object. What every uploader uses. The
        rest of a local file is measured on the disk now (as ``whole``); of an object, it is
        the medium's recorded size."""
        if length is None:
            total = media.size if media.read_range is not None else os.path.getsize(media.path)
            length = total - offset
        return cls(media.path, offset, length, reader=media.read_range)

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            self.close()
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        if self._reader is not None:
            return self._read_range(size)
        if self._fh is None:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed when exhausted
            self._fh.seek(self.offset + self.length - self._left)
        data = self._fh.read(size)
        self._left -= len(data)
        if not data:
            self.close()
        return data

    def _read_range(self, size: int) -> bytes:
        """``size`` bytes from the window, fetching the next window (``WINDOW`` bytes, or
        what is left, or ``size`` if more) when it is used up. A short object ends the slice
        early, as a short file does."""
        assert self._reader is not None
        if self._at >= len(self._window):
            start = self.offset + self.length - self._left
            self._window = self._reader(start, min(self._left, max(size, WINDOW)))
            self._at = 0
            if not self._window:
                self._left = 0
                return b""
        data = self._window[self._at:self._at + size]
        self._at += len(data)
        self._left -= len(data)
        if self._at >= len(self._window):
            self._window, self._at = b"", 0  # not held longer than needed
        return data

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block = self.read(BLOCK)
            if not block:
                return
            yield block

    def close(self) -> None:
        self._window, self._at = b"", 0
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class StreamingMultipart:
    """A ``multipart/form-data`` body whose file parts stream from ``FileSlice`` objects.

    ``fields`` are small text parts (values sent as ``str(value)``); ``files`` maps a part name
    to ``(filename, mime, slice)``. ``progress(done, total)``, if given, hears how many file
    bytes have been read from disk so far, of all file parts together. Send it as
    ``data=body`` with ``headers={"Content-Type": body.content_type}``. A body is sent once:
    build a new one for a retry.
    """

    def __init__(self, fields: Mapping[str, Any],
                 files: Mapping[str, tuple[str, str, FileSlice]],
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.boundary = uuid.uuid4().hex
        self._parts: list[bytes | FileSlice] = []
        for name, value in fields.items():
            self._parts.append(self._head(name) + b"\r\n" + str(value).encode("utf-8")
                               + b"\r\n")
        for name, (filename, mime, body) in files.items():
            head = self._head(name, os.path.basename(filename)) + (
                f"Content-Type: {mime}\r\n\r\n".encode())
            self._parts += [head, body, b"\r\n"]
        self._parts.append(f"--{self.boundary}--\r\n".encode())
        self.file_bytes = sum(len(p) for p in self._parts if isinstance(p, FileSlice))
        self._progress = progress
        self._iter: Iterator[bytes] | None = None
        self._buffer = b""

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _head(self, name: str, filename: str | None = None) -> bytes:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            safe = filename.replace('"', "_").replace("\r", "_").replace("\n", "_")
            disposition += f'; filename="{safe}"'
        return f"--{self.boundary}\r\nContent-Disposition: {disposition}\r\n".encode()

    def __len__(self) -> int:
        return sum(len(p) for p in self._parts)

    def __iter__(self) -> Iterator[bytes]:
        done = 0
        for part in self._parts:
            if isinstance(part, bytes):
                yield part
                continue
            for block in part:
                done += len(block)
                if self._progress is not None:
                    self._progress(done, self.file_bytes)
                yield block

    def read(self, size: int = -1) -> bytes:
        if self._iter is None:
            self._iter = iter(self)
        if size is None or size < 0:
            out, self._buffer = self._buffer + b"".join(self._iter), b""
            return out
        while len(self._buffer) < size:
            try:
                self._buffer += next(self._iter)
            except StopIteration:
                break
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out
