"""Media in S3-compatible object storage (AWS S3, MinIO, SeaweedFS, Ceph, the Indonesian clouds'
S3 services), through boto3.

Objects are ``<prefix><key>`` in one bucket. Uploads go up from the finished local file with
boto3's managed transfer (multipart above ``MULTIPART_BYTES``, never the whole file in memory);
reads stream, or take a byte range (an adapter's chunk: ``FileSlice`` over ``read_range``), or
fill a local cache file for code that needs a path (Pillow, PyAV, instagrapi): keys are content
hashes, so a cached file can never be stale. ``url_for`` is a presigned GET, for platforms
that fetch media themselves.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

from publisher.storage import StorageUnavailable, check_key

#: Above this size an upload goes in parts of this size (S3's minimum part is 5 MiB).
MULTIPART_BYTES = 16 * 1024 * 1024


def _missing(exc: Exception) -> bool:
    code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("404", "NoSuchKey", "NotFound")


class S3Storage:
    """One bucket (and key prefix) of an S3-compatible store, with a local read cache."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", *,
                 cache_dir: Path) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.cache_dir = Path(cache_dir)

    @classmethod
    def from_url(cls, url: str, *, cache_dir: Path, endpoint_url: str | None = None,
                 region: str | None = None, access_key: str | None = None,
                 secret_key: str | None = None) -> S3Storage:
        """``s3://bucket/prefix``; endpoint, region and keys given, or boto3's own chain
        (``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID``, an instance role…)."""
        import boto3
        from botocore.config import Config

        if not url.startswith("s3://") or not url[5:].split("/", 1)[0]:
            raise ValueError(f"not an s3://bucket/prefix URL: {url!r}")
        bucket, _, prefix = url[5:].partition("/")
        client = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                              aws_access_key_id=access_key or None,
                              aws_secret_access_key=secret_key or None,
                              config=Config(retries={"mode": "standard", "max_attempts": 5},
                                            s3={"addressing_style": "path"}))
        return cls(client, bucket, prefix, cache_dir=cache_dir)

    def _name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _transfer(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(multipart_threshold=MULTIPART_BYTES,
                              multipart_chunksize=MULTIPART_BYTES, use_threads=False)

    def put_file(self, source: Path, key: str) -> None:
        name = self._name(key)
        if not self.exists(key):
            self.client.upload_file(str(source), self.bucket, name, Config=self._transfer())
        # What was uploaded is what a reader would download: keep it as the cache.
        cached = self.cache_dir / key
        if cached.exists():
            source.unlink(missing_ok=True)
            return
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_name(f".{cached.name}.{uuid.uuid4().hex[:8]}.part")
        shutil.move(str(source), tmp)
        os.replace(tmp, cached)

    def exists(self, key: str) -> bool:
        name = self._name(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _missing(exc):
                return False
            raise StorageUnavailable(f"object storage did not answer: {type(exc).__name__}") \
                from exc
        return True

    def size(self, key: str) -> int:
        name = self._name(key)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=name)
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise StorageUnavailable(f"object storage did not answer: {type(exc).__name__}") \
                from exc
        return int(head["ContentLength"])

    def open(self, key: str) -> BinaryIO:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise
        return cast(BinaryIO, body)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        if start < 0 or length < 0:
            raise ValueError("a range starts and lasts at least at 0")
        name = self._name(key)
        if length == 0:
            return b""
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=name,
                                         Range=f"bytes={start}-{start + length - 1}")
        except Exception as exc:
            if _missing(exc):
                raise FileNotFoundError(key) from None
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code in ("InvalidRange", "416"):
                return b""  # past the end, as a file read there gives nothing
            # An OSError, so an upload reading chunks from here breaks off as on a bad disk
            raise StorageUnavailable(f"object storage read failed: {type(exc).__name__}") \
                from exc
        try:
            return bytes(got["Body"].read())
        except Exception as exc:  # noqa: BLE001 - botocore's read errors are not OSErrors
            raise StorageUnavailable(f"object storage read failed: {type(exc).__name__}") \
                from exc

    def local_path(self, key: str) -> Path:
        cached = self.cache_dir / check_key(key)
        if cached.is_file():
            _used(cached)
            return cached
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=f".{cached.name}.", suffix=".part")
        os.close(fd)
        try:
            self.client.download_file(self.bucket, self._name(key), tmp, Config=self._transfer())
        except Exception as exc:
            Path(tmp).unlink(missing_ok=True)
            if _missing(exc):
                raise FileNotFoundError(key) from None
            raise StorageUnavailable(f"object storage read failed: {type(exc).__name__}") \
                from exc
        os.replace(tmp, cached)
        return cached

    def cached_path(self, key: str) -> Path | None:
        cached = self.cache_dir / check_key(key)
        if not cached.is_file():
            return None
        _used(cached)
        return cached

    def url_for(self, key: str, expires_seconds: int) -> str | None:
        return str(self.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": self._name(key)},
            ExpiresIn=int(expires_seconds)))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))
        (self.cache_dir / key).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=self.prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                name = str(item["Key"])[len(self.prefix):]
                if name and not name.startswith(".ready-"):
                    yield name

    def check(self) -> None:
        """A tiny object written and removed: the store is reachable and takes writes. Any
        failure is an ``OSError`` for readiness."""
        probe = f"{self.prefix}.ready-{uuid.uuid4().hex}"
        try:
            self.client.put_object(Bucket=self.bucket, Key=probe, Body=b"ok")
            self.client.delete_object(Bucket=self.bucket, Key=probe)
        except Exception as exc:  # noqa: BLE001 - botocore's errors are not OSErrors
            raise OSError(f"object storage check failed: {type(exc).__name__}") from exc


def _used(path: Path) -> None:
    """Mark a cached copy as just used, for ``storage.trim`` (least recently used go first;
    access times are often not kept: noatime, relatime). At most once an hour per file."""
    try:
        if time.time() - path.stat().st_mtime > 3600:
            os.utime(path)
    except OSError:
        pass  # gone meanwhile, or a read-only cache: trimming is then only less precise
