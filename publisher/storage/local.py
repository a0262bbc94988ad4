"""Media in a local folder (``WARTA_MEDIA_DIR``): the default, and all a small office needs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from publisher.storage import UnsafeKey, check_key

#: Files in the folder that are not media: uploads being written, readiness probes.
SCRATCH_SUFFIXES = (".part", ".tmp")


class LocalStorage:
    """A folder of content-addressed files; a key is a relative path inside it."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """The file of ``key``; a key that would leave the folder is refused."""
        path = self.root / check_key(key)
        # a link inside the folder must not lead out of it either
        if path.is_symlink() and self.root.resolve() not in path.resolve().parents:
            raise UnsafeKey(f"not a media key: {key!r}")
        return path

    def put_file(self, source: Path, key: str) -> None:
        target = self.path(key)
        if target.exists():
            source.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        # Into place in one rename where the source is on the same disk (an upload's
        # temporary file is written into the folder for that reason), so a reader never sees
        # half a file.
        tmp = target.with_name(f".{target.name}.part")
        shutil.move(str(source), tmp)
        os.replace(tmp, target)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def open(self, key: str) -> BinaryIO:
        return self.path(key).open("rb")

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("a range starts and lasts at least at 0")
        with self.open(key) as fh:
            fh.seek(start)
            return fh.read(length)

    def local_path(self, key: str) -> Path:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(key)
        return path

    def cached_path(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def url_for(self, key: str, expires_seconds: int) -> str | None:
        check_key(key)
        return None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            if (path.is_file() and not path.name.startswith(".")
                    and not path.name.endswith(SCRATCH_SUFFIXES)):
                yield path.relative_to(self.root).as_posix()

    def check(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ready-", suffix=".tmp") as fh:
            fh.write(b"ok")
            fh.flush()
