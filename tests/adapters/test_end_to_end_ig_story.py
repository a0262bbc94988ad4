"""An Instagram Story through the real worker against the Graph fake: approve → STORIES
container → published with its link → story insights read at +1 h and +23 h, and nothing
asked once the 24 hours are over (Meta deletes story insights then)."""

from __future__ import annotations

from datetime import timedelta

from PIL import Image
from sqlalchemy import select

from publisher.models import MetricSnapshot, Publication, PublicationStatus
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e

STORY_INSIGHTS = {"views": 120, "reach": 90, "replies": 4, "shares": 3}


def _insight_reads(graph_fake) -> list[str]:  # type: ignore[no-untyped-def]
    return [r.path for r in graph_fake.requests
            if (r.method, r.path) == ("POST", "/") or r.path.endswith("/insights")]


def _publish_story(core, clock, people, graph_fake, media_id: int) -> Publication:  # type: ignore[no-untyped-def]
    op, ap = people
    graph_fake.clock = clock
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ig, body="Jadwal posyandu pekan ini.",
                          media=[media_id], options={"ig_type": "story"})
    pub = e2e.run_until_settled(core, clock, pub_id)
    assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
    graph_fake.objects[pub.external_id]["insights"] = dict(STORY_INSIGHTS)
    return pub


def test_story_video_published_and_its_insights_read_before_they_expire(  # type: ignore[no-untyped-def]
        meta_core, clock, people, graph_fake):
    core = meta_core
    pub = _publish_story(core, clock, people, graph_fake,
                         e2e.video(core, people[0], size=(1080, 1920), seconds=12))
    (create,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert create.form["media_type"] == "STORIES" and "caption" not in create.form
    assert create.form["video_url"].startswith(f"{e2e.PUBLIC_URL}/m/")
    assert "/stories/" in pub.permalink
    assert pub.next_metrics_at == pub.published_at + timedelta(hours=1)

    graph_fake.requests.clear()
    clock.advance(minutes=20)  # the feed's +10 min read does not apply to a story
    run_once(core)
    assert _insight_reads(graph_fake) == []

    clock.now = pub.published_at + timedelta(hours=1, minutes=1)
    run_once(core)
    clock.now = pub.published_at + timedelta(hours=23, minutes=1)
    run_once(core)
    with core.sessions() as s:
        snaps = s.execute(select(MetricSnapshot).order_by(MetricSnapshot.id)).scalars().all()
        row = s.get(Publication, pub.id)
    assert [(m.views, m.reach, m.shares) for m in snaps] == [(120, 90, 3)] * 2
    assert all(m.likes is None and m.saves is None for m in snaps), "not given: None"
    assert row.next_metrics_at is None, "no read after +23 h: the insights expire at 24 h"

    graph_fake.requests.clear()
    for days in (1, 3, 7, 30):
        clock.now = pub.published_at + timedelta(days=days, minutes=5)
        run_once(core)
    assert _insight_reads(graph_fake) == []


def test_story_past_24_hours_is_not_asked_for(meta_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    """A worker that was down through the +23 h read: after 24 h nothing is asked."""
    core = meta_core
    pub = _publish_story(core, clock, people, graph_fake,
                         e2e.photo(core, people[0], size=(1080, 1920)))
    (create,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert create.form["media_type"] == "STORIES" and "image_url" in create.form
    # the PNG became a JPEG at its own 9:16, not padded out to the feed's 4:5
    (derived,) = (core.settings.media_dir / "derived").glob("*.jpg")
    with Image.open(derived) as img:
        assert img.size == (1080, 1920)
    with core.sessions.begin() as s:  # the +1 h read was missed too: still due at +1 h
        assert s.get(Publication, pub.id).metrics_stage == 100
    graph_fake.requests.clear()
    clock.now = pub.published_at + timedelta(hours=24, minutes=1)
    run_once(core)
    assert _insight_reads(graph_fake) == []
    with core.sessions() as s:
        assert s.get(Publication, pub.id).next_metrics_at is None
        assert s.execute(select(MetricSnapshot)).scalars().all() == []


def test_story_accepted_but_answer_lost_is_found_once_not_sent_twice(  # type: ignore[no-untyped-def]
        meta_core, clock, people, graph_fake):
    core, (op, ap) = meta_core, people
    graph_fake.clock = clock
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    pub_id = e2e.approved(core, op, ap, ig, body="Info", options={"ig_type": "story"},
                          media=[e2e.video(core, op, size=(1080, 1920), seconds=12)])
    graph_fake.fail("after_accept", path="/media_publish")
    pub = e2e.run_until_settled(core, clock, pub_id, rounds=30, step_seconds=60)
    assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")) == 1
    assert graph_fake.calls("GET", f"/{graph_fake.ig_user_id}/stories")
    assert graph_fake.objects[pub.external_id]["media_product_type"] == "STORY"
    assert pub.metrics_stage >= 100, "found by lookup, it still follows the story schedule"
