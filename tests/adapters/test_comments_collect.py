"""Collecting citizens' comments through the real worker against the Graph and YouTube
fakes: sources on the metrics schedule, pages stored with their cursor, no gap or duplicate
across pages, a platform's throttle and a restart; edits update, deletions mark."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from publisher.models import (
    CitizenComment,
    CommentSource,
    CommentStatus,
    Publication,
)
from publisher.worker import comments as collect
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.helpers import approved_post, published_on


def rows(core) -> list[CitizenComment]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(CitizenComment).order_by(CitizenComment.id)).scalars())


@pytest.fixture
def fb_core(core_with, graph_fake):  # type: ignore[no-untyped-def]
    return core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0",
                     WARTA_FACEBOOK_COMMENTS_PAGE_SIZE="2")


def test_facebook_collection_is_incremental_and_survives_throttle_and_restart(  # type: ignore[no-untyped-def]
        fb_core, core_with, clock, people, graph_fake, monkeypatch):
    core = fb_core
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    first = graph_fake.add_comment(pub.external_id, "Kapan bansos cair?")
    ids = [first, graph_fake.add_comment(first, "Saya juga menunggu", author=None)]
    ids += [graph_fake.add_comment(pub.external_id, f"komentar {i}") for i in range(4)]

    monkeypatch.setattr(collect, "MAX_PAGES_PER_JOB", 1)
    clock.advance(minutes=11)
    run_once(core)  # the sweep makes the source; the job reads one page and stops
    assert [r.external_id for r in rows(core)] == ids[:2]
    with core.sessions() as s:
        src = s.execute(select(CommentSource)).scalar_one()
        assert src.cursor and src.pass_started_at is not None
        saved_cursor = src.cursor["after"]

    graph_fake.fail("throttle", path="/comments")
    run_once(core)  # Meta throttles: the job waits the platform's time, the cursor stays
    with core.sessions() as s:
        assert s.execute(select(CommentSource)).scalar_one().cursor["after"] == saved_cursor
    assert len(rows(core)) == 2

    monkeypatch.setattr(collect, "MAX_PAGES_PER_JOB", 40)
    restarted = core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0",
                          WARTA_FACEBOOK_COMMENTS_PAGE_SIZE="2")
    clock.advance(minutes=10)
    run_once(restarted)
    got = rows(restarted)
    assert [r.external_id for r in got] == ids  # no gap, no duplicate
    # the pass began before the restart: what its first page stored is not "gone"
    assert all(r.deleted_at is None for r in got)
    reads = graph_fake.calls("GET", rf"/{pub.external_id}/comments")
    assert [r.query.get("after") for r in reads[1:3]] == [saved_cursor, saved_cursor]
    reply = got[1]
    assert reply.parent_external_id == first and reply.author_name is None
    assert got[0].author_name == "Warga Contoh" and got[0].status == CommentStatus.NEW
    assert got[0].origin_unit_id == got[0].unit_id and got[0].due_at is not None
    with core.sessions() as s:
        src = s.execute(select(CommentSource)).scalar_one()
        assert src.cursor is None and src.last_complete_at is not None
        assert src.next_collect_at is not None and src.stage == 1  # the 1 h step

    # An hour after publishing: the next pass sees the edit and the deletion.
    graph_fake.edit_comment(ids[2], "komentar 0 (diubah)")
    graph_fake.delete_comment(ids[3])
    new = graph_fake.add_comment(pub.external_id, "komentar baru")
    clock.advance(hours=1)
    run_once(restarted)
    by_id = {r.external_id: r for r in rows(restarted)}
    assert len(by_id) == 7 and new in by_id
    assert by_id[ids[2]].text == "komentar 0 (diubah)" and by_id[ids[2]].edited_at is not None
    assert by_id[ids[3]].deleted_at is not None
    assert all(by_id[i].deleted_at is None for i in ids if i != ids[3])


def test_a_comment_with_nul_or_a_lone_surrogate_is_stored_and_the_rest_still_collected(  # type: ignore[no-untyped-def]
        fb_core, clock, people, graph_fake):
    """PostgreSQL refuses NUL in text and no driver encodes a lone surrogate: one such
    comment (or author name) is stored without them, and the comments after it still come."""
    core = fb_core
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    odd = graph_fake.add_comment(pub.external_id, "Bansos\x00 belum \ud800cair",
                                 author=("wx", "Warga\x00 X"))
    after = graph_fake.add_comment(pub.external_id, "Sama, belum cair")
    clock.advance(minutes=11)
    run_once(core)
    by_id = {r.external_id: r for r in rows(core)}
    assert set(by_id) == {odd, after}
    assert by_id[odd].text == "Bansos belum ?cair" and by_id[odd].author_name == "Warga X"


@pytest.fixture
def yt_core(core_with, yt):  # type: ignore[no-untyped-def]
    return core_with(WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token",
                     WARTA_YOUTUBE_COMMENTS_PAGE_SIZE="2")


@pytest.fixture
def yt():  # type: ignore[no-untyped-def]
    from tests.fakes.youtube import serve

    yield from serve()


def test_youtube_stops_at_the_first_known_comment_without_a_gap_after_restart(  # type: ignore[no-untyped-def]
        yt_core, core_with, clock, people, yt, monkeypatch):
    core, (op, _ap) = yt_core, people
    channel_id = e2e.yt_channel(core, op, yt)
    now = clock.now
    published_on(core, op, channel_id, "vid1", body="Video")
    old = [yt.add_thread("vid1", f"lama {i}") for i in range(3)]
    yt.add_reply(old[0], "balasan")
    clock.advance(minutes=11)
    run_once(core)
    assert len(rows(core)) == 4

    newer = [yt.add_thread("vid1", f"baru {i}") for i in range(3)]  # newest last
    monkeypatch.setattr(collect, "MAX_PAGES_PER_JOB", 1)
    clock.advance(hours=1)
    yt.requests.clear()
    run_once(core)  # page 1 of the pass: the two newest; the job ends (its page bound)
    assert {r.external_id for r in rows(core)} >= set(newer[1:])
    monkeypatch.setattr(collect, "MAX_PAGES_PER_JOB", 40)
    restarted = core_with(WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token",
                          WARTA_YOUTUBE_COMMENTS_PAGE_SIZE="2")
    run_once(restarted)  # continues from the page token: the third new one is no gap
    got = rows(restarted)
    assert sorted(r.external_id for r in got if r.parent_external_id is None) == sorted(
        old + newer)
    with restarted.sessions() as s:
        assert s.execute(select(func.count(CitizenComment.id))).scalar() == 7
        assert s.execute(select(CommentSource)).scalar_one().cursor is None
    threads = yt.calls("/youtube/v3/commentThreads", "GET")
    assert len(threads) == 2  # stopped at the first known thread, older pages never read
    assert threads[1].query["pageToken"]
    # newest first has no deletion signal: nothing is marked deleted by a partial listing
    assert all(r.deleted_at is None for r in got)
    assert clock.now - now < timedelta(days=1)


def test_a_refused_listing_follows_the_schedule_and_ends(fb_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = fb_core, people
    fb = e2e.fb_channel(core, op, graph_fake)
    approved_post(core, op, ap, [fb], body="Pengumuman")
    run_once(core)
    graph_fake.fail("invalid", path="/comments", times=None)
    clock.advance(minutes=11)
    run_once(core)
    with core.sessions() as s:
        src = s.execute(select(CommentSource)).scalar_one()
        pub = s.get(Publication, src.publication_id)
        assert src.last_error and "invalid_parameter" in src.last_error
        # not every hour for ever: the next step at least an hour on (6 h after publishing)
        assert src.next_collect_at == pub.published_at + timedelta(hours=6)
    for _ in range(8):
        clock.advance(days=5)
        run_once(core)
    with core.sessions() as s:
        assert s.execute(select(CommentSource)).scalar_one().next_collect_at is None


def test_reading_stops_at_the_upload_reserve_without_pausing_the_channel(  # type: ignore[no-untyped-def]
        yt_core, clock, people, yt):
    """Comment reads never spend the quota of the next upload — and stopping them must not
    hold that upload: the wait is the job's, the channel is not paused."""
    from adapters._google import pacific_day
    from publisher.models import Channel

    core, (op, _ap) = yt_core, people
    channel_id = e2e.yt_channel(core, op, yt)
    published_on(core, op, channel_id, "vid1", body="Video")
    yt.add_thread("vid1", "Kapan cair?")
    clock.advance(minutes=11)
    with core.sessions.begin() as s:
        ch = s.get_one(Channel, channel_id)
        ch.state = {**(ch.state or {}),
                    "quota": {"day": pacific_day(clock.now), "used": 10_000 - 1600}}
    run_once(core)
    assert rows(core) == [] and yt.calls("/youtube/v3/commentThreads", "GET") == []
    with core.sessions() as s:
        assert s.get_one(Channel, channel_id).paused_until is None
        src = s.execute(select(CommentSource)).scalar_one()
        assert src.cursor is None and src.next_collect_at is not None  # still due, no gap
