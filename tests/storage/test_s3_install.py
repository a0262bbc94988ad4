"""An installation with ``WARTA_MEDIA_URL=s3://…`` against a real SeaweedFS: a photo uploaded
by one process is published by a worker with a *different* media folder (same database, same
bucket); converted copies go to the bucket too and platforms that fetch get a presigned link;
``/readyz`` asks the bucket."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from PIL import Image

from adapters.sandbox import SandboxAdapter
from postqueue.models import Job
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import MediaAsset, Publication, PublicationStatus, Role, User
from publisher.runtime import build_outgoing
from publisher.services.media import upload_media
from publisher.storage import storage_for
from publisher.worker import run_once
from publisher.worker.runner import Worker
from tests.helpers import approved_post, outbox_records, sandbox_channel
from tests.storage.seaweed import S3Server
from web.app import create_app


def _s3_env(server: S3Server, test_env: dict[str, str], media_dir: Path,
            **extra: str) -> dict[str, str]:
    return {**test_env, "WARTA_MEDIA_URL": f"s3://{server.bucket}/{server.new_prefix()}",
            "WARTA_S3_ENDPOINT_URL": server.endpoint, "WARTA_S3_REGION": "us-east-1",
            "WARTA_S3_ACCESS_KEY_ID": server.access_key,
            "WARTA_S3_SECRET_ACCESS_KEY": server.secret_key,
            "WARTA_MEDIA_DIR": str(media_dir), **extra}


def _photo(size: tuple[int, int] = (64, 48)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def web_core(s3_server, test_env, clock, tmp_path):  # type: ignore[no-untyped-def]
    core = build_core(load_settings(_s3_env(s3_server, test_env, tmp_path / "web-media")),
                      clock=clock)
    yield core
    core.engine.dispose()


def _upload(core, user: User, data: bytes) -> int:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return upload_media(core, s, s.get(User, user.id), io.BytesIO(data), "foto.png").id


def test_a_worker_on_another_machine_publishes_what_the_web_app_received(
        web_core, make_user, clock, tmp_path, s3_server):  # type: ignore[no-untyped-def]
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    channel = sandbox_channel(web_core, operator, "dinsos-fb")
    photo = _photo()
    asset_id = _upload(web_core, operator, photo)
    with web_core.sessions() as s:
        key = s.get(MediaAsset, asset_id).path
    prefix = web_core.settings.media_url.split("/", 3)[3] + "/"
    stored = s3_server.client().get_object(Bucket=s3_server.bucket, Key=prefix + key)
    assert stored["Body"].read() == photo  # in the bucket, under the prefix
    post_id = approved_post(web_core, operator, approver, [channel], media=[asset_id],
                            when=clock.now + timedelta(minutes=5))

    other_folder = tmp_path / "worker-media"  # another machine: nothing of the web's disk
    worker = build_core(web_core.settings.with_(media_dir=other_folder), clock=clock)
    try:
        clock.advance(minutes=5)
        assert run_once(worker) == 1
        with worker.sessions() as s:
            pub = s.query(Publication).filter_by(post_id=post_id).one()
            assert pub.status == PublicationStatus.PUBLISHED, pub.error
    finally:
        worker.engine.dispose()
    [record] = outbox_records(web_core, "dinsos-fb")
    [sent] = (Path(web_core.settings.sandbox_outbox) / "dinsos-fb" / "media").iterdir()
    assert record["media"] == [sent.name] and sent.read_bytes() == photo
    assert (other_folder / key).read_bytes() == photo  # fetched into the worker's cache


def test_converted_copies_go_to_the_bucket_and_fetchers_get_presigned_links(
        web_core, make_user):  # type: ignore[no-untyped-def]
    operator = make_user(Role.OPERATOR)
    asset_id = _upload(web_core, operator, _photo((300, 100)))  # too wide for 1.91:1
    fetcher = type("FetchingSandbox", (SandboxAdapter,), {"caps": replace(
        SandboxAdapter.caps, needs_public_urls=True, image_mimes=frozenset({"image/jpeg"}),
        image_aspect=(0.8, 1.91))})
    with web_core.sessions() as s:
        asset = s.get(MediaAsset, asset_id)
        out = build_outgoing(web_core, fetcher, pub_id=1, body="x", overrides=None,
                             channel_id=1, link=None, media=[asset], scheduled_at=None)
    [media] = out.media
    assert media.mime == "image/jpeg" and media.public_url and "Signature" in media.public_url
    got = requests.get(media.public_url, timeout=10)
    assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"  # the padded JPEG
    with Image.open(io.BytesIO(got.content)) as img:
        assert img.size == (300, 157)  # padded to 1.91:1, never cropped


def test_uploaders_by_range_get_the_bucket_not_a_download(
        web_core, make_user, tmp_path):  # type: ignore[no-untyped-def]
    """An adapter that reads media by range (``caps.media_by_range``) on a machine without the
    file gets the object's ranges; on the machine that has it (the web side's cache), the file.
    A missing object is found before any platform call, as a download would find it."""
    data = _photo((300, 200))
    asset_id = _upload(web_core, make_user(Role.OPERATOR), data)
    ranged = type("RangeSandbox", (SandboxAdapter,), {"caps": replace(
        SandboxAdapter.caps, media_by_range=True)})
    worker = build_core(web_core.settings.with_(media_dir=tmp_path / "other"),
                        clock=web_core.clock)
    try:
        with worker.sessions() as s:
            asset = s.get(MediaAsset, asset_id)
            [media] = build_outgoing(worker, ranged, pub_id=1, body="x", overrides=None,
                                     channel_id=1, link=None, media=[asset],
                                     scheduled_at=None).media
            assert media.read_range is not None and media.path == asset.path
            assert media.read_range(100, 300) == data[100:400]
            assert not [p for p in (tmp_path / "other").rglob("*") if p.is_file()]
            [local] = build_outgoing(web_core, ranged, pub_id=1, body="x", overrides=None,
                                     channel_id=1, link=None, media=[asset],
                                     scheduled_at=None).media
            assert local.read_range is None and Path(local.path).read_bytes() == data
            storage_for(web_core.settings).delete(asset.path)
            with pytest.raises(FileNotFoundError):
                build_outgoing(worker, ranged, pub_id=1, body="x", overrides=None,
                               channel_id=1, link=None, media=[asset], scheduled_at=None)
    finally:
        worker.engine.dispose()


def test_a_store_platforms_cannot_reach_gives_them_wartas_own_links(
        s3_server, test_env, clock, tmp_path, make_user):  # type: ignore[no-untyped-def]
    """WARTA_MEDIA_LINKS=warta: a MinIO inside the intranet; Instagram must fetch through
    Warta's public /m/ link, which serves the same bytes."""
    env = _s3_env(s3_server, test_env, tmp_path / "m", WARTA_MEDIA_LINKS="warta",
                  WARTA_PUBLIC_URL="https://warta.example.go.id")
    core = build_core(load_settings(env), clock=clock)
    try:
        photo = _photo()
        asset_id = _upload(core, make_user(Role.OPERATOR), photo)
        fetcher = type("FetchingSandbox", (SandboxAdapter,), {"caps": replace(
            SandboxAdapter.caps, needs_public_urls=True)})
        with core.sessions() as s:
            out = build_outgoing(core, fetcher, pub_id=1, body="x", overrides=None,
                                 channel_id=1, link=None, media=[s.get(MediaAsset, asset_id)],
                                 scheduled_at=None)
        [media] = out.media
        assert media.public_url and media.public_url.startswith(
            "https://warta.example.go.id/m/"), media.public_url
        assert "Signature" not in media.public_url
        path = media.public_url.removeprefix("https://warta.example.go.id")
        got = create_app(core=core).test_client().get(path)
        assert got.status_code == 200 and got.data == photo
    finally:
        core.engine.dispose()


