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
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import Any, BinaryIO

BLOCK = 64 * 1024


class FileSlice:
    """``length`` bytes of the file at ``path`` from ``offset``, readable in blocks."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        self.path = path
        self.offset = offset
        self.length = length
        self._fh: BinaryIO | None = None
        self._left = length

    @classmethod
    def whole(cls, path: str) -> FileSlice:
        """The whole file, its length taken from the disk now."""
        return cls(path, 0, os.path.getsize(path))

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        if self._fh is None:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed when exhausted
            self._fh.seek(self.offset)
        if self._left <= 0:
            self.close()
            return b""
        size = self._left if size is None or size < 0 else min(size, self._left)
        data = self._fh.read(size)
        self._left -= len(data)
        if not data:
            self.close()
        return data

    def __iter__(self) -> Iterator[bytes]:
        while True:
            block = self.read(BLOCK)
            if not block:
                return
            yield block

    def close(self) -> None:
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
