"""Jobs that share a channel's state save only their own changes (review finding: the
comment and metrics jobs wrote back a stale copy of the whole dict and erased a Reel's
crash-safety record, ``fb_uploads``, saved by the publish job meanwhile)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import update

from adapters.base import API_USAGE
from adapters.facebook import FacebookAdapter
from postqueue import ClaimedJob
from publisher.models import Channel, User
from publisher.services import channels as channel_svc
from publisher.services.channel_state import merge, save_changes
from publisher.worker import comments as collect
from publisher.worker import metrics
from publisher.worker.publish import _Call
from tests.adapters import worker_e2e as e2e
from tests.fakes import telegram as tg_fake

T0 = datetime(2026, 6, 10, 3, 0, tzinfo=UTC)


def job(kind: str, payload: dict[str, Any]) -> ClaimedJob:
    return ClaimedJob(0, kind, payload, 1, T0, None, "test", T0 + timedelta(minutes=5))


def state_of(core, channel_id: int) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return dict(s.get_one(Channel, channel_id).state or {})


@pytest.fixture
def fb_published(core_with, graph_fake, people):  # type: ignore[no-untyped-def]
    """A Facebook channel with one published post (so comment and metrics jobs have work)."""
    core = core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0")
    fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    with core.sessions.begin() as s:  # something the slow job may not erase
        s.get_one(Channel, fb).state = {**state_of(core, fb), "reels_log": ["2026-06-10T02:00"]}
    return core, fb, pub.id


def remember_reel_while(core, fb: int, pub_id: int, method: str, run_job,  # type: ignore[no-untyped-def]
                        monkeypatch) -> None:
    """Run ``run_job`` in a thread; while its adapter waits inside ``method``, a publish
    call of the same channel saves a Reel's upload record through persist_state."""
    entered, release = threading.Event(), threading.Event()
    original = getattr(FacebookAdapter, method)

    def blocked(self, *args: Any, **kw: Any) -> Any:
        entered.set()
        assert release.wait(10)
        return original(self, *args, **kw)

    monkeypatch.setattr(FacebookAdapter, method, blocked)
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run_job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    worker = threading.Thread(target=target)
    worker.start()
    try:
        assert entered.wait(10), "the job never reached the platform call"
        with core.sessions() as s:
            call = _Call.of_channel(core, s.get_one(Channel, fb), job("publish", {}), pub_id)
        adapter = call.adapter
        assert isinstance(adapter, FacebookAdapter)  # its ReelsFlow saves through the call
        adapter.reels._remember("warta-77", {"video_id": "v-77", "phase": "finishing"})
        adapter.reels._count_reel()
    finally:
        release.set()
        worker.join(20)
    assert not errors, errors


def test_comment_job_keeps_the_reel_record_saved_while_it_read(  # type: ignore[no-untyped-def]
        fb_published, clock, monkeypatch):
    core, fb, pub_id = fb_published
    clock.advance(minutes=11)
    assert collect.sweep_comments(core) == 1
    remember_reel_while(core, fb, pub_id, "list_comments", lambda: collect.handle_collect_comments(
        core, job("collect_comments", {"channel_id": fb})), monkeypatch)
    state = state_of(core, fb)
    assert state["fb_uploads"]["warta-77"]["video_id"] == "v-77"
    assert len(state["reels_log"]) == 2  # the older entry and the new reel, both kept


def test_metrics_job_keeps_the_reel_record_saved_while_it_read(  # type: ignore[no-untyped-def]
        fb_published, clock, monkeypatch):
    core, fb, pub_id = fb_published
    clock.advance(hours=2)
    remember_reel_while(core, fb, pub_id, "fetch_metrics", lambda: metrics.handle_collect(
        core, job("collect_metrics", {"channel_id": fb})), monkeypatch)
    state = state_of(core, fb)
    assert state["fb_uploads"]["warta-77"]["video_id"] == "v-77"
    assert len(state["reels_log"]) == 2


def test_quota_spent_by_two_jobs_adds_up(fb_published) -> None:  # type: ignore[no-untyped-def]
    """YouTube's day counter is spent by publish and comment reads alike: neither save
    may replace the other's units (the publish call also sees the comment job's)."""
    core, fb, pub_id = fb_published
    with core.sessions.begin() as s:
        s.get_one(Channel, fb).state = {"quota": {"day": "2026-06-09", "used": 100}}
    with core.sessions() as s:
        call = _Call.of_channel(core, s.get_one(Channel, fb), job("publish", {}), pub_id)
    comments_before = state_of(core, fb)  # the comment job's copy, taken at the same time
    call.state["quota"] = {"day": "2026-06-09", "used": 1700}  # an upload
    call.persist_state()
    with core.sessions.begin() as s:  # the comment job ends: 3 list calls
        save_changes(s, fb, comments_before, {"quota": {"day": "2026-06-09", "used": 103}})
    assert state_of(core, fb)["quota"] == {"day": "2026-06-09", "used": 1703}
    call.state["quota"] = {"day": "2026-06-09", "used": 1701}  # the call's next read: 1 unit
    call.persist_state()
    assert state_of(core, fb)["quota"] == {"day": "2026-06-09", "used": 1704}
    assert call.state["quota"]["used"] == 1704