def test_media_links_setting_is_checked(test_env):  # type: ignore[no-untyped-def]
    from publisher.config import SettingsError

    with pytest.raises(SettingsError, match="WARTA_MEDIA_LINKS"):
        load_settings({**test_env, "WARTA_MEDIA_LINKS": "presigned"})
    with pytest.raises(SettingsError, match="WARTA_PUBLIC_URL"):
        load_settings({**test_env, "WARTA_MEDIA_LINKS": "warta", "WARTA_PUBLIC_URL": ""})


def test_readiness_asks_the_bucket(web_core, s3_server, test_env, clock, tmp_path):  # type: ignore[no-untyped-def]
    Worker(web_core, worker_id="w").heartbeat()
    client = create_app(core=web_core).test_client()
    assert client.get("/readyz").status_code == 200
    wrong = build_core(load_settings(_s3_env(s3_server, test_env, tmp_path / "m2",
                                             WARTA_S3_SECRET_ACCESS_KEY="salah")), clock=clock)
    res = create_app(core=wrong).test_client().get("/readyz")
    assert res.status_code == 503
    assert res.get_json()["checks"]["media"] == {"ok": False,
                                                 "error": "media storage not writable"}
    assert "salah" not in res.get_data(as_text=True)
    wrong.engine.dispose()


