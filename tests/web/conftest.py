"""Helpers for UI tests: sandbox channels, posts in a given state, a tiny PNG."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from publisher.models import User
from publisher.services import channels as channel_service
from publisher.services import posts as post_service
from publisher.services.posts import PostInput


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def make_channel(core, units):  # type: ignore[no-untyped-def]
    def make(admin: User, unit: str = "a", name: str = "Dinsos FB", account: str = "dinsos-fb"):
        with core.sessions.begin() as s:
            actor = s.get(User, admin.id)
            ch = channel_service.create_channel(
                core, s, actor, platform="sandbox", name=name,
                credentials={"account": account, "token": "x"}, unit_id=units[unit].id)
            return ch.id
    return make


@pytest.fixture
def make_post(core):  # type: ignore[no-untyped-def]
    def make(author: User, channel_ids: list[int], body: str = "Halo warga", state: str = "draft",
             approver: User | None = None) -> int:
        with core.sessions.begin() as s:
            actor = s.get(User, author.id)
            post = post_service.create_post(core, s, actor, PostInput(body=body,
                                                                      channels=channel_ids))
            if state in ("submitted", "approved"):
                post_service.submit_post(core, s, actor, post.id)
            if state == "approved":
                post_service.approve_post(core, s, s.get(User, approver.id), post.id)
            return post.id
    return make


@pytest.fixture
def app(core):  # type: ignore[no-untyped-def]
    """The shared app with CSRF off, so form tests need not scrape tokens; CSRF itself is
    tested on an app with it on (test_csrf_enforced)."""
    from web.app import create_app

    application = create_app(core=core)
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return application
