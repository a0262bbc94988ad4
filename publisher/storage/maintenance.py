"""``warta media check`` and ``warta media migrate``: is every medium the database names in the
store, intact; and copying a store into object storage, resumably, every copy verified."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select

from publisher.core import Core
from publisher.models import MediaAsset
from publisher.storage import MediaStorage, storage_for

#: Rows read per query while checking (a large office has hundreds of thousands).
BATCH = 500


@dataclass
class Report:
    checked: int = 0
    copied: int = 0
    skipped: int = 0
    problems: list[tuple[str, str]] = field(default_factory=list)


def _sha256(fh: BinaryIO) -> str:
    digest = hashlib.sha256()
    with fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _assets(core: Core) -> Iterator[tuple[str, str, int]]:
    last = 0
    while True:
        with core.sessions() as s:
            rows = s.execute(select(MediaAsset.id, MediaAsset.path, MediaAsset.sha256,
                                    MediaAsset.size).where(MediaAsset.id > last)
                             .order_by(MediaAsset.id).limit(BATCH)).all()
        if not rows:
            return
        for row in rows:
            yield row.path, row.sha256, row.size
        last = rows[-1].id


def check(core: Core, *, verify: bool = False) -> Report:
    """Every media asset of the database: present in the store with its size, and with
    ``verify`` its content hash (reads every byte)."""
    store = storage_for(core.settings)
    report = Report()
    for key, sha, size in _assets(core):
        report.checked += 1
        if not store.exists(key):
            report.problems.append((key, "missing"))
        elif store.size(key) != size:
            report.problems.append((key, "wrong size"))
        elif verify and _sha256(store.open(key)) != sha:
            report.problems.append((key, "corrupt"))
    return report


def _expected_hash(key: str) -> str | None:
    """An original's name is its content hash (``ab/<sha256>.jpg``); derived copies have
    none to check against."""
    stem = Path(key).stem
    return stem if len(stem) == 64 and all(c in "0123456789abcdef" for c in stem) else None


def migrate(source: MediaStorage, target: MediaStorage) -> Report:
    """Copy every object of ``source`` that ``target`` lacks. Resumable (what is there, at the
    right size, is skipped); each original's bytes are hashed on the way and must match its
    name, and each copy's size is read back."""
    report = Report()
    for key in sorted(source.keys()):
        report.checked += 1
        size = source.size(key)
        if target.exists(key) and target.size(key) == size:
            report.skipped += 1
            continue
        local = source.local_path(key)
        fd, tmp = tempfile.mkstemp(dir=local.parent, prefix=f".{local.name}.", suffix=".part")
        os.close(fd)
        shutil.copyfile(local, tmp)
        want = _expected_hash(key)
        if want is not None and _sha256(open(tmp, "rb")) != want:
            Path(tmp).unlink(missing_ok=True)
            report.problems.append((key, "corrupt at the source"))
            continue
        target.put_file(Path(tmp), key)
        if target.size(key) != size:
            report.problems.append((key, "copy has the wrong size"))
            continue
        report.copied += 1
    return report
