"""Facebook and Instagram (Graph) through the real worker against the Graph fake:
approve → published with permalinks → metrics snapshots, with HTTP calls counted."""

from __future__ import annotations

import math
from datetime import timedelta

from sqlalchemy import select

from publisher.models import MetricSnapshot, Post, Publication, PublicationStatus
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.helpers import approved_post


def test_facebook_and_instagram_publish_through_the_worker(meta_core, clock, people,  # type: ignore[no-untyped-def]
                                                           graph_fake):
    core, (op, ap) = meta_core, people
    fb = e2e.fb_channel(core, op, graph_fake)
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    # a panoramic PNG: the core must turn it into a JPEG inside Instagram's aspect range
    media_id = e2e.photo(core, op, size=(2000, 600))
    approved_post(core, op, ap, [fb, ig], body="Pelayanan KTP keliling hari Sabtu.",
                  media=[media_id])

    run_once(core)
    with core.sessions() as s:
        pubs = {p.channel_id: p for p in s.execute(select(Publication)).scalars()}
    assert pubs[fb].status == PublicationStatus.PUBLISHED
    assert pubs[fb].permalink and graph_fake.page_id in pubs[fb].external_id
    assert pubs[ig].status == PublicationStatus.PUBLISHING, "the container is still processing"
    (container_call,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert container_call.form["image_url"].startswith(f"{e2e.PUBLIC_URL}/m/")

    for _ in range(4):  # the poll job runs when due; no sleeping, the clock moves
        clock.advance(seconds=30)
        run_once(core)
    with core.sessions() as s:
        ig_pub = s.get(Publication, pubs[ig].id)
        assert ig_pub.status == PublicationStatus.PUBLISHED, ig_pub.error_en
        assert ig_pub.permalink.startswith("https://")
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")) == 1


def test_facebook_metrics_for_200_posts_are_batched(meta_core, clock, people, graph_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    fb = e2e.fb_channel(core, op, graph_fake)
    post_id = approved_post(core, op, ap, [fb], body="Seed")
    now = clock.now
    with core.sessions.begin() as s:
        base_post = s.get(Post, post_id)
        for i in range(200):
            ext = graph_fake.add_post(message=f"Kabar {i}",
                                      counts={"reactions": i, "comments": i // 2})
            clone = Post(unit_id=base_post.unit_id, author_id=op.id, body=f"Kabar {i}",
                         status="approved", overrides={}, created_at=now, updated_at=now)
            s.add(clone)
            s.flush()
            s.add(Publication(post_id=clone.id, channel_id=fb, status="published",
                              scheduled_at=now, external_id=ext, published_at=now,
                              next_metrics_at=now + timedelta(hours=1), created_at=now,
                              updated_at=now))
    run_once(core)  # publishes the seed post
    graph_fake.requests.clear()
    clock.advance(hours=1, minutes=1)
    run_once(core)
    # the metrics reads (the citizens' inbox reads each post's comments on its own schedule)
    reads = [r for r in graph_fake.requests if r.method in ("GET", "POST")
             and not r.path.endswith("/comments")]
    batch = 50
    assert len(reads) <= math.ceil(201 / batch) + 2, [r.path for r in reads]
    with core.sessions() as s:
        n = s.execute(select(MetricSnapshot)).scalars().all()
        assert len(n) >= 200
        likes = sorted(x.likes for x in n if x.likes is not None)
        assert likes[-1] == 199 and likes[0] == 0, "counts come from the platform, 0 included"
        assert all(x.shares is None for x in n), "a count the Page does not return stays None"


def test_expired_instagram_container_is_started_over_and_published_once(meta_core, clock,  # type: ignore[no-untyped-def]
                                                                       people, graph_fake):
    core, (op, ap) = meta_core, people
    ig = e2e.ig_graph_channel(core, op, graph_fake)
    media_id = e2e.photo(core, op, size=(1080, 1080))
    approved_post(core, op, ap, [ig], body="Vaksinasi keliling", media=[media_id])
    graph_fake.container_outcome = "EXPIRED"
    run_once(core)
    for _ in range(2):  # in progress, then expired: start over, nothing published
        clock.advance(seconds=30)
        run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.status == PublicationStatus.QUEUED and pub.error_code == "container_expired"
        assert pub.pending_state is None and pub.submitted_at is None
    graph_fake.container_outcome = "FINISHED"
    for _ in range(6):
        clock.advance(minutes=2)
        run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")) == 2
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")) == 1
