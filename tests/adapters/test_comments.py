"""Reading citizens' comments: Facebook's comment edge and YouTube's comment threads against
the fakes (pagination, replies, missing authors, edits, rate limits, quota)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters.base import AdapterContext, IncomingComment
from adapters.errors import RetryLater
from adapters.facebook import FacebookAdapter
from adapters.instagram_graph import InstagramGraphAdapter
from adapters.youtube import YouTubeAdapter
from tests.fakes.youtube import FakeYouTube, serve

NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def fb(fake, **settings: str) -> FacebookAdapter:  # type: ignore[no-untyped-def]
    return FacebookAdapter(AdapterContext(
        credentials={"page_id": fake.page_id, "access_token": fake.page_token},
        base_url=fake.url + "/v25.0", timeout=5, settings=settings, now=lambda: NOW))


def read_all(adapter, ext: str) -> list[IncomingComment]:  # type: ignore[no-untyped-def]
    out: list[IncomingComment] = []
    cursor = None
    for _ in range(50):
        page = adapter.list_comments(ext, cursor)
        out.extend(page.comments)
        cursor = page.next_cursor
        if cursor is None:
            return out
    raise AssertionError("never ended")


def test_facebook_reads_every_level_in_pages(graph_fake) -> None:  # type: ignore[no-untyped-def]
    post = graph_fake.add_post(message="Bansos tahap 2")
    first = graph_fake.add_comment(post, "Kapan cair?")
    ids = [first, graph_fake.add_comment(first, "Saya juga belum", author=None)]
    ids += [graph_fake.add_comment(post, f"komentar {i}") for i in range(5)]
    got = read_all(fb(graph_fake, comments_page_size="3"), post)
    assert [c.id for c in got] == ids  # all levels, oldest first, no gap, no repeat
    reply = got[1]
    assert reply.parent_id == first and got[0].parent_id is None
    assert reply.author_name is None and reply.author_handle is None  # `from` absent
    assert got[0].author_name == "Warga Contoh" and got[0].text == "Kapan cair?"
    assert got[0].created_at == datetime(2026, 9, 1, 11, 0, tzinfo=UTC)
    calls = graph_fake.calls("GET", rf"/{post}/comments")
    assert len(calls) == 3
    assert {c.query["filter"] for c in calls} == {"stream"}
    assert "after" not in calls[0].query and calls[1].query["after"]


def test_facebook_cursor_continues_after_new_and_deleted(graph_fake) -> None:  # type: ignore[no-untyped-def]
    post = graph_fake.add_post(message="x")
    a, b, c = (graph_fake.add_comment(post, t) for t in "abc")
    adapter = fb(graph_fake, comments_page_size="2")
    page1 = adapter.list_comments(post, None)
    assert [x.id for x in page1.comments] == [a, b] and page1.next_cursor
    graph_fake.delete_comment(a)
    d = graph_fake.add_comment(post, "d")
    page2 = adapter.list_comments(post, page1.next_cursor)
    assert [x.id for x in page2.comments] == [c, d] and page2.next_cursor is None


def test_facebook_throttle_is_retry_later_for_the_channel(graph_fake) -> None:  # type: ignore[no-untyped-def]
    post = graph_fake.add_post(message="x")
    graph_fake.add_comment(post, "a")
    graph_fake.fail("throttle", path="/comments")
    with pytest.raises(RetryLater) as err:
        fb(graph_fake).list_comments(post, None)
    assert err.value.scope == "channel" and err.value.retry_after == 7 * 60


@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    yield from serve()


def youtube(fake: FakeYouTube, state: dict | None = None, **settings: str) -> YouTubeAdapter:
    return YouTubeAdapter(AdapterContext(
        credentials={"client_id": fake.client_id, "client_secret": fake.client_secret,
                     "refresh_token": fake.refresh_token},
        base_url=fake.url, timeout=5, state=state if state is not None else {},
        settings={"token_url": f"{fake.url}/token", **settings}, now=lambda: NOW))


def test_youtube_threads_newest_first_with_all_replies(yt: FakeYouTube) -> None:
    old = yt.add_thread("vid1", "Jalan rusak di RT 3", published="2026-10-01T01:00:00Z")
    replies = [yt.add_reply(old, f"balasan {i}") for i in range(4)]  # 2 inline, 2 more
    new = yt.add_thread("vid1", "Terima kasih", author=None, channel=None,
                        published="2026-10-01T02:00:00Z")
    yt.add_thread("other", "not this video")
    yt.edit_comment(old, "Jalan rusak di RT 3 dan RT 4")
    got = read_all(youtube(yt, comments_page_size="1"), "vid1")
    assert [c.id for c in got] == [new, old, *replies]
    assert got[0].author_name is None and got[0].author_handle is None
    assert got[1].author_handle == "@ucwarga01"
    assert got[1].text.endswith("RT 4") and got[1].updated_at is not None
    assert got[0].updated_at is None  # never edited
    assert {c.parent_id for c in got[2:]} == {old}
    # the replies beyond the inline ones, read through comments.list one page (of 1) each
    assert len(yt.calls("/youtube/v3/comments", "GET")) == 4


def test_youtube_rate_limit_and_quota(yt: FakeYouTube) -> None:
    yt.add_thread("vid1", "a")
    yt.fail("commentThreads", "too_many")
    yt.retry_after = "30"
    with pytest.raises(RetryLater) as err:
        youtube(yt).list_comments("vid1", None)
    assert err.value.code == "rate_limited" and err.value.retry_after == 30
    # Reading comments leaves the quota of one upload untouched: it waits for the reset.
    state = {"quota": {"day": "2026-10-01", "used": 10_000 - 1600}}
    with pytest.raises(RetryLater) as err:
        youtube(yt, state).list_comments("vid1", None)
    # Warta's own reserve: the job waits, the channel is not paused (the upload it keeps the
    # quota for must still go out).
    assert err.value.code == "quota_reserved" and err.value.scope == "post"
    assert len(yt.calls("/youtube/v3/commentThreads", "GET")) == 1


def ig(fake) -> InstagramGraphAdapter:  # type: ignore[no-untyped-def]
    return InstagramGraphAdapter(AdapterContext(
        credentials={"ig_user_id": fake.ig_user_id, "access_token": fake.page_token},
        base_url=fake.url + "/v25.0", timeout=5, settings={"comments_page_size": "2"},
        now=lambda: NOW))


def test_instagram_comments_with_replies_beyond_the_inline_ones(graph_fake) -> None:  # type: ignore[no-untyped-def]
    media = "17800000000000001"
    graph_fake.objects[media] = {"id": media, "kind": "ig_media"}
    top = graph_fake.add_comment(media, "Kapan dibuka?")
    replies = [graph_fake.add_comment(top, f"balasan {i}", author=None if i == 0 else
                                      ("1", "warga_ig")) for i in range(3)]
    others = [graph_fake.add_comment(media, f"lain {i}") for i in range(2)]
    got = read_all(ig(graph_fake), media)
    assert [c.id for c in got] == [top, *replies, *others]
    assert got[1].author_name is None and got[2].author_handle == "warga_ig"
    assert {c.parent_id for c in got[1:4]} == {top} and got[0].parent_id is None
    assert len(graph_fake.calls("GET", rf"/{top}/replies")) == 1  # the third reply
    graph_fake.fail("ig_throttle", path="/comments")
    with pytest.raises(RetryLater) as err:
        ig(graph_fake).list_comments(media, None)
    assert err.value.scope == "channel"
