"""``warta media trim-cache``: a machine's cache of the bucket shrinks, least recently used
first, never below what was used recently, never a file the bucket does not hold, and never
the local media folder when it is the store itself."""

from __future__ import annotations

import io
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from publisher.cli import cli
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import MediaAsset, Role, User
from publisher.services.media import upload_media
from publisher.storage import storage_for
from publisher.storage.trim import trim_cache

#: The commands run in-process (see the fixture).
pytestmark = pytest.mark.usefixtures("cli_process_state")

NOW = 2_000_000_000.0
DAY = 86400.0


def _file(root: Path, key: str, size: int, used: float) -> Path:
    path = root / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (used, used))
    return path


def test_least_recently_used_go_first_until_the_limit(tmp_path: Path) -> None:
    old = _file(tmp_path, "aa/old.jpg", 400, NOW - 10 * DAY)
    mid = _file(tmp_path, "bb/mid.jpg", 400, NOW - 5 * DAY)
    new = _file(tmp_path, "cc/new.jpg", 400, NOW - 2 * DAY)
    report = trim_cache(tmp_path, {"aa/old.jpg", "bb/mid.jpg", "cc/new.jpg"}, 500,
                        timedelta(hours=24), NOW)
    assert (report.removed, report.freed_bytes, report.kept_bytes) == (2, 800, 400)
    assert not old.exists() and not mid.exists() and new.exists()


def test_recent_unstored_and_partial_files_stay(tmp_path: Path) -> None:
    recent = _file(tmp_path, "aa/recent.mp4", 1000, NOW - 3600)  # an upload may be reading it
    lonely = _file(tmp_path, "bb/lonely.jpg", 1000, NOW - 30 * DAY)  # not in the bucket
    partial = _file(tmp_path, "cc/.x.jpg.part", 1000, NOW - 30 * DAY)  # being fetched
    report = trim_cache(tmp_path, {"aa/recent.mp4"}, 0, timedelta(hours=24), NOW)
    assert report.removed == 0 and report.recent_kept == 1
    assert recent.exists() and lonely.exists() and partial.exists()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_the_command_refuses_when_the_folder_is_the_store(core, test_env, make_user) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        asset = upload_media(core, s, s.get(User, make_user(Role.OPERATOR).id),
                             io.BytesIO(_png()), "a.png")
        key = asset.path
    kept = Path(test_env["WARTA_MEDIA_DIR"]) / key
    os.utime(kept, (NOW - 400 * DAY, NOW - 400 * DAY))
    r = CliRunner().invoke(cli, ["media", "trim-cache", "--keep-gb", "0",
                                 "--min-age-hours", "0"], env=test_env)
    assert r.exit_code != 0 and "WARTA_MEDIA_URL" in r.output
    assert kept.exists()


def test_the_command_trims_and_the_bucket_still_serves(test_env, make_user, clock, tmp_path,
                                                       s3_server) -> None:  # type: ignore[no-untyped-def]
    env = {**test_env, "WARTA_MEDIA_URL": f"s3://{s3_server.bucket}/{s3_server.new_prefix()}",
           "WARTA_S3_ENDPOINT_URL": s3_server.endpoint, "WARTA_S3_REGION": "us-east-1",
           "WARTA_S3_ACCESS_KEY_ID": s3_server.access_key,
           "WARTA_S3_SECRET_ACCESS_KEY": s3_server.secret_key,
           "WARTA_MEDIA_DIR": str(tmp_path / "cache")}
    core = build_core(load_settings(env), clock=clock)
    try:
        photo = _png()
        with core.sessions.begin() as s:
            asset_id = upload_media(core, s, s.get_one(User, make_user(Role.OPERATOR).id),
                                    io.BytesIO(photo), "a.png").id
        with core.sessions() as s:
            key = s.get_one(MediaAsset, asset_id).path
        cached = tmp_path / "cache" / key
        assert cached.exists()
        long_ago = time.time() - 400 * DAY  # the command reads this machine's clock
        os.utime(cached, (long_ago, long_ago))
        r = CliRunner().invoke(cli, ["media", "trim-cache", "--keep-gb", "0"], env=env)
        assert r.exit_code == 0, r.output
        assert "1 berkas dihapus" in r.output and not cached.exists()
        again = storage_for(core.settings).local_path(key)  # read back from the bucket
        assert again.read_bytes() == photo
    finally:
        core.engine.dispose()
