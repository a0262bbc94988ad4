"""Threads through the real worker against the fake Threads server: a carousel approved →
children, parent, ``threads_publish`` on a poll, published with its link, first insights; and
the transport faults on ``threads_publish`` ending in exactly one post, published."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.core import Core
from publisher.models import MetricSnapshot
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.fakes.faults import MODES


@pytest.fixture
def th_core(core_with, threads_fake, clock) -> Core:  # type: ignore[no-untyped-def]
    threads_fake.clock = clock
    return core_with(WARTA_THREADS_API_URL=threads_fake.url + "/v1.0",
                     WARTA_THREADS_OAUTH_URL=threads_fake.url, WARTA_THREADS_POLL_SECONDS="5",
                     WARTA_THREADS_TIMEOUT="0.8", WARTA_PUBLIC_URL=e2e.PUBLIC_URL)


def threads_channel(core: Core, user, fake) -> int:  # type: ignore[no-untyped-def]
    return e2e.channel(core, user, "threads", {"threads_user_id": fake.threads_user_id,
                                               "access_token": fake.page_token})


def test_threads_carousel_through_the_worker(th_core, clock, people, threads_fake):  # type: ignore[no-untyped-def]
    core, (op, ap) = th_core, people
    ch = threads_channel(core, op, threads_fake)
    media = [e2e.photo(core, op, 0), e2e.photo(core, op, 1), e2e.photo(core, op, 2)]
    pub_id = e2e.approved(core, op, ap, ch, body="Dokumentasi HUT kota", media=media)
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=10)
    assert pub.status == e2e.S.PUBLISHED, pub.error_en
    assert pub.permalink.startswith("https://www.threads.net/@")
    forms = [c.form for c in threads_fake.calls("POST", f"/{threads_fake.threads_user_id}"
                                                        "/threads")]
    assert [f.get("is_carousel_item") for f in forms] == ["true"] * 3 + [None]
    assert all(f["image_url"].startswith(f"{e2e.PUBLIC_URL}/m/") for f in forms[:3])
    assert threads_fake.posts() == 1
    threads_fake.objects[pub.external_id]["insights"].update(views=88, likes=5, replies=2)
    clock.advance(hours=1, minutes=1)
    run_once(core)
    with core.sessions() as s:
        snap = s.execute(select(MetricSnapshot)).scalar_one()
    assert (snap.views, snap.likes, snap.comments) == (88, 5, 2)
    assert snap.shares is None and snap.reach is None


FAULTS = [m for m in MODES if not m.startswith("hold")]


@pytest.mark.parametrize("fault", FAULTS)
def test_fault_on_threads_publish_leaves_one_post(th_core, clock, people, threads_fake, fault):  # type: ignore[no-untyped-def]
    """The fault-table row for Threads (poll path: ``threads_publish``)."""
    core, (op, ap) = th_core, people
    ch = threads_channel(core, op, threads_fake)
    threads_fake.faults.add(fault, "POST", r"/\d+/threads_publish")
    pub_id = e2e.approved(core, op, ap, ch, body=f"Info {fault}",
                          media=[e2e.photo(core, op)])
    pub = e2e.run_until_settled(core, clock, pub_id, rounds=16, step_seconds=30)
    assert (pub.status, threads_fake.posts()) == (e2e.S.PUBLISHED, 1), (pub.error_en,
                                                                        pub.error_code)
    assert not threads_fake.faults.faults, "the fault was never met"
    for _ in range(3):
        clock.advance(minutes=10)
        run_once(core)
    assert threads_fake.posts() == 1
