"""Beyond one machine (issue 17): two worker processes, each with a media folder of its own (two
"machines"), one PostgreSQL database and one bucket, publish a photo album that a third process
(the web side, here the test) received; neither worker ever saw the web side's folder. And a
video sent to YouTube in resumable chunks by a worker on another machine, each chunk read from
the bucket by range as it is sent: the video never lands on that machine's disk."""

from __future__ import annotations

import hashlib
import io
import os
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import Publication, PublicationStatus, PublishAttempt, Role
from publisher.models import User as UserModel
from publisher.services.media import upload_media
from publisher.storage.s3 import S3Storage
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.adapters.conftest import real_mp4
from tests.fakes.youtube import serve as youtube_fake
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control
from tests.storage.test_s3_install import _s3_env
from tests.worker.procs import start_worker, stop, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.postgresql_only]


def _photo(i: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (60 + i, 40), (40 * i, 90, 160)).save(buf, "PNG")
    return buf.getvalue()


def test_two_workers_on_other_machines_publish_an_album_from_the_bucket(
        s3_server, test_env, clock, make_user, tmp_path: Path):  # type: ignore[no-untyped-def]
    clock.frozen = False  # worker processes run on real time
    env = _s3_env(s3_server, test_env, tmp_path / "web-media")
    web = build_core(load_settings(env), clock=clock)
    try:
        op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
        photos = [_photo(i) for i in range(3)]
        with web.sessions.begin() as s:
            author = s.get(UserModel, op.id)
            assert author is not None
            assets = [upload_media(web, s, author, io.BytesIO(p), f"{i}.png")
                      for i, p in enumerate(photos)]
            ids, keys = [a.id for a in assets], [a.path for a in assets]
        accounts = [f"album{i}" for i in range(8)]
        channels = [sandbox_channel(web, op, a) for a in accounts]
        for a in accounts:
            set_control(web, a, delay=0.5)  # long enough for both workers to take a share
        folders = [tmp_path / f"machine-{n}" for n in (1, 2)]
        workers = [start_worker({**env, "WARTA_MEDIA_DIR": str(f), "WARTA_POLL_SECONDS": "0.2",
                                 "WARTA_WORKER_THREADS": "2"}, tmp_path / f"w{n}.log")
                   for n, f in enumerate(folders)]
        try:
            approved_post(web, op, ap, channels, media=ids, body="Album kegiatan",
                          when=clock() + timedelta(seconds=2))

            def published() -> int:
                with web.sessions() as s:
                    return s.execute(select(func.count()).select_from(Publication).where(
                        Publication.status == PublicationStatus.PUBLISHED)).scalar_one()
            wait_for(lambda: published() == 8, 120, "eight publications", interval=0.3)
        finally:
            for w in workers:
                stop(w)
        with web.sessions() as s:
            by_worker = Counter(s.execute(select(PublishAttempt.worker)).scalars())
        assert len(by_worker) == 2, dict(by_worker)  # both machines published
        for a in accounts:
            [record] = outbox_records(web, a)
            assert len(record["media"]) == 3
            sent = sorted((Path(web.settings.sandbox_outbox) / a / "media").iterdir())
            assert sorted(p.read_bytes() for p in sent) == sorted(photos)
        for folder in folders:  # each machine read the album from the bucket into its cache
            assert [(folder / k).read_bytes() for k in keys] == photos
    finally:
        web.engine.dispose()


CHUNK = 256 * 1024  # YouTube's smallest chunk: a small video still goes in several


def test_a_worker_on_another_machine_sends_a_chunked_video_from_the_bucket_by_range(
        s3_server, test_env, clock, make_user, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The real worker (``run_once``, in this process: a worker process would only add start
    time) of a machine with its own folder publishes a video the web side uploaded."""
    ranges: list[tuple[int, int]] = []
    read_range = S3Storage.read_range

    def spy(self: S3Storage, key: str, start: int, length: int) -> bytes:
        ranges.append((start, length))
        return read_range(self, key, start, length)

    monkeypatch.setattr(S3Storage, "read_range", spy)
    with contextmanager(youtube_fake)() as yt:
        env = _s3_env(s3_server, test_env, tmp_path / "web-media",
                      WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token",
                      WARTA_YOUTUBE_CHUNK_SIZE=str(CHUNK))
        web = build_core(load_settings(env), clock=clock)
        folder = tmp_path / "worker-machine"
        worker = build_core(load_settings({**env, "WARTA_MEDIA_DIR": str(folder)}), clock=clock)
        try:
            op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
            video = real_mp4(320, 240, seconds=2) + os.urandom(3 * CHUNK)
            media_id = e2e.upload(web, op, video, "rapat.mp4")
            channel = e2e.yt_channel(web, op, yt)
            pub_id = e2e.approved(web, op, ap, channel, body="Rekaman rapat.", media=[media_id],
                                  title="Rapat", options={"made_for_kids": False})
            assert run_once(worker) == 1
            pub = e2e.publication(web, pub_id)
            assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
        finally:
            worker.engine.dispose()
            web.engine.dispose()
        stored = yt.videos[str(pub.external_id)]
        assert stored["sha256"] == hashlib.sha256(video).hexdigest()  # every byte, in order
        puts = yt.calls("/upload/youtube/v3/videos", "PUT")
        chunks = [(o, min(CHUNK, len(video) - o)) for o in range(0, len(video), CHUNK)]
        assert len(puts) == len(chunks) >= 4
        # each chunk read from the bucket as it was sent, once; nothing downloaded whole
        assert ranges == chunks
        assert not [p for p in folder.rglob("*") if p.is_file()], "the video stayed in the bucket"
