"""Trimming a machine's cache of the bucket (``warta media trim-cache``).

With object storage, ``WARTA_MEDIA_DIR`` keeps a copy of every medium this machine ever read
or received, and nothing removed them: a worker that uploads a province's videos fills its
disk. The cache can always be read again from the bucket (keys are content hashes, so a copy
is never stale), which makes trimming safe under three rules kept here:

- only with object storage: without it the folder *is* the store;
- only files whose key the bucket lists: a file nobody stored would be lost;
- never a file used recently (``min_age``; reads refresh a cached file's time, see
  ``S3Storage.local_path``): a chunked upload may reopen its file for minutes.

Least recently used go first, until the cache is at most ``keep_bytes``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path


@dataclass(frozen=True)
class TrimReport:
    removed: int
    freed_bytes: int
    kept_bytes: int
    #: files over the limit kept because they were used within ``min_age``
    recent_kept: int


def _cached_files(cache_dir: Path) -> Iterable[tuple[str, Path, os.stat_result]]:
    for path in cache_dir.rglob("*"):
        if path.is_file() and not path.name.startswith("."):  # ".…part": being written
            yield path.relative_to(cache_dir).as_posix(), path, path.stat()


def trim_cache(cache_dir: Path, stored: set[str], keep_bytes: int, min_age: timedelta,
               now: float) -> TrimReport:
    """Remove least recently used cached copies of ``stored`` keys until at most
    ``keep_bytes`` remain (files used within ``min_age`` of ``now`` stay in any case)."""
    files = sorted(_cached_files(cache_dir), key=lambda f: max(f[2].st_mtime, f[2].st_atime))
    total = sum(st.st_size for _, _, st in files)
    removed = freed = recent = 0
    for key, path, st in files:
        if total <= keep_bytes:
            break
        if key not in stored:
            continue
        if now - max(st.st_mtime, st.st_atime) < min_age.total_seconds():
            recent += 1
            continue
        path.unlink(missing_ok=True)
        total -= st.st_size
        freed += st.st_size
        removed += 1
    return TrimReport(removed, freed, total, recent)
