"""The media storage interface, over every implementation: the local folder and S3-compatible
object storage (a real SeaweedFS, ``tests/storage/seaweed.py``): store by key, read whole, by
range and as a local file, list, delete, refuse keys that leave the store, the readiness write
probe; and what only object storage does (multipart uploads, presigned links, a second
machine reading what the first stored)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from publisher.storage import MediaStorage, StorageUnavailable, UnsafeKey, check_key
from publisher.storage.local import LocalStorage
from tests.storage.seaweed import S3Server


def _s3(server: S3Server, tmp: Path, machine: str = "a", prefix: str | None = None,
        secret_key: str | None = None):  # type: ignore[no-untyped-def]
    from publisher.storage.s3 import S3Storage

    return S3Storage(server.client(secret_key), server.bucket, prefix or server.new_prefix(),
                     cache_dir=tmp / f"cache-{machine}")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStorage:
    if request.param == "local":
        return LocalStorage(tmp_path / "media")
    return _s3(request.getfixturevalue("s3_server"), tmp_path)


def _file(tmp_path: Path, data: bytes, name: str = "upload.part") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_put_read_range_local_path_and_delete(store: MediaStorage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 64
    key = "ab/ab12cd.jpg"
    assert not store.exists(key)
    store.put_file(_file(tmp_path, data), key)
    assert not (tmp_path / "upload.part").exists()  # taken, not copied
    assert store.exists(key) and store.size(key) == len(data)
    with store.open(key) as fh:
        assert fh.read() == data
    assert store.read_range(key, 1000, 24) == data[1000:1024]
    assert store.read_range(key, len(data) - 4, 100) == data[-4:]  # a range past the end: the rest
    assert store.local_path(key).read_bytes() == data
    assert store.cached_path(key) == store.local_path(key)
    assert list(store.keys()) == [key]
    store.delete(key)
    assert not store.exists(key) and list(store.keys()) == []
    with pytest.raises(FileNotFoundError):
        store.open(key)
    with pytest.raises(FileNotFoundError):
        store.local_path(key)
    with pytest.raises(FileNotFoundError):
        store.read_range(key, 0, 1)
    assert store.cached_path(key) is None


def test_a_stored_key_is_kept(store: MediaStorage, tmp_path: Path) -> None:
    """Keys are content hashes: storing one again keeps the first and drops the new file."""
    store.put_file(_file(tmp_path, b"first"), "aa/k.bin")
    again = _file(tmp_path, b"second", "again.part")
    store.put_file(again, "aa/k.bin")
    assert not again.exists()
    with store.open("aa/k.bin") as fh:
        assert fh.read() == b"first"


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../x", "a/../../x", "a//b", "a/./b",
                                 "a\\b", "a\x00b"])
def test_keys_that_leave_the_store_are_refused(store: MediaStorage, tmp_path: Path,
                                               key: str) -> None:
    with pytest.raises(UnsafeKey):
        check_key(key)
    for call in (lambda: store.exists(key), lambda: store.open(key),
                 lambda: store.local_path(key), lambda: store.cached_path(key),
                 lambda: store.size(key),
                 lambda: store.read_range(key, 0, 1),
                 lambda: store.url_for(key, 60), lambda: store.delete(key),
                 lambda: store.put_file(_file(tmp_path, b"x"), key)):
        with pytest.raises(UnsafeKey):
            call()


def test_a_link_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "media")
    secret = _file(tmp_path, b"rahasia", "secret.key")
    (tmp_path / "media" / "ab").mkdir(parents=True)
    os.symlink(secret, tmp_path / "media" / "ab" / "link.jpg")
    with pytest.raises(UnsafeKey):
        store.open("ab/link.jpg")


def test_listing_skips_what_is_not_media(store: MediaStorage, tmp_path: Path) -> None:
    store.put_file(_file(tmp_path, b"x"), "ab/one.png")
    store.put_file(_file(tmp_path, b"y"), "derived/two.jpg")
    store.check()  # leaves nothing behind
    if isinstance(store, LocalStorage):
        (store.root / "ab" / "half.part").write_bytes(b"upload in progress")
    assert sorted(store.keys()) == ["ab/one.png", "derived/two.jpg"]


def test_local_storage_has_no_links_of_its_own(tmp_path: Path) -> None:
    """The local folder offers no URL: Warta's signed /m/… links are used instead."""
    assert LocalStorage(tmp_path).url_for("ab/one.png", 3600) is None


