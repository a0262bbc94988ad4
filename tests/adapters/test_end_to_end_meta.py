"""Facebook and Instagram (Graph) through the real worker against the Graph fake:
approve → published with permalinks → metrics snapshots, with HTTP calls counted."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from publisher.config import load_settings
from publisher.core import Core, build_core
from publisher.models import (
    MetricSnapshot,
    Post,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import channels as channel_svc
from publisher.services import media as media_svc
from publisher.services import posts as post_svc
from publisher.worker import run_once
from tests.helpers import approved_post


@pytest.fixture
def meta_core(test_env, clock, graph_fake) -> Iterator[Core]:  # type: ignore[no-untyped-def]
    base = graph_fake.url + "/v25.0"
    env = {**test_env, "WARTA_FACEBOOK_API_URL": base, "WARTA_INSTAGRAM_GRAPH_API_URL": base,
           "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "5",
           "WARTA_PUBLIC_URL": "https://warta.example.go.id"}
    core = build_core(load_settings(env, dotenv=None), clock=clock)
    yield core
    core.engine.dispose()


def _channel(core: Core, user: User, platform: str, creds: dict[str, str]) -> int:
    with core.sessions.begin() as s:
        return channel_svc.create_channel(core, s, s.get(User, user.id), platform=platform,
                                          name=platform, credentials=creds).id


def _photo(core: Core, user: User, size: tuple[int, int]) -> int:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, "PNG")
    buf.seek(0)
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), buf, "foto.png").id


def test_facebook_and_instagram_publish_through_the_worker(meta_core, clock, make_user,  # type: ignore[no-untyped-def]
                                                           graph_fake):
    core = meta_core
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    fb = _channel(core, op, "facebook", {"page_id": graph_fake.page_id,
                                         "access_token": graph_fake.page_token})
    ig = _channel(core, op, "instagram_graph", {"ig_user_id": graph_fake.ig_user_id,
                                                "access_token": graph_fake.page_token})
    # a panoramic PNG: the core must turn it into a JPEG inside Instagram's aspect range
    media_id = _photo(core, op, (2000, 600))
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, op.id), post_svc.PostInput(
            body="Pelayanan KTP keliling hari Sabtu.", channels=[fb, ig], media=[media_id]))
        post_svc.submit_post(core, s, s.get(User, op.id), post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), post_id)

    run_once(core)
    with core.sessions() as s:
        pubs = {p.channel_id: p for p in s.execute(select(Publication)).scalars()}
    assert pubs[fb].status == PublicationStatus.PUBLISHED
    assert pubs[fb].permalink and graph_fake.page_id in pubs[fb].external_id
    assert pubs[ig].status == PublicationStatus.PUBLISHING, "the container is still processing"
    (container_call,) = graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media")
    assert container_call.form["image_url"].startswith("https://warta.example.go.id/m/")

    for _ in range(4):  # the poll job runs when due; no sleeping, the clock moves
        clock.advance(seconds=30)
        run_once(core)
    with core.sessions() as s:
        ig_pub = s.get(Publication, pubs[ig].id)
        assert ig_pub.status == PublicationStatus.PUBLISHED, ig_pub.error_en
        assert ig_pub.permalink.startswith("https://")
    assert len(graph_fake.calls("POST", f"/{graph_fake.ig_user_id}/media_publish")) == 1


def test_facebook_metrics_for_200_posts_are_batched(meta_core, clock, make_user, graph_fake):  # type: ignore[no-untyped-def]
    core = meta_core
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    fb = _channel(core, op, "facebook", {"page_id": graph_fake.page_id,
                                         "access_token": graph_fake.page_token})
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
    reads = [r for r in graph_fake.requests if r.method in ("GET", "POST")]
    batch = 50
    assert len(reads) <= math.ceil(201 / batch) + 2, [r.path for r in reads]
    with core.sessions() as s:
        n = s.execute(select(MetricSnapshot)).scalars().all()
        assert len(n) >= 200
        likes = sorted(x.likes for x in n if x.likes is not None)
        assert likes[-1] == 199 and likes[0] == 0, "counts come from the platform, 0 included"
        assert all(x.shares is None for x in n), "a count the Page does not return stays None"


def test_expired_instagram_container_is_started_over_and_published_once(meta_core, clock,  # type: ignore[no-untyped-def]
                                                                       make_user, graph_fake):
    core = meta_core
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ig = _channel(core, op, "instagram_graph", {"ig_user_id": graph_fake.ig_user_id,
                                                "access_token": graph_fake.page_token})
    media_id = _photo(core, op, (1080, 1080))
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, op.id), post_svc.PostInput(
            body="Vaksinasi keliling", channels=[ig], media=[media_id]))
        post_svc.submit_post(core, s, s.get(User, op.id), post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), post_id)
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
