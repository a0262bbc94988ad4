"""Helpers for the end-to-end adapter tests (``test_end_to_end_*``, ``test_post_types_*``):
real services to create channels, media and approved posts, and the real worker
(``run_once``) driven by the test clock until the publication settles. Nothing sleeps; poll
jobs run because the clock moves. Their fixtures (cores wired to the fakes, the fakes, an
operator and an approver) live in ``tests/adapters/conftest.py``."""

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
from publisher.worker import run_once
from tests.adapters.conftest import PUBLIC_URL, real_mp4
from tests.fakes import telegram as tg_fake
from tests.helpers import approved_post

S = PublicationStatus
#: States the worker has not finished with yet (a retry or a poll job is still due).
UNSETTLED = (S.QUEUED, S.PUBLISHING)
__all__ = ["PUBLIC_URL", "S", "UNSETTLED", "approved_post"]  # and the functions below


def channel(core: Core, user: User, platform: str, credentials: dict[str, Any], *,
            name: str | None = None) -> int:
    """Connect a channel through the service (which checks the account with the fake)."""
    with core.sessions.begin() as s:
        return channel_svc.create_channel(core, s, s.get(User, user.id), platform=platform,
                                          name=name or f"{platform} uji",
                                          credentials=credentials).id


def fb_channel(core: Core, user: User, graph: Any) -> int:
    return channel(core, user, "facebook", {"page_id": graph.page_id,
                                            "access_token": graph.page_token})


def published_on_facebook(core: Core, people: tuple[User, User], graph: Any,
                          body: str = "Pendaftaran bansos dibuka.") -> tuple[int, Publication]:
    """A Facebook channel and one post on it, approved and published by the real worker
    (what comment and metrics jobs need to have work)."""
    op, ap = people
    fb = fb_channel(core, op, graph)
    approved_post(core, op, ap, [fb], body=body)
    run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
    assert pub.status == PublicationStatus.PUBLISHED
    return fb, pub


def ig_graph_channel(core: Core, user: User, graph: Any) -> int:
    """Instagram through the official Graph API (platform ``instagram_graph``)."""
    return channel(core, user, "instagram_graph", {"ig_user_id": graph.ig_user_id,
                                                   "access_token": graph.page_token})


def x_channel(core: Core, user: User, fx: Any, **extra: Any) -> int:
    """An X channel with the fake's current tokens; ``extra`` adds e.g. ``expires_at``."""
    return channel(core, user, "x", {"client_id": fx.client_id,
                                     "client_secret": fx.client_secret,
                                     "access_token": fx.access_token,
                                     "refresh_token": fx.refresh_token, **extra})


def tg_channel(core: Core, user: User) -> int:
    return channel(core, user, "telegram", {"bot_token": tg_fake.TOKEN,
                                            "channel": "@diskominfo_test"})


def yt_channel(core: Core, user: User, yt: Any, *, name: str | None = None) -> int:
    return channel(core, user, "youtube", {"client_id": yt.client_id,
                                           "client_secret": yt.client_secret,
                                           "refresh_token": yt.refresh_token}, name=name)


def upload(core: Core, user: User, data: bytes, filename: str) -> int:
    """Put a file in the media library; returns its id."""
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), io.BytesIO(data),
                                      filename).id


def photo(core: Core, user: User, n: int = 0, size: tuple[int, int] = (1080, 1080)) -> int:
    """A distinct PNG per ``n`` (the media library deduplicates identical files)."""
    buf = io.BytesIO()
    Image.new("RGB", size, (10 + 40 * n % 240, 120, 200 - 30 * n % 200)).save(buf, "PNG")
    return upload(core, user, buf.getvalue(), f"foto{n}.png")


def video(core: Core, user: User, size: tuple[int, int] = (1080, 1920), seconds: int = 12) -> int:
    return upload(core, user, real_mp4(*size, seconds=seconds), "video.mp4")


def approved(core: Core, author: User, approver: User, channel_id: int, *, body: str,
             media: list[int] | None = None, link: str | None = None,
             options: dict[str, Any] | None = None, title: str | None = None) -> int:
    """An approved post for one channel (with that channel's title and options, if given);
    returns its publication id."""
    override = {k: v for k, v in (("title", title), ("options", options)) if v}
    post_id = approved_post(core, author, approver, [channel_id], body=body, media=media,
                            link=link, overrides={str(channel_id): override} if override
                            else None)
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