def test_check_fails_where_nothing_can_be_written(tmp_path: Path) -> None:
    blocker = _file(tmp_path, b"x", "a-file")
    with pytest.raises(OSError):
        LocalStorage(blocker / "media").check()


# -- object storage only ------------------------------------------------------------------------
def test_another_machine_reads_what_one_stored(s3_server: S3Server, tmp_path: Path) -> None:
    """Two workers with different local folders and one bucket: what the web app's machine
    stored, the other downloads (into its own cache) and reads by range."""
    web = _s3(s3_server, tmp_path, "web")
    worker = _s3(s3_server, tmp_path, "worker", prefix=web.prefix)
    data = os.urandom(300_000)
    web.put_file(_file(tmp_path, data), "cd/cdef.mp4")
    assert not (tmp_path / "cache-worker").exists()
    assert worker.exists("cd/cdef.mp4") and worker.size("cd/cdef.mp4") == len(data)
    assert worker.read_range("cd/cdef.mp4", 123_456, 1000) == data[123_456:124_456]
    assert worker.cached_path("cd/cdef.mp4") is None  # a range read caches nothing
    assert web.cached_path("cd/cdef.mp4") == tmp_path / "cache-web" / "cd/cdef.mp4"
    path = worker.local_path("cd/cdef.mp4")
    assert path.is_relative_to(tmp_path / "cache-worker") and path.read_bytes() == data
    assert worker.cached_path("cd/cdef.mp4") == path
    raw = s3_server.client().get_object(Bucket=web.bucket, Key=f"{web.prefix}cd/cdef.mp4")
    assert raw["Body"].read() == data  # under the prefix, as named


def test_large_files_go_up_in_parts(s3_server: S3Server, tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import publisher.storage.s3 as s3mod

    monkeypatch.setattr(s3mod, "MULTIPART_BYTES", 5 * 1024 * 1024)
    store = _s3(s3_server, tmp_path)
    data = os.urandom(11 * 1024 * 1024)
    store.put_file(_file(tmp_path, data), "ef/video.mp4")
    head = s3_server.client().head_object(Bucket=store.bucket, Key=f"{store.prefix}ef/video.mp4")
    assert head["ETag"].strip('"').endswith("-3")  # three parts
    boundary = 5 * 1024 * 1024
    assert store.read_range("ef/video.mp4", boundary - 10, 20) == data[boundary - 10:boundary + 10]
    other = _s3(s3_server, tmp_path, "b", prefix=store.prefix)
    assert other.local_path("ef/video.mp4").read_bytes() == data


def test_presigned_links_let_a_platform_fetch(s3_server: S3Server, tmp_path: Path) -> None:
    import requests

    store = _s3(s3_server, tmp_path)
    store.put_file(_file(tmp_path, b"foto kegiatan"), "ab/foto.jpg")
    url = store.url_for("ab/foto.jpg", 3600)
    assert url and "Signature" in url
    assert requests.get(url, timeout=10).content == b"foto kegiatan"
    assert requests.get(url.split("?")[0], timeout=10).status_code == 403  # unsigned: refused


def test_wrong_credentials_are_an_error_not_a_missing_file(s3_server: S3Server,
                                                           tmp_path: Path) -> None:
    good = _s3(s3_server, tmp_path)
    good.put_file(_file(tmp_path, b"x"), "ab/x.png")
    bad = _s3(s3_server, tmp_path, "b", prefix=good.prefix, secret_key="salah")
    with pytest.raises(OSError, match="object storage check failed"):
        bad.check()
    with pytest.raises(Exception) as raised:
        bad.exists("ab/x.png")
    assert not isinstance(raised.value, FileNotFoundError)
    # what an upload reading by range meets: an OSError, never "the file is not there"
    for call in (lambda: bad.size("ab/x.png"), lambda: bad.read_range("ab/x.png", 0, 1)):
        with pytest.raises(StorageUnavailable):
            call()
