"""The media storage interface, over every implementation there is (the local folder today):
store by key, read whole, by range and as a local file, list, delete, refuse keys that leave
the store, and the readiness write probe."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from publisher.storage import MediaStorage, UnsafeKey, check_key
from publisher.storage.local import LocalStorage

IMPLEMENTATIONS: dict[str, Callable[[Path], MediaStorage]] = {
    "local": lambda tmp: LocalStorage(tmp / "media"),
}


@pytest.fixture(params=sorted(IMPLEMENTATIONS))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStorage:
    return IMPLEMENTATIONS[request.param](tmp_path)


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
    with store.local_path(key) as path:
        assert path.read_bytes() == data
    assert list(store.keys()) == [key]
    store.delete(key)
    assert not store.exists(key) and list(store.keys()) == []
    with pytest.raises(FileNotFoundError):
        store.open(key)
    with pytest.raises(FileNotFoundError):
        store.local_path(key).__enter__()


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
