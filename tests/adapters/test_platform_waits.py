"""Waits that end when the platform says, through the real worker and the fakes: no jitter on
top of a platform's exact reset time, the operator told until when (in the unit's zone), the
platform's wait not counted against the missed window, and channel-wide waits met on a poll
holding the whole channel like those met while publishing. Instagram metrics keep the counts
already read when the insights part fails."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from publisher.models import MetricSnapshot
from tests.adapters import worker_e2e as e2e

#: TEST_NOW is 03:00 UTC on 10 June = 20:00 PDT on 9 June: the YouTube quota resets at
#: Pacific midnight, 07:00 UTC = 14.00 WIB.
RESET = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)


def test_youtube_quota_waits_until_the_reset_and_is_not_missed(core_with, clock, people,
                                                               fy) -> None:  # type: ignore[no-untyped-def]
    core = core_with(WARTA_YOUTUBE_API_URL=fy.url, WARTA_YOUTUBE_TOKEN_URL=f"{fy.url}/token",
                     WARTA_MISSED_AFTER="2h")
    op, ap = people
    ch = e2e.yt_channel(core, op, fy)
    pub_id = e2e.approved(core, op, ap, ch, body="Rekaman rapat.",
                          media=[e2e.video(core, op, (1280, 720))], title="Rapat",
                          options={"made_for_kids": False})
    fy.fail("initiate", "quota")
    e2e.run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == e2e.S.QUEUED
    assert "Menunggu kuota YouTube sampai 14.00 WIB." in pub.error, pub.error
    assert "Waiting for the YouTube quota until 14:00 WIB" in pub.error_en or \
        "until 14.00 WIB" in pub.error_en, pub.error_en
    job = e2e.job_of(core, pub)
    # the reset plus at most a few seconds: no jitter on top of the platform's exact time
    assert RESET <= job.run_at <= RESET + timedelta(seconds=5), job.run_at
    assert e2e.channel_row(core, ch).paused_until == job.run_at
    clock.now = job.run_at  # four hours after its time, with WARTA_MISSED_AFTER=2h
    e2e.run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == e2e.S.PUBLISHED, pub.error_en


def test_a_throttle_during_an_instagram_poll_pauses_the_channel(meta_core, clock, people,
                                                                graph_fake) -> None:  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    graph_fake.container_polls = 0  # the first status read says FINISHED: media_publish next
    ch = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ch, body="Lomba foto.", media=[e2e.photo(core, op)])
    e2e.run_once(core)
    assert e2e.publication(core, pub_id).status == e2e.S.PUBLISHING
    graph_fake.fail("ig_throttle", path="/media_publish")  # 80002, regain in 3 minutes
    clock.advance(seconds=30)
    e2e.run_once(core)
    paused = e2e.channel_row(core, ch).paused_until
    assert paused is not None and paused >= clock.now + timedelta(minutes=3), paused
    # another publication of the account waits for the same time instead of hitting the limit
    other = e2e.approved(core, op, ap, ch, body="Lomba video.", media=[e2e.photo(core, op, 1)])
    calls = len(graph_fake.requests)
    e2e.run_once(core)
    assert len(graph_fake.requests) == calls, "nothing sent to a throttled account"
    assert e2e.publication(core, other).status == e2e.S.QUEUED
    clock.now = paused + timedelta(seconds=1)
    for _ in range(4):
        e2e.run_once(core)
        clock.advance(seconds=30)
    assert e2e.publication(core, pub_id).status == e2e.S.PUBLISHED
    assert e2e.publication(core, other).status == e2e.S.PUBLISHED


def test_instagram_metrics_keep_counts_when_insights_fail(meta_core, clock, people,
                                                          graph_fake) -> None:  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    ch = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ch, body="Lomba foto.", media=[e2e.photo(core, op)])
    assert e2e.run_until_settled(core, clock, pub_id).status == e2e.S.PUBLISHED
    pub = e2e.publication(core, pub_id)
    graph_fake.objects[pub.external_id].update(like_count=12, comments_count=3)
    graph_fake.fail("server_error", path="/", method="POST")  # the insights batch request
    clock.now = pub.next_metrics_at + timedelta(seconds=1)
    e2e.run_once(core)
    e2e.run_once(core)
    with core.sessions() as s:
        (snap,) = s.execute(select(MetricSnapshot)).scalars()
    assert (snap.likes, snap.comments) == (12, 3)
    assert snap.views is None and snap.reach is None and snap.saves is None


def test_a_container_already_published_is_recorded_not_sent_again(meta_core, clock, people,
                                                                   graph_fake) -> None:  # type: ignore[no-untyped-def]
    """A worker restarted after ``media_publish`` went through (its answer never recorded):
    the next poll reads the container as PUBLISHED and the reconcile step finds the media."""
    import requests

    core, (op, ap) = meta_core, people
    graph_fake.container_polls = 0
    ch = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ch, body="Lomba foto.", media=[e2e.photo(core, op)])
    e2e.run_once(core)
    pub = e2e.publication(core, pub_id)
    container = pub.pending_state["container"]
    requests.get(f"{graph_fake.url}/v25.0/{container}", params={"fields": "status_code"},
                 headers={"Authorization": f"Bearer {graph_fake.page_token}"}, timeout=5)
    done = requests.post(f"{graph_fake.url}/v25.0/{graph_fake.ig_user_id}/media_publish",
                         data={"creation_id": container}, timeout=5,
                         headers={"Authorization": f"Bearer {graph_fake.page_token}"})
    assert done.status_code == 200, done.text
    pub = e2e.run_until_settled(core, clock, pub_id)
    assert (pub.status, pub.external_id) == (e2e.S.PUBLISHED, done.json()["id"]), pub.error_en
    assert sum(1 for o in graph_fake.objects.values() if o.get("kind") == "ig_media") == 1
