"""Where media live: one interface, so the code that stores, reads, serves, checks and backs
up media never joins paths itself (DESIGN §8, issue 17).

Keys are the content-addressed relative names Warta already stores in ``MediaAsset.path``
(``ab/ab12….jpg``, ``derived/<spec>.jpg``). The local folder (``WARTA_MEDIA_DIR``) is the one
implementation selected by default; ``storage/s3.py`` is the S3-compatible one behind the same
methods. Code that needs a file (Pillow, PyAV, instagrapi) reads through ``local_path`` (for
object storage a cached download); adapters that upload in chunks read ``read_range`` instead
(``MediaFile.read_range``, ``adapters/_stream.py``), so a large video is never copied to a
worker's disk first; ``url_for`` may offer a presigned link.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from publisher.config import Settings


class UnsafeKey(ValueError):
    """A key that is not a plain relative name inside the store (``..``, absolute, empty)."""


class StorageUnavailable(OSError):
    """The store did not answer (network, credentials, the server): try again later, unlike
    ``FileNotFoundError``, which means the object is not there."""


def check_key(key: str) -> str:
    """``key`` if it names something inside the store, else ``UnsafeKey``."""
    parts = key.split("/")
    if (not key or key.startswith("/") or "\\" in key or "\x00" in key
            or any(p in ("", ".", "..") for p in parts)):
        raise UnsafeKey(f"not a media key: {key!r}")
    return key


class MediaStorage(Protocol):
    """What Warta asks of a media store."""

    def put_file(self, source: Path, key: str) -> None:
        """Store the finished local file ``source`` under ``key`` (taking it: the source is
        gone afterwards). A key already stored is kept as it is: keys are content hashes."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def open(self, key: str) -> BinaryIO:
        """The object's bytes as a stream (``FileNotFoundError`` when absent)."""
        ...

    def read_range(self, key: str, start: int, length: int) -> bytes: ...

    def local_path(self, key: str) -> Path:
        """A local file with the object's bytes, for code that needs one (Pillow, PyAV, the
        adapters' ``FileSlice``); it stays (for object storage: a cache, never stale, since
        keys are content hashes). ``FileNotFoundError`` when absent."""
        ...

    def cached_path(self, key: str) -> Path | None:
        """The local file of ``key`` if this machine has one now, without fetching anything
        (the local folder: the file; object storage: its cached copy), else ``None``. An
        adapter that reads by range is then given this file rather than ranged reads."""
        ...

    def url_for(self, key: str, expires_seconds: int) -> str | None:
        """A link a platform can fetch the object from, or ``None`` when this store has none
        (then Warta's own signed ``/m/…`` link is used)."""
        ...

    def delete(self, key: str) -> None: ...

    def keys(self) -> Iterator[str]:
        """Every stored key (for backups and checks), in no particular order."""
        ...

    def check(self) -> None:
        """Raise ``OSError`` unless the store accepts a write now (readiness)."""
        ...


_STORES: dict[tuple[str, ...], MediaStorage] = {}
_STORES_LOCK = threading.Lock()


def storage_for(settings: Settings) -> MediaStorage:
    """The store the settings name: the local media folder, or the bucket of
    ``WARTA_MEDIA_URL`` with ``WARTA_MEDIA_DIR`` as this machine's cache of it. One per
    process and configuration (a boto3 client is costly to build and safe to share)."""
    from publisher.storage.local import LocalStorage

    if not settings.media_url:
        return LocalStorage(settings.media_dir)
    ident = (settings.media_url, settings.s3_endpoint_url, settings.s3_region,
             settings.s3_access_key_id, settings.s3_secret_access_key, str(settings.media_dir))
    with _STORES_LOCK:
        store = _STORES.get(ident)
        if store is None:
            from publisher.storage.s3 import S3Storage

            store = _STORES[ident] = S3Storage.from_url(
                settings.media_url, cache_dir=settings.media_dir,
                endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                access_key=settings.s3_access_key_id, secret_key=settings.s3_secret_access_key)
        return store