def test_single_job_changes_and_removals_persist(fb_published) -> None:  # type: ignore[no-untyped-def]
    core, fb, pub_id = fb_published
    with core.sessions() as s:
        call = _Call.of_channel(core, s.get_one(Channel, fb), job("publish", {}), pub_id)
    call.state["username"] = "pemkab"
    del call.state["reels_log"]
    call.persist_state()
    # (``api_usage``: the Graph usage the publish call's answer reported, kept by the client)
    assert {k: v for k, v in state_of(core, fb).items() if k != API_USAGE} == {
        "username": "pemkab"}


def test_reconnect_keeps_state_saved_after_the_request_read_it(  # type: ignore[no-untyped-def]
        xt_core, people) -> None:
    """Reconnecting asks the platform (seconds) and adds what it learnt (Telegram: chat id
    and username) to the row as it is then, not to the copy the request loaded."""
    core, (op, _ap) = xt_core, people
    tg = e2e.tg_channel(core, op)
    with core.sessions.begin() as s:  # the name the channel had before
        s.get_one(Channel, tg).state = {"username": "nama_lama"}
    with core.sessions.begin() as s:
        channel = s.get_one(Channel, tg)
        assert "fb_uploads" not in (channel.state or {})  # the request's copy
        # the row changes after the request loaded it (a publish job saving its record;
        # written through this session so SQLite's single writer allows it)
        s.execute(update(Channel).where(Channel.id == tg).values(
            state={**channel.state, "published": {"warta-5": {"id": "5"}}})
            .execution_options(synchronize_session=False))
        channel_svc.reconnect_channel(core, s, s.get_one(User, op.id), tg,
                                      {"bot_token": tg_fake.TOKEN,
                                       "channel": "@diskominfo_test"})
    state = state_of(core, tg)
    assert state["published"] == {"warta-5": {"id": "5"}}
    assert state["username"] == "diskominfo_test"  # what the platform said is saved too


def test_merge_granularity() -> None:
    fresh = {"fb_uploads": {"warta-1": {"at": "a"}, "warta-2": {"at": "b"}}, "x": 1}
    before = {"fb_uploads": {"warta-1": {"at": "a"}}, "x": 1, "gone": 2}
    after = {"fb_uploads": {"warta-1": {"at": "a"}, "warta-3": {"at": "c"}}, "x": 1}
    assert merge({**fresh, "gone": 2}, before, after) == {
        "fb_uploads": {"warta-1": {"at": "a"}, "warta-2": {"at": "b"}, "warta-3": {"at": "c"}},
        "x": 1}
    # a newer day of a counter wins; an older one does not overwrite it
    day = {"quota": {"day": "2026-06-10", "used": 5}}
    assert merge(day, {"quota": {"day": "2026-06-09", "used": 90}},
                 {"quota": {"day": "2026-06-09", "used": 95}}) == day
    assert merge({"quota": {"day": "2026-06-09", "used": 90}}, {},
                 day) == day


def test_a_usage_reading_is_merged_whole_and_the_later_one_wins() -> None:
    """Meta's usage reading (``api_usage``) is one figure: a comment job's reading and a
    publish's saved meanwhile are never mixed field by field, and an older one does not
    replace a newer one (the comment guard would read on at 80%, or hold at 50%)."""
    start = {"api_usage": {"pct": 80.0, "at": "2026-06-10T10:00:00+00:00", "regain_s": 0}}
    published = {"api_usage": {"pct": 50.0, "at": "2026-06-10T10:05:00+00:00", "regain_s": 0}}
    later = {"api_usage": {"pct": 80.0, "at": "2026-06-10T10:10:00+00:00", "regain_s": 0}}
    assert merge(dict(published), start, later) == later
    newer = {"api_usage": {"pct": 95.0, "at": "2026-06-10T10:12:00+00:00", "regain_s": 60}}
    older = {"api_usage": {"pct": 50.0, "at": "2026-06-10T10:10:00+00:00", "regain_s": 0}}
    assert merge(dict(newer), start, older) == newer