def test_media_url_is_checked(test_env):  # type: ignore[no-untyped-def]
    from publisher.config import SettingsError

    with pytest.raises(SettingsError, match="WARTA_MEDIA_URL"):
        load_settings({**test_env, "WARTA_MEDIA_URL": "https://bucket.example/x"})
    with pytest.raises(SettingsError, match="set both"):
        load_settings({**test_env, "WARTA_MEDIA_URL": "s3://b",
                       "WARTA_S3_ACCESS_KEY_ID": "only-the-id"})


def _post_with_photo(core, make_user, clock, account: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    asset_id = _upload(core, operator, _photo())
    with core.sessions() as s:
        key = s.get(MediaAsset, asset_id).path
    post_id = approved_post(core, operator, approver, [sandbox_channel(core, operator, account)],
                            media=[asset_id], when=clock.now + timedelta(minutes=1))
    return post_id, key


def _publication(core, post_id: int) -> Publication:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.query(Publication).filter_by(post_id=post_id).one()


def test_a_medium_missing_from_the_store_fails_before_any_call(core, make_user, clock):  # type: ignore[no-untyped-def]
    post_id, key = _post_with_photo(core, make_user, clock, "hilang")
    (core.settings.media_dir / key).unlink()  # the local folder lost it
    clock.advance(minutes=1)
    run_once(core)
    pub = _publication(core, post_id)
    assert pub.status == PublicationStatus.FAILED and pub.error_code == "media_missing"
    assert pub.submitted_at is None and outbox_records(core, "hilang") == []


def test_a_store_that_does_not_answer_holds_the_post_until_it_does(
        web_core, make_user, clock, tmp_path, s3_server):  # type: ignore[no-untyped-def]
    post_id, key = _post_with_photo(web_core, make_user, clock, "tunggu")
    prefix = web_core.settings.media_url.split("/", 3)[3] + "/"
    assert s3_server.client().head_object(Bucket=s3_server.bucket, Key=prefix + key)
    locked_out = build_core(web_core.settings.with_(media_dir=tmp_path / "w1",
                                                    s3_secret_access_key="salah"), clock=clock)
    clock.advance(minutes=1)
    run_once(locked_out)
    locked_out.engine.dispose()
    pub = _publication(web_core, post_id)
    assert pub.status == PublicationStatus.QUEUED and pub.submitted_at is None
    assert outbox_records(web_core, "tunggu") == []
    with web_core.sessions() as s:  # a decided wait, not a crash of the worker's batch
        job = s.get(Job, pub.job_id)
        assert job.last_error == "media storage unavailable"
        assert job.run_at == clock.now + timedelta(seconds=60)
    # once the store answers (here: the right key), the post goes out at the next try
    fixed = build_core(web_core.settings.with_(media_dir=tmp_path / "w2"), clock=clock)
    try:
        assert run_once(fixed) == 0  # not before the retry time
        clock.advance(seconds=61)
        assert run_once(fixed) == 1
    finally:
        fixed.engine.dispose()
    assert _publication(web_core, post_id).status == PublicationStatus.PUBLISHED


def test_an_object_missing_from_the_bucket_fails(web_core, make_user, clock, tmp_path,
                                                 s3_server):  # type: ignore[no-untyped-def]
    post_id, key = _post_with_photo(web_core, make_user, clock, "hilang-s3")
    prefix = web_core.settings.media_url.split("/", 3)[3] + "/"
    s3_server.client().delete_object(Bucket=s3_server.bucket, Key=prefix + key)
    elsewhere = build_core(web_core.settings.with_(media_dir=tmp_path / "w3"), clock=clock)
    try:
        clock.advance(minutes=1)
        run_once(elsewhere)
    finally:
        elsewhere.engine.dispose()
    pub = _publication(web_core, post_id)
    assert pub.status == PublicationStatus.FAILED and pub.error_code == "media_missing"


def test_a_second_web_machine_serves_the_preview_and_the_thumbnail(
        web_core, make_user, tmp_path):  # type: ignore[no-untyped-def]
    """Behind a load balancer, the composer's preview and the reports' thumbnail may be asked
    of a web machine that never received the upload: both read through the media store."""
    operator = make_user(Role.OPERATOR)
    photo = _photo()
    asset_id = _upload(web_core, operator, photo)
    other = build_core(web_core.settings.with_(media_dir=tmp_path / "web2-media"),
                       clock=web_core.now)
    try:
        client = create_app(core=other).test_client()
        with client.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"] = str(operator.id), True
            sess["_sv"] = operator.session_version
        for path in (f"/media/{asset_id}", f"/laporan/media/{asset_id}"):
            r = client.get(path)
            assert r.status_code == 200, (path, r.status_code)
            assert r.get_data() == photo, path
    finally:
        other.engine.dispose()
