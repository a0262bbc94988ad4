"""Citizens' comments on Instagram through instagrapi (the private API, platform
``instagram``; issue 19): the real instagrapi client against the local Instagram fake, pages
by ``next_min_id``, replies inline and beyond, and collection by the real worker."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters.base import AdapterContext
from adapters.instagram import InstagramAdapter
from publisher.models import CitizenComment, Post, Publication, PublicationStatus
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.adapters.test_comments import read_all
from tests.fakes.instagram import FakeInstagram, without_pacing


@pytest.fixture
def media(fig: FakeInstagram, monkeypatch) -> str:  # type: ignore[no-untyped-def]
    without_pacing(monkeypatch)
    m = fig._media(1, "Bansos tahap 2 cair.", [], "feed")
    fig.medias.insert(0, m)
    return str(m["pk"])


def adapter(fig: FakeInstagram, state: dict | None = None) -> InstagramAdapter:
    return InstagramAdapter(AdapterContext(
        credentials={"sessionid": fig.sessionid}, base_url=fig.url, timeout=5,
        state=state if state is not None else {}, now=lambda: datetime.now(UTC)))


def test_comments_and_every_reply_in_pages(fig: FakeInstagram, media: str) -> None:
    fig.comments_page, fig.preview_children = 2, 1
    first = fig.add_comment(media, "Kapan cair di RT 3?")
    replies = [fig.add_comment(media, f"Sama, belum {i}", parent=first,
                               user=("7002", "budi.s", "")) for i in range(3)]
    rest = [fig.add_comment(media, f"komentar {i}") for i in range(3)]
    got = read_all(adapter(fig), media)
    assert [c.id for c in got] == [first, *replies, *rest], "no gap, no repeat, replies kept"
    by = {c.id: c for c in got}
    assert by[first].parent_id is None and by[first].text == "Kapan cair di RT 3?"
    assert by[first].author_name == "Warga Kota" and by[first].author_handle == "@warga_kota"
    assert by[first].created_at == datetime.fromtimestamp(1_781_060_400, UTC)
    assert {by[r].parent_id for r in replies} == {first}
    assert by[replies[0]].author_name is None, "an empty full name is no name"
    pages = fig.calls(f"/api/v1/media/{media}_{fig.uid}/comments/", "GET")
    assert [r.query.get("min_id") for r in pages if "inline" not in r.path] == [None, "2"]
    assert len(fig.calls("/inline_child_comments/", "GET")) == 1, \
        "only the comment with more replies than shown asks for them"
    assert fig.unknown == []


def test_the_worker_collects_instagram_comments(core_with, fig: FakeInstagram, media: str,  # type: ignore[no-untyped-def]
                                                people, clock) -> None:
    op = people[0]
    core = core_with(WARTA_INSTAGRAM_API_URL=fig.url)
    ch = e2e.channel(core, op, "instagram", {"sessionid": fig.sessionid})
    now = clock.now
    with core.sessions.begin() as s:  # published earlier (publishing has its own tests)
        post = Post(unit_id=op.unit_id, author_id=op.id, body="Bansos tahap 2 cair.",
                    status="approved", overrides={}, created_at=now, updated_at=now)
        s.add(post)
        s.flush()
        s.add(Publication(post_id=post.id, channel_id=ch, status=PublicationStatus.PUBLISHED,
                          scheduled_at=now, external_id=media, published_at=now,
                          created_at=now, updated_at=now))
    fig.add_comment(media, "Terima kasih infonya")
    clock.advance(minutes=11)
    run_once(core)
    with core.sessions() as s:
        (row,) = s.execute(select(CitizenComment)).scalars()
    assert (row.platform, row.text, row.author_handle) == ("instagram",
                                                            "Terima kasih infonya",
                                                            "@warga_kota")
