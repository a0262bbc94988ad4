"""Helpers for the post-type end-to-end tests: real services to create channels, media and
approved posts, and the real worker (``run_once``) driven by the test clock until the
publication settles. Nothing sleeps; poll jobs run because the clock moves."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from postqueue.models import Job
from publisher.core import Core
from publisher.models import Channel, Publication, PublicationStatus, User
from publisher.services import channels as channel_svc
from publisher.services import media as media_svc
from publisher.services import posts as post_svc
from publisher.worker import run_once
from tests.adapters.conftest import tiny_mp4

S = PublicationStatus
#: States the worker has not finished with yet (a retry or a poll job is still due).
UNSETTLED = (S.QUEUED, S.PUBLISHING)


def channel(core: Core, user: User, platform: str, credentials: dict[str, Any]) -> int:
    with core.sessions.begin() as s:
        return channel_svc.create_channel(core, s, s.get(User, user.id), platform=platform,
                                          name=f"{platform} uji", credentials=credentials).id


def photo(core: Core, user: User, n: int = 0, size: tuple[int, int] = (1080, 1080)) -> int:
    """A distinct PNG per ``n`` (the media library deduplicates identical files)."""
    buf = io.BytesIO()
    Image.new("RGB", size, (10 + 40 * n % 240, 120, 200 - 30 * n % 200)).save(buf, "PNG")
    buf.seek(0)
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), buf, f"foto{n}.png").id


def video(core: Core, user: User, size: tuple[int, int] = (1080, 1920), seconds: int = 12) -> int:
    data = tiny_mp4(*size, seconds=seconds)
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), io.BytesIO(data),
                                      "video.mp4").id


def approved(core: Core, author: User, approver: User, channel_id: int, *, body: str,
             media: list[int] | None = None, link: str | None = None,
             options: dict[str, Any] | None = None) -> int:
    """Create, submit and approve a post for one channel; returns its publication id."""
    overrides = {str(channel_id): {"options": options}} if options else None
    with core.sessions.begin() as s:
        user = s.get(User, author.id)
        post = post_svc.create_post(core, s, user, post_svc.PostInput(
            body=body, channels=[channel_id], media=media or [], link=link,
            overrides=overrides))
        post_svc.submit_post(core, s, user, post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, approver.id), post_id)
    with core.sessions() as s:
        return s.execute(select(Publication.id).where(Publication.post_id == post_id)
                         ).scalar_one()


def publication(core: Core, pub_id: int) -> Publication:
    with core.sessions() as s:
        return s.get(Publication, pub_id)


def channel_row(core: Core, channel_id: int) -> Channel:
    with core.sessions() as s:
        return s.get(Channel, channel_id)


def job_of(core: Core, pub: Publication) -> Job:
    with core.sessions() as s:
        return s.get(Job, pub.job_id)


def run_until_settled(core: Core, clock: Any, pub_id: int, *, rounds: int = 12,
                      step_seconds: float = 30) -> Publication:
    """``run_once`` then move the clock, until the publication leaves queued/publishing."""
    for _ in range(rounds):
        run_once(core)
        pub = publication(core, pub_id)
        if pub.status not in UNSETTLED:
            return pub
        clock.advance(seconds=step_seconds)
    raise AssertionError(f"publication {pub_id} still {pub.status} after {rounds} rounds: "
                         f"{pub.error_en}")
