"""Comment collection leaves Meta's budget to publishing (issue 19): reads stop before the
next page once the usage Meta reported on the channel's last call is at or above
``WARTA_COMMENTS_MAX_USAGE_PERCENT``; a publish on the channel still goes out; the source keeps
its cursor, so the reads resume without a gap when the usage falls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from adapters._graph import usage_percent
from adapters.base import API_USAGE
from postqueue.models import Job
from publisher.jobs import COLLECT_COMMENTS
from publisher.models import Channel, CitizenComment, CommentSource, Publication
from publisher.worker import comments as collect
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.helpers import approved_post, published_on


def stored(core) -> list[str]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(CitizenComment.external_id)
                              .order_by(CitizenComment.id)).scalars())


def comment_reads(graph, external_id: str) -> list:  # type: ignore[no-untyped-def]
    return graph.calls("GET", rf"/{external_id}/comments")


@pytest.fixture
def fb_core(core_with, graph_fake):  # type: ignore[no-untyped-def]
    return core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0",
                     WARTA_FACEBOOK_COMMENTS_PAGE_SIZE="2")


def test_at_80_percent_reads_stop_before_the_next_page_publishing_goes_on_and_resume_without_a_gap(  # type: ignore[no-untyped-def]
        fb_core, clock, people, graph_fake):
    core, (op, ap) = fb_core, people
    fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    with core.sessions() as s:  # the publish call's answer is recorded too (12%)
        assert s.get_one(Channel, fb).state[API_USAGE]["pct"] == 12
    ids = [graph_fake.add_comment(pub.external_id, f"komentar {i}") for i in range(6)]

    # page 1's answer says 80% (the metrics read before it still 12%): no page 2
    graph_fake.usage_model = lambda rec: 80 if rec.path.endswith("/comments") else None
    clock.advance(minutes=11)
    read_at = clock.now
    run_once(core)
    reads = comment_reads(graph_fake, pub.external_id)
    assert len(reads) == 1
    assert stored(core) == ids[:2]
    with core.sessions() as s:
        src = s.execute(select(CommentSource)).scalar_one()
        cursor = src.cursor
        assert cursor and cursor["after"]
        assert src.next_collect_at is not None and src.next_collect_at.replace(
            tzinfo=UTC) <= clock.now  # still due: not an error, no step of the schedule
        assert src.last_error is None
        channel = s.get_one(Channel, fb)
        assert channel.paused_until is None  # publishing is not held
        assert channel.state[API_USAGE]["pct"] == 80
        job = s.execute(select(Job).where(Job.kind == COLLECT_COMMENTS)).scalar_one()
        assert job.run_at.replace(tzinfo=UTC) == read_at + timedelta(minutes=30)

    # A publish on the same channel at 80% goes out (the guard is comment collection's).
    graph_fake.usage_model, graph_fake.usage_pct = None, 80
    approved_post(core, op, ap, [fb], body="Jadwal posyandu pekan ini.")
    run_once(core)
    with core.sessions() as s:
        pubs = s.execute(select(Publication).order_by(Publication.id)).scalars().all()
        assert [p.status for p in pubs] == ["published", "published"]
    assert len(comment_reads(graph_fake, pub.external_id)) == 1  # and no read meanwhile

    # The usage falls; the job comes back 30 minutes on and reads on from the saved cursor.
    graph_fake.usage_pct = 30
    clock.advance(minutes=31)
    run_once(core)
    reads = comment_reads(graph_fake, pub.external_id)
    assert [r.query.get("after") for r in reads[1:2]] == [cursor["after"]]
    assert len(reads) == 3  # pages 2 and 3
    assert stored(core) == ids  # no gap, no duplicate
    with core.sessions() as s:
        src = s.execute(select(CommentSource).where(
            CommentSource.publication_id == pub.id)).scalar_one()
        assert src.cursor is None and src.last_complete_at is not None


def test_below_the_threshold_every_page_is_read(fb_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core = fb_core
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    ids = [graph_fake.add_comment(pub.external_id, f"komentar {i}") for i in range(5)]
    graph_fake.usage_pct = 74
    clock.advance(minutes=11)
    run_once(core)
    assert len(comment_reads(graph_fake, pub.external_id)) == 3  # 2 + 2 + 1
    assert stored(core) == ids


def test_the_threshold_is_the_setting(core_with, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core = core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0",
                     WARTA_FACEBOOK_COMMENTS_PAGE_SIZE="2",
                     WARTA_COMMENTS_MAX_USAGE_PERCENT="60")
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    ids = [graph_fake.add_comment(pub.external_id, f"komentar {i}") for i in range(5)]
    # "at or above": 60 stops at 60 (the metrics read before it: 12%)
    graph_fake.usage_model = lambda rec: 60 if rec.path.endswith("/comments") else None
    clock.advance(minutes=11)
    run_once(core)
    assert len(comment_reads(graph_fake, pub.external_id)) == 1
    assert stored(core) == ids[:2]


def test_a_high_figure_from_publishing_holds_the_first_page_and_an_old_one_does_not(  # type: ignore[no-untyped-def]
        fb_core, clock, people, graph_fake):
    """The figure of any call (publishing's, the metrics read's) counts as much as a read's;
    one older than the hold lets one page through (its answer renews the figure)."""
    core = fb_core
    graph_fake.usage_pct = 90
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    graph_fake.add_comment(pub.external_id, "komentar")
    clock.advance(minutes=11)
    run_once(core)
    assert comment_reads(graph_fake, pub.external_id) == []
    clock.advance(minutes=29)  # held to 30 minutes after the metrics read's 90% (at 11)
    run_once(core)
    assert comment_reads(graph_fake, pub.external_id) == []
    clock.advance(minutes=2)
    run_once(core)
    assert len(comment_reads(graph_fake, pub.external_id)) == 1
    assert len(stored(core)) == 1


@pytest.fixture
def ig_core(core_with, graph_fake):  # type: ignore[no-untyped-def]
    return core_with(WARTA_INSTAGRAM_GRAPH_API_URL=graph_fake.url + "/v25.0",
                     WARTA_INSTAGRAM_GRAPH_COMMENTS_PAGE_SIZE="2")


def test_instagram_reads_stop_at_80_percent_too(ig_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, _ap) = ig_core, people
    channel_id = e2e.ig_graph_channel(core, op, graph_fake)
    media = graph_fake.new_id()
    graph_fake.objects[media] = {"id": media, "kind": "ig_media", "caption": ""}
    ids = [graph_fake.add_comment(media, f"komentar {i}") for i in range(5)]
    published_on(core, op, channel_id, media, body="Foto")
    graph_fake.usage_pct = 80
    clock.advance(minutes=11)
    run_once(core)
    assert len(comment_reads(graph_fake, media)) == 1
    assert stored(core) == ids[:2]
    graph_fake.usage_pct = 10
    clock.advance(minutes=31)
    run_once(core)
    assert len(comment_reads(graph_fake, media)) == 3
    assert stored(core) == ids


def test_usage_percent_is_the_highest_figure_of_any_header() -> None:
    assert usage_percent({"X-App-Usage": '{"call_count": 5, "total_time": 41}',
                          "X-Business-Use-Case-Usage": '{"1": [{"type": "pages", '
                          '"call_count": 7, "total_cputime": 3, "total_time": 3, '
                          '"estimated_time_to_regain_access": 0}]}'}) == 41
    assert usage_percent({"X-Page-Usage": '{"call_count": 2}',
                          "X-Business-Use-Case-Usage": '{"1": [{"call_count": 20, '
                          '"estimated_time_to_regain_access": 4}]}'}) == 100  # throttled
    assert usage_percent({"X-App-Usage": "not json"}) is None
    assert usage_percent({}) is None


def test_the_hold_lasts_to_metas_regain_time_when_it_gives_one(fb_core, clock) -> None:  # type: ignore[no-untyped-def]
    at = clock.now
    state = {API_USAGE: {"pct": 100, "at": at.isoformat(), "regain_s": 3600}}
    assert collect._headroom(fb_core, state) == at + timedelta(hours=1)
    clock.advance(minutes=61)
    assert collect._headroom(fb_core, state) is None
    state[API_USAGE] = {"pct": 100, "at": clock.now.isoformat(), "regain_s": 420}
    assert collect._headroom(fb_core, state) == clock.now + timedelta(minutes=7)
    state[API_USAGE] = {"pct": 75, "at": clock.now.isoformat(), "regain_s": 0}
    assert collect._headroom(fb_core, state) == clock.now + timedelta(minutes=30)
    state[API_USAGE] = {"pct": 50, "at": clock.now.isoformat(), "regain_s": 0}
    assert collect._headroom(fb_core, state) is None
    state[API_USAGE] = {"pct": 75, "at": "garbage"}
    assert collect._headroom(fb_core, state) is None
    assert isinstance(at, datetime)
