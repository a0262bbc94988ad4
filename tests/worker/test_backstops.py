"""The worker's own backstops, tested directly: not through the services, which normally stop
the bad case earlier, but by changing the database behind their back.

1. Stored content that no longer matches the approved hash is never published: the body, a
   media item (its hash, the link to another asset, its removal), a per-channel override, the
   link, the channel set, the time, the post's status — each changed by a plain SQL update.
   Nothing reaches the platform (the sandbox outbox stays empty) and the publication says why.
   Both publish paths are checked: the one-by-one handler and the burst's batch.
2. Every part the approval covers is in the hash: an edit through the services that changes
   only media, only an override, only the link or only the channel set voids the approval.
3. A create call whose outcome is unknown, followed by a ``lookup`` that cannot tell (error,
   timeout, ambiguous), ends ``unconfirmed``, never in a second post — after a timeout and after
   a worker's crash (lease expired, publication submitted). The multi-process version of the
   crash is in ``test_crash_lookup.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update

from postqueue import Job, JobStatus
from publisher.models import (
    AuditEvent,
    MediaAsset,
    Post,
    PostChannel,
    PostMedia,
    PostStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
    User,
)
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash_of
from publisher.worker import run_job, run_once
from publisher.worker.batch import run_publish_batch
from publisher.worker.publish import _mark_submitted
from publisher.worker.runner import apply_result
from tests.adapters.worker_e2e import photo
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control

S = PublicationStatus
ACCOUNTS = ["bs-a", "bs-b"]
SPARE = "bs-c"  # a channel of the unit that the post does not use


@dataclass
class World:
    post_id: int
    channels: list[int]  # the post's channels, in ACCOUNTS order
    spare: int
    media: int  # the post's picture
    other_media: int  # another picture of the unit's library
    pub_ids: list[int]
    op: User
    ap: User


@pytest.fixture
def world(core, clock, make_user) -> World:  # type: ignore[no-untyped-def]
    """An approved post due now on two sandbox channels, with a picture, a link and an override
    for the first channel — every part the approval covers is present, so each can change."""
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    channels = [sandbox_channel(core, op, a) for a in ACCOUNTS]
    spare = sandbox_channel(core, op, SPARE)
    media, other = photo(core, op, 1), photo(core, op, 2)
    post_id = approved_post(core, op, ap, channels, body="Posyandu buka pukul 08.00.",
                            when=clock.now, media=[media],
                            link="https://dinsos.example.go.id/posyandu",
                            overrides={str(channels[0]): {"body": "Posyandu (versi FB)."}})
    with core.sessions() as s:
        pub_ids = list(s.execute(select(Publication.id).where(Publication.post_id == post_id)
                                 .order_by(Publication.channel_id)).scalars())
    assert len(pub_ids) == 2
    return World(post_id, channels, spare, media, other, pub_ids, op, ap)


def _sql(core, stmt) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        # (an INSERT's rowcount is -1 on psycopg: "unknown", not "nothing")
        assert s.execute(stmt).rowcount != 0, "the tampering changed nothing"


#: Behind the services' back: one direct SQL change of what the approval covers.
TAMPER: dict[str, Callable[[Any, World], None]] = {
    "body": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id)
                                 .values(body="Posyandu TUTUP hari ini.")),
    "media_hash": lambda core, w: _sql(core, update(MediaAsset).where(MediaAsset.id == w.media)
                                       .values(sha256="0" * 64)),
    "media_link": lambda core, w: _sql(core, update(PostMedia).where(PostMedia.post_id == w.post_id)
                                       .values(media_id=w.other_media)),
    "media_removed": lambda core, w: _sql(core, delete(PostMedia)
                                          .where(PostMedia.post_id == w.post_id)),
    "media_added": lambda core, w: _sql(core, insert(PostMedia).values(
        post_id=w.post_id, media_id=w.other_media, position=1)),
    "override": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id).values(
        overrides={str(w.channels[0]): {"body": "Versi FB yang lain."}})),
    "override_added": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id).values(
        overrides={str(w.channels[0]): {"body": "Posyandu (versi FB)."},
                   str(w.channels[1]): {"body": "Versi kedua yang tak disetujui."}})),
    "link": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id)
                                 .values(link="https://penipu.example.com/")),
    "channel_added": lambda core, w: _sql(core, insert(PostChannel).values(
        post_id=w.post_id, channel_id=w.spare)),
    "channel_removed": lambda core, w: _sql(core, delete(PostChannel).where(
        PostChannel.post_id == w.post_id, PostChannel.channel_id == w.channels[1])),
    "scheduled_at": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id).values(
        scheduled_at=core.now() - timedelta(minutes=1))),
    "post_not_approved": lambda core, w: _sql(core, update(Post).where(Post.id == w.post_id)
                                              .values(status=PostStatus.SUBMITTED)),
}


def run_batch(core) -> int:  # type: ignore[no-untyped-def]
    """The burst path: claim every due job and run them as one batch."""
    jobs = core.queue.claim("batcher", lease_seconds=60, limit=50)
    with ThreadPoolExecutor(4) as calls:
        run_publish_batch(core, jobs, calls, run_step=lambda j, step: run_job(core, j, step),
                          settle=lambda j, r: apply_result(core, j, r))
    return len(jobs)


PATHS: dict[str, Callable[[Any], int]] = {"one_by_one": run_once, "batch": run_batch}


def outbox_count(core) -> int:  # type: ignore[no-untyped-def]
    return sum(len(outbox_records(core, a)) for a in [*ACCOUNTS, SPARE])


@pytest.mark.parametrize("path", list(PATHS))
def test_untouched_post_goes_out_once(core, clock, world, path):  # type: ignore[no-untyped-def]
    """The control for the cases below: the same post, not tampered with, is published."""
    assert PATHS[path](core) == 2
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.id.in_(world.pub_ids))).scalars()
        assert {p.status for p in pubs} == {S.PUBLISHED}
    assert [len(outbox_records(core, a)) for a in ACCOUNTS] == [1, 1]
    fb = outbox_records(core, ACCOUNTS[0])[0]
    assert fb["body"] == "Posyandu (versi FB)." and fb["link"].endswith("/posyandu")
    assert len(fb["media"]) == 1


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("tamper", list(TAMPER))
def test_content_changed_behind_the_services_back_is_never_published(
        core, clock, world, path, tamper):  # type: ignore[no-untyped-def]
    TAMPER[tamper](core, world)
    assert PATHS[path](core) == 2, "both publish jobs were due and ran"

    assert outbox_count(core) == 0, "something reached the platform"
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.id.in_(world.pub_ids))).scalars()
        for pub in pubs:
            assert pub.status == S.FAILED, (tamper, pub.status)
            assert pub.error_code == "approval_mismatch"
            assert "changed after approval" in pub.error_en
            assert "berubah setelah disetujui" in pub.error
            assert pub.attempts == 0 and pub.submitted_at is None, "never marked submitted"
        assert s.execute(select(PublishAttempt).where(
            PublishAttempt.publication_id.in_(world.pub_ids))).first() is None
        events = s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.failed",
            AuditEvent.object_id.in_(world.pub_ids))).scalars().all()
        assert sorted(e.object_id for e in events) == sorted(world.pub_ids)
        assert {e.data["code"] for e in events} == {"approval_mismatch"}
        jobs = s.execute(select(Job.status).where(Job.kind == "publish")).scalars().all()
        assert set(jobs) == {JobStatus.DONE}, "the refused jobs are finished, not retried"
    # and nothing goes out later either
    clock.advance(minutes=10)
    run_once(core)
    assert outbox_count(core) == 0


# -- 2. every part the approval covers is in the hash --------------------------------------------
BASE: dict[str, Any] = dict(body="Isi", link="https://a.example/", overrides={"1": {"body": "x"}},
                            media_hashes=["a" * 64, "b" * 64], channel_ids=[1, 2],
                            scheduled_at=None)
ONE_CHANGE: dict[str, dict[str, Any]] = {
    "body": {"body": "Isi lain"},
    "link": {"link": "https://b.example/"},
    "link_removed": {"link": None},
    "override": {"overrides": {"1": {"body": "y"}}},
    "override_title": {"overrides": {"1": {"body": "x", "title": "Judul"}}},
    "media_hash": {"media_hashes": ["a" * 64, "c" * 64]},
    "media_order": {"media_hashes": ["b" * 64, "a" * 64]},
    "media_removed": {"media_hashes": ["a" * 64]},
    "channel_added": {"channel_ids": [1, 2, 3]},
    "channel_swapped": {"channel_ids": [1, 3]},
}


@pytest.mark.parametrize("change", list(ONE_CHANGE))
def test_the_hash_changes_with_each_part_alone(change):  # type: ignore[no-untyped-def]
    assert content_hash_of(**{**BASE, **ONE_CHANGE[change]}) != content_hash_of(**BASE)


def test_the_hash_does_not_depend_on_the_channels_order():  # type: ignore[no-untyped-def]
    assert content_hash_of(**{**BASE, "channel_ids": [2, 1]}) == content_hash_of(**BASE)


EDITS: dict[str, Callable[[World], post_svc.PostInput]] = {
    "media_only": lambda w: post_svc.PostInput(media=[w.other_media]),
    "media_added": lambda w: post_svc.PostInput(media=[w.media, w.other_media]),
    "override_only": lambda w: post_svc.PostInput(
        overrides={str(w.channels[0]): {"body": "Versi FB baru."}}),
    "override_dropped": lambda w: post_svc.PostInput(overrides={}),
    "link_only": lambda w: post_svc.PostInput(link="https://dinsos.example.go.id/lain"),
    "link_cleared": lambda w: post_svc.PostInput(link=""),
    "channels_only_removed": lambda w: post_svc.PostInput(channels=[w.channels[0]]),
    "channels_only_added": lambda w: post_svc.PostInput(channels=[*w.channels, w.spare]),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_of_one_part_through_the_services_voids_the_approval(
        core, clock, world, edit):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, world.op.id), world.post_id, EDITS[edit](world))
    with core.sessions() as s:
        post = s.get(Post, world.post_id)
        assert post.status == PostStatus.DRAFT and post.approval_hash is None
        pubs = s.execute(select(Publication).where(Publication.post_id == world.post_id)
                         ).scalars().all()
        assert {p.status for p in pubs} == {S.CANCELLED}
        assert set(s.execute(select(Job.status).where(Job.kind == "publish")).scalars()) == {
            JobStatus.CANCELLED}
    run_once(core)
    assert outbox_count(core) == 0


def test_an_edit_that_changes_nothing_keeps_the_approval(core, clock, world):  # type: ignore[no-untyped-def]
    """The control: re-saving the same content is not an edit, and the post still goes out."""
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, world.op.id), world.post_id,
                             post_svc.PostInput(body="Posyandu buka pukul 08.00.",
                                                media=[world.media], channels=world.channels))
    run_once(core)
    assert [len(outbox_records(core, a)) for a in ACCOUNTS] == [1, 1]


# -- 3. a lookup that cannot tell ends unconfirmed, never in a second post -------------------------
LOOKUP_FAILURES = ["error", "timeout", "ambiguous"]


def _assert_unconfirmed_once(core, world, in_outbox: int) -> None:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.id.in_(world.pub_ids))).scalars()
        assert {p.status for p in pubs} == {S.UNCONFIRMED}
    assert [len(outbox_records(core, a)) for a in ACCOUNTS] == [in_outbox, in_outbox]


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("failure", LOOKUP_FAILURES)
def test_unknown_outcome_and_a_lookup_that_cannot_tell_is_unconfirmed(
        core, clock, world, path, failure):  # type: ignore[no-untyped-def]
    for account in ACCOUNTS:
        set_control(core, account, mode="timeout_after_accept", lookup=failure)
    PATHS[path](core)
    _assert_unconfirmed_once(core, world, 1)
    for account in ACCOUNTS:  # the platform behaves again: still nobody posts a second time
        set_control(core, account, mode="ok")
    clock.advance(hours=1)
    run_once(core)
    _assert_unconfirmed_once(core, world, 1)


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("reached_platform", [True, False])
@pytest.mark.parametrize("failure", LOOKUP_FAILURES)
def test_after_a_crash_a_lookup_that_cannot_tell_is_unconfirmed(
        core, clock, world, path, reached_platform, failure):  # type: ignore[no-untyped-def]
    """A worker claimed the jobs, committed "submitted" (the real ``_mark_submitted``) and died,
    with or without the post reaching the platform. After its lease expires the next worker
    reconciles; a lookup that cannot tell must not lead to posting (again)."""
    dead = core.queue.claim("dead-worker", lease_seconds=30, limit=10)
    assert len(dead) == 2
    for job in dead:
        assert _mark_submitted(core, job, int(job.payload["publication_id"])) is not None
    if reached_platform:
        for account, pub_id in zip(ACCOUNTS, world.pub_ids, strict=True):
            _write_to_outbox(core, account, pub_id)
    for account in ACCOUNTS:
        set_control(core, account, lookup=failure)
    clock.advance(seconds=31)
    assert sorted(core.queue.recover_expired()) == sorted(j.id for j in dead)
    PATHS[path](core)
    _assert_unconfirmed_once(core, world, 1 if reached_platform else 0)
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.id.in_(world.pub_ids))).scalars()
        assert {p.error_code for p in pubs} == {"crash_unconfirmed"}
    clock.advance(hours=1)
    run_once(core)
    _assert_unconfirmed_once(core, world, 1 if reached_platform else 0)


def _write_to_outbox(core, account: str, pub_id: int) -> None:  # type: ignore[no-untyped-def]
    """What the dead worker's call did on the platform: the sandbox's own write."""
    from adapters.base import OutgoingPost
    from adapters.sandbox import SandboxAdapter
    from publisher.runtime import build_adapter

    adapter = build_adapter(core, "sandbox", {"account": account, "token": "t"}, state={})
    assert isinstance(adapter, SandboxAdapter)
    adapter._write(OutgoingPost(key=f"warta-{pub_id}", body="Posyandu buka pukul 08.00."))
