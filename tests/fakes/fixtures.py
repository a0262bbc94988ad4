"""The local fake platform servers as fixtures, for every test (registered in tests/conftest.py):
each test that names one gets a fresh server on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import instagram as ig_fake
from tests.fakes import telegram as tg_fake
from tests.fakes import tiktok as tiktok_fake
from tests.fakes import x as x_fake
from tests.fakes import youtube as yt_fake
from tests.fakes.graph import graph_fake  # noqa: F401 - fixture, re-exported
from tests.fakes.threads import threads_fake  # noqa: F401 - fixture, re-exported

__all__ = ["fig", "ft", "ftk", "fx", "fy", "graph_fake", "threads_fake"]


@pytest.fixture
def fx() -> Iterator[x_fake.FakeX]:
    yield from x_fake.serve()


@pytest.fixture
def fy() -> Iterator[yt_fake.FakeYouTube]:
    yield from yt_fake.serve()


@pytest.fixture
def ft() -> Iterator[tg_fake.FakeTelegram]:
    yield from tg_fake.serve()


@pytest.fixture
def fig() -> Iterator[ig_fake.FakeInstagram]:
    """Instagram's private API (instagrapi, platform ``instagram``)."""
    yield from ig_fake.serve()


@pytest.fixture
def ftk() -> Iterator[tiktok_fake.FakeTikTok]:
    yield from tiktok_fake.serve()
