"""``warta media migrate --to s3://…`` copies a local installation's media into a real bucket
(resumably, verified) and the installation then works from it; ``warta media check`` finds what
is missing or corrupt."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from PIL import Image

from publisher.cli import cli
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import MediaAsset, Role, User
from publisher.services.media import upload_media
from publisher.worker import run_once
from tests.helpers import approved_post, outbox_records, sandbox_channel

#: The commands run in-process (see the fixture).
pytestmark = pytest.mark.usefixtures("cli_process_state")


def _warta(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buf, "PNG")
    return buf.getvalue()


def test_migrate_then_check_then_publish_from_the_bucket(core, test_env, make_user, clock,
                                                         tmp_path, s3_server):  # type: ignore[no-untyped-def]
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    photos = [_png((200, 0, 0)), _png((0, 200, 0))]
    with core.sessions.begin() as s:
        ids = [upload_media(core, s, s.get(User, operator.id), io.BytesIO(p), f"{i}.png").id
               for i, p in enumerate(photos)]
    with core.sessions() as s:
        keys = [s.get(MediaAsset, i).path for i in ids]
    url = f"s3://{s3_server.bucket}/{s3_server.new_prefix()}"
    s3_env = {**test_env, "WARTA_S3_ENDPOINT_URL": s3_server.endpoint,
              "WARTA_S3_ACCESS_KEY_ID": s3_server.access_key,
              "WARTA_S3_SECRET_ACCESS_KEY": s3_server.secret_key, "WARTA_S3_REGION": "us-east-1"}

    moved = _warta(s3_env, "media", "migrate", "--to", url)
    assert moved.exit_code == 0, moved.output
    assert "2 disalin / copied, 0 sudah ada" in moved.output
    assert f"WARTA_MEDIA_URL={url}" in moved.output
    again = _warta(s3_env, "media", "migrate", "--to", url)  # resumable: nothing twice
    assert again.exit_code == 0 and "0 disalin / copied, 2 sudah ada" in again.output

    switched = {**s3_env, "WARTA_MEDIA_URL": url}
    ok = _warta(switched, "media", "check", "--verify")
    assert ok.exit_code == 0 and "2 media diperiksa / checked, 0 masalah" in ok.output

    # published from the bucket by a worker whose media folder is empty
    channel = sandbox_channel(core, operator, "dinsos-fb")
    approved_post(core, operator, approver, [channel], media=[ids[0]],
                  when=clock.now + timedelta(minutes=1))
    fresh = build_core(load_settings({**switched, "WARTA_MEDIA_DIR": str(tmp_path / "empty")}),
                       clock=clock)
    try:
        clock.advance(minutes=1)
        assert run_once(fresh) == 1
    finally:
        fresh.engine.dispose()
    assert len(outbox_records(core, "dinsos-fb")) == 1
    [sent] = (Path(core.settings.sandbox_outbox) / "dinsos-fb" / "media").iterdir()
    assert sent.read_bytes() == photos[0]

    # one object lost, one overwritten with other bytes of the same size
    prefix = url.split("/", 3)[3] + "/"
    client = s3_server.client()
    client.delete_object(Bucket=s3_server.bucket, Key=prefix + keys[0])
    client.put_object(Bucket=s3_server.bucket, Key=prefix + keys[1],
                      Body=b"\0" * len(photos[1]))
    bad = _warta(switched, "media", "check")
    assert bad.exit_code == 1 and f"{keys[0]}: missing" in bad.output
    assert keys[1] not in bad.output  # the size matches: only --verify reads the bytes
    worse = _warta(switched, "media", "check", "--verify")
    assert worse.exit_code == 1 and f"{keys[1]}: corrupt" in worse.output


def test_migrate_refuses_a_corrupt_original(core, test_env, make_user, s3_server):  # type: ignore[no-untyped-def]
    operator = make_user(Role.OPERATOR)
    with core.sessions.begin() as s:
        asset = upload_media(core, s, s.get(User, operator.id), io.BytesIO(_png((9, 9, 9))),
                             "x.png")
        key = asset.path
    (core.settings.media_dir / key).write_bytes(b"rusak")  # bit rot on the old disk
    env = {**test_env, "WARTA_S3_ENDPOINT_URL": s3_server.endpoint,
           "WARTA_S3_ACCESS_KEY_ID": s3_server.access_key,
           "WARTA_S3_SECRET_ACCESS_KEY": s3_server.secret_key, "WARTA_S3_REGION": "us-east-1"}
    res = _warta(env, "media", "migrate", "--to",
                 f"s3://{s3_server.bucket}/{s3_server.new_prefix()}")
    assert res.exit_code == 1 and f"{key}: corrupt at the source" in res.output
    assert "WARTA_MEDIA_URL=" not in res.output  # not told to switch
