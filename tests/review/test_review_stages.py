"""Review stages (issue 20): a unit approver, then the region's verifier; each stage by a
different person who wrote none of the post, each bound to the same content hash; an edit
restarts from the first stage; only the last stage releases the publications, and the worker
refuses a post whose stages are not all approved even when the database says "approved".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest
from sqlalchemy import delete, select, update

from publisher.core import Core
from publisher.jobs import enqueue_publish
from publisher.models import (
    AuditEvent,
    Post,
    PostStatus,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.models.review import PostReview, StageApproval
from publisher.notify import review_reminders
from publisher.notify.kinds import concerns
from publisher.services import posts as post_svc
from publisher.services import review_stages
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden, NotFound
from publisher.worker import run_once
from tests.helpers import outbox_records, sandbox_channel

TWO = ["unit_approver", "region_verifier"]
T = TypeVar("T")


@dataclass
class World:
    author: User
    approver: User
    approver2: User
    verifier: User
    admin: User
    channel: int


def _as(s, user: User) -> User:  # type: ignore[no-untyped-def]
    return _get(s, User, user.id)


def _get(s, model: type[T], object_id: int) -> T:  # type: ignore[no-untyped-def]
    """A row that must exist (typed: no ``None`` to check at every use)."""
    row = s.get(model, object_id)
    assert row is not None
    return row


@pytest.fixture
def world(core: Core, make_user, units) -> World:  # type: ignore[no-untyped-def]
    author = make_user(Role.OPERATOR, "a")
    approver, approver2 = make_user(Role.APPROVER, "a"), make_user(Role.APPROVER, "a")
    verifier, admin = make_user(Role.APPROVER, "b"), make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:
        review_stages.set_verifier(s, _as(s, admin), verifier.id, True)
        review_stages.set_unit_stages(s, _as(s, admin), units["a"].id, TWO, remind_hours=2,
                                      deadline_hours=5)
    return World(author, approver, approver2, verifier, admin,
                 sandbox_channel(core, author, "rv-a"))


def _submitted(core: Core, w: World, body: str = "Vaksinasi gratis di puskesmas.") -> int:
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, _as(s, w.author),
                                    post_svc.PostInput(body=body, channels=[w.channel]))
        post_svc.submit_post(core, s, _as(s, w.author), post.id)
        return post.id


def _approve(core: Core, user: User, post_id: int, seen: str | None = None) -> Post:
    with core.sessions.begin() as s:
        post = post_svc.approve_post(core, s, _as(s, user), post_id, seen)
        s.flush()
        s.expunge(post)
        return post


def _pubs(core: Core, post_id: int) -> list[Publication]:
    with core.sessions() as s:
        return list(s.execute(select(Publication).where(Publication.post_id == post_id))
                    .scalars())


def _approvals(core: Core, post_id: int) -> list[StageApproval]:
    with core.sessions() as s:
        return list(s.execute(select(StageApproval).where(StageApproval.post_id == post_id)
                              .order_by(StageApproval.id)).scalars())


def test_two_stages_end_to_end(core: Core, world: World) -> None:
    post_id = _submitted(core, world)
    assert _approve(core, world.approver, post_id).status == PostStatus.SUBMITTED
    assert _pubs(core, post_id) == []  # stage 1 releases nothing
    run_once(core)
    assert outbox_records(core, "rv-a") == []
    with core.sessions() as s:
        assert _get(s, PostReview, post_id).stage_kind == "region_verifier"
        # the unit's approver cannot act at the region's stage
        with pytest.raises(Forbidden):
            post_svc.approve_post(core, s, _as(s, world.approver2), post_id)
    post = _approve(core, world.verifier, post_id)  # another unit's verifier: region-wide
    assert post.status == PostStatus.APPROVED
    rows = _approvals(core, post_id)
    assert [(a.stage_index, a.kind, a.approver_id) for a in rows] == [
        (0, "unit_approver", world.approver.id), (1, "region_verifier", world.verifier.id)]
    assert {a.content_hash for a in rows} == {post.approval_hash}
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.QUEUED]
    run_once(core)
    assert len(outbox_records(core, "rv-a")) == 1
    with core.sessions() as s:
        actions = list(s.execute(select(AuditEvent.action).where(
            AuditEvent.object_type == "post", AuditEvent.object_id == post_id)
            .order_by(AuditEvent.id)).scalars())
    assert actions[-2:] == ["post.stage_approve", "post.approve"]


def test_each_stage_another_person_and_never_a_writer(core: Core, world: World,
                                                      make_user) -> None:  # type: ignore[no-untyped-def]
    both = make_user(Role.APPROVER, "a")  # the unit's approver who is also a verifier
    with core.sessions.begin() as s:
        review_stages.set_verifier(s, _as(s, world.admin), both.id, True)
    post_id = _submitted(core, world)
    _approve(core, both, post_id)
    with core.sessions() as s, pytest.raises(Forbidden) as exc:
        post_svc.approve_post(core, s, _as(s, both), post_id)
    assert exc.value.code == "same_approver"
    # a writer: the verifier who wrote the post may approve neither stage
    with core.sessions.begin() as s:
        mine = post_svc.create_post(core, s, _as(s, both),
                                    post_svc.PostInput(body="Tulisan saya.",
                                                       channels=[world.channel]))
        post_svc.submit_post(core, s, _as(s, both), mine.id)
        mine_id = mine.id
    with core.sessions() as s, pytest.raises(Forbidden) as exc:
        post_svc.approve_post(core, s, _as(s, both), mine_id)
    assert exc.value.code == "self_approval"
    _approve(core, world.approver, mine_id)
    with core.sessions() as s, pytest.raises(Forbidden) as exc:
        post_svc.approve_post(core, s, _as(s, both), mine_id)
    assert exc.value.code == "self_approval"
    assert _approve(core, world.verifier, mine_id).status == PostStatus.APPROVED


def test_an_edit_between_stages_restarts_from_the_first(core: Core, world: World) -> None:
    post_id = _submitted(core, world)
    _approve(core, world.approver, post_id)
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, _as(s, world.author), post_id,
                             post_svc.PostInput(body="Vaksinasi gratis, jadwal baru."))
    (first,) = _approvals(core, post_id)
    assert first.voided_at is not None and first.void_reason == "edited"
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, _as(s, world.author), post_id)
    with core.sessions() as s:  # back at stage 1: the verifier has nothing to act on
        with pytest.raises(NotFound):
            post_svc.approve_post(core, s, _as(s, world.verifier), post_id)
        assert review_stages.waiting_kind(s, _get(s, Post, post_id)) == "unit_approver"
    _approve(core, world.approver2, post_id)
    assert _approve(core, world.verifier, post_id).status == PostStatus.APPROVED


def test_stage_two_is_bound_to_the_hash_stage_one_saw(core: Core, world: World) -> None:
    post_id = _submitted(core, world)
    with core.sessions() as s:
        seen = content_hash(_get(s, Post, post_id))
    _approve(core, world.approver, post_id, seen)
    with core.sessions() as s, pytest.raises(Conflict) as exc:
        post_svc.approve_post(core, s, _as(s, world.verifier), post_id, "0" * 64)
    assert exc.value.code == "changed"
    # content changed behind the services' back: stage 1's approval no longer counts
    with core.sessions.begin() as s:
        s.execute(update(Post).where(Post.id == post_id).values(body="Diubah diam-diam."))
    with core.sessions() as s, pytest.raises(NotFound):
        post_svc.approve_post(core, s, _as(s, world.verifier), post_id)
    assert _pubs(core, post_id) == []


def test_worker_never_publishes_with_only_stage_one(core: Core, world: World) -> None:
    """The worker's backstop, by the database alone: status approved, the approval hash right,
    a queued publication and its job, but only stage 1 approved."""
    post_id = _submitted(core, world)
    _approve(core, world.approver, post_id)
    now = core.now()
    with core.sessions.begin() as s:
        post = _get(s, Post, post_id)
        post.status, post.approval_hash = PostStatus.APPROVED, content_hash(post)
        pub = Publication(post_id=post_id, channel_id=world.channel,
                          status=PublicationStatus.QUEUED, scheduled_at=now, created_at=now,
                          updated_at=now)
        s.add(pub)
        s.flush()
        pub.job_id = enqueue_publish(s, pub.id, world.channel, run_at=now, now=now)
    run_once(core)
    assert outbox_records(core, "rv-a") == []
    (pub,) = _pubs(core, post_id)
    assert pub.status == PublicationStatus.FAILED
    assert "tahap" in (pub.error or "")


def test_worker_counts_the_first_approval_of_a_stage_as_the_services_do(  # type: ignore[no-untyped-def]
        core: Core, world: World, units) -> None:
    """A stage approved twice (two approvers at once, before decisions were locked): the
    services count its first approval, so the second approver could approve the next stage
    too. The worker must count the same one; read in the rows' physical order (PostgreSQL
    returns an updated row last) it took the second and failed the post *stages_incomplete*."""
    with core.sessions.begin() as s:
        review_stages.set_unit_stages(s, _as(s, world.admin), units["a"].id,
                                      ["unit_approver", "unit_approver"])
    post_id = _submitted(core, world)
    _approve(core, world.approver, post_id)
    assert _approve(core, world.approver2, post_id).status == PostStatus.APPROVED
    first = _approvals(core, post_id)[0]
    with core.sessions.begin() as s:
        post = _get(s, Post, post_id)
        s.add(StageApproval(post_id=post_id, stage_index=0, kind="unit_approver",
                            approver_id=world.approver2.id, content_hash=content_hash(post),
                            approved_at=core.now()))
        # the first approval written again under its own id: PostgreSQL stores it after the
        # others (heap and index), so an unordered read meets the duplicate first; SQLite
        # reads by rowid, which is the id, whatever the query says
        s.execute(delete(StageApproval).where(StageApproval.id == first.id))
        s.add(StageApproval(id=first.id, post_id=post_id, stage_index=0, kind=first.kind,
                            approver_id=first.approver_id, content_hash=first.content_hash,
                            approved_at=first.approved_at))
    with core.sessions() as s:
        post = _get(s, Post, post_id)
        stages = review_stages.stages_of(s, post)
        counted = review_stages.valid_approvals(s, post_id, content_hash(post), stages)
        assert {i: a.approver_id for i, a in counted.items()} == {
            0: world.approver.id, 1: world.approver2.id}
    run_once(core)
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.PUBLISHED]
    assert len(outbox_records(core, "rv-a")) == 1


def test_a_unit_without_stages_is_one_stage_as_before(core: Core, world: World,
                                                       make_user, units) -> None:  # type: ignore[no-untyped-def]
    author, approver = make_user(Role.OPERATOR, "b"), make_user(Role.APPROVER, "b")
    ch = sandbox_channel(core, author, "rv-b")
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, _as(s, author),
                                    post_svc.PostInput(body="Satu tahap.", channels=[ch]))
        post_svc.submit_post(core, s, _as(s, author), post.id)
        post_id = post.id
    with core.sessions() as s:
        assert _get(s, PostReview, post_id).stages == ["unit_approver"]
        submit = s.execute(select(AuditEvent).where(AuditEvent.action == "post.submit",
                                                    AuditEvent.object_id == post_id)).scalar_one()
        assert submit.data == {}
    assert _approve(core, approver, post_id).status == PostStatus.APPROVED
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.QUEUED]
    run_once(core)
    assert len(outbox_records(core, "rv-b")) == 1


def test_reminder_once_per_stage_and_deadline_flag(core: Core, world: World, clock,
                                                   client) -> None:  # type: ignore[no-untyped-def]
    post_id = _submitted(core, world)
    clock.advance(hours=1)
    assert review_reminders.sweep(core) == []
    clock.advance(hours=2)
    assert review_reminders.sweep(core) == [("post.stage_reminder", post_id)]
    assert review_reminders.sweep(core) == []
    _approve(core, world.approver, post_id)  # stage 2: its own reminder, for the verifiers
    clock.advance(hours=3)
    assert review_reminders.sweep(core) == [("post.stage_reminder", post_id)]
    assert review_reminders.sweep(core) == []
    with core.sessions() as s:
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "post.stage_reminder")
                          .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert event.data["waiting_kind"] == "region_verifier"
        assert concerns(_as(s, world.verifier), event, world.author.id)
        assert not concerns(_as(s, world.approver2), event, world.author.id)
    clock.advance(hours=3)  # five hours at stage 2: flagged, recorded once, never approved
    assert review_reminders.sweep(core) == [("post.stage_deadline", post_id)]
    assert review_reminders.sweep(core) == []
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(world.verifier.id), True
    page = client.get("/persetujuan").get_data(as_text=True)
    assert f'id="post-{post_id}"' in page and "data-stage-overdue" in page
    assert "data-other-stage" not in page
    with client.session_transaction() as sess:
        sess["_user_id"] = str(world.approver2.id)
    page = client.get("/persetujuan").get_data(as_text=True)
    assert f'id="post-{post_id}"' in page and "data-other-stage" in page
    with core.sessions() as s:
        assert _get(s, Post, post_id).status == PostStatus.SUBMITTED


def test_api_shows_stages_and_approves_by_the_same_rules(core: Core, world: World,
                                                         api_as) -> None:  # type: ignore[no-untyped-def]
    post_id = _submitted(core, world)
    first = api_as(world.approver).post(f"/posts/{post_id}/approve")
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["status"] == "submitted" and body["waiting_stage"] == 2
    assert [(st["kind"], st["approved_by"]) for st in body["stages"]] == [
        ("unit_approver", world.approver.id), ("region_verifier", None)]
    refused = api_as(world.approver2).post(f"/posts/{post_id}/approve")
    assert refused.status_code == 403
    done = api_as(world.verifier).post(f"/posts/{post_id}/approve",
                                       query_string={"content_hash": body["content_hash"]})
    assert done.status_code == 200 and done.get_json()["status"] == "approved"
    got = api_as(world.author).get(f"/posts/{post_id}").get_json()
    assert [st["approved_by"] for st in got["stages"]] == [world.approver.id, world.verifier.id]
    assert got["waiting_stage"] is None


def test_admin_sets_stages_and_the_verifier(core: Core, world: World, client,
                                            units) -> None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(world.admin.id), True
    assert client.get("/admin/tahap-persetujuan").status_code == 200
    r = client.post(f"/admin/unit/{units['b'].id}/tahap",
                    data={"stage1": "unit_approver", "stage2": "region_verifier",
                          "remind_hours": "x"})
    assert r.status_code == 400
    r = client.post(f"/admin/unit/{units['b'].id}/tahap",
                    data={"stage1": "unit_approver", "stage2": "nope"})
    assert r.status_code == 400
    r = client.post(f"/admin/unit/{units['b'].id}/tahap",
                    data={"stage1": "unit_approver", "stage2": "region_verifier",
                          "remind_hours": "24"})
    assert r.status_code == 302, r.get_data(as_text=True)[-3000:]
    r = client.post(f"/admin/pengguna/{world.approver.id}/verifikator", data={"on": "1"})
    assert r.status_code == 302
    with core.sessions() as s:
        from publisher.models import Unit

        assert _get(s, Unit, units["b"].id).review_stages == TWO
        assert _get(s, User, world.approver.id).region_verifier
        assert {"unit.review_stages", "user.verifier"} <= set(s.execute(
            select(AuditEvent.action)).scalars())


def test_reject_at_stage_two_and_reschedule_sends_back(core: Core, world: World) -> None:
    post_id = _submitted(core, world)
    _approve(core, world.approver, post_id)
    with core.sessions.begin() as s:
        with pytest.raises(Forbidden):  # not the unit's approver at the region's stage
            with s.begin_nested():
                post_svc.reject_post(core, s, _as(s, world.approver2), post_id, "Tidak.")
        post_svc.reject_post(core, s, _as(s, world.verifier), post_id, "Data belum valid.")
    with core.sessions() as s:
        post = _get(s, Post, post_id)
        assert post.status == PostStatus.REJECTED
        assert post.rejection_comment == "Data belum valid."
    assert all(a.voided_at is not None for a in _approvals(core, post_id))
    # approved through both stages, then moved by the unit's approver: back to stage 1
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, _as(s, world.author), post_id)
    _approve(core, world.approver, post_id)
    _approve(core, world.verifier, post_id)
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, _as(s, world.approver), post_id,
                                 core.now() + timedelta(days=1))
    with core.sessions() as s:
        post = _get(s, Post, post_id)
        assert post.status == PostStatus.SUBMITTED
        assert review_stages.waiting_kind(s, post) == "unit_approver"
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.CANCELLED]


def test_a_later_stage_approved_ahead_is_skipped(core: Core, world: World) -> None:
    """``approve_stage``, for a campaign's fan-out: the region's stage approved on the draft;
    after stage 1 the post is approved at once, unless its content changed meanwhile."""
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, _as(s, world.author),
                                    post_svc.PostInput(body="Narasi tunggal.",
                                                       channels=[world.channel]))
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_stage(core, s, _as(s, world.verifier), post_id, "region_verifier")
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, _as(s, world.author), post_id)
    assert _approve(core, world.approver, post_id).status == PostStatus.APPROVED
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.QUEUED]


def test_moving_one_publication_of_a_staged_post_goes_back_through_its_stages(  # type: ignore[no-untyped-def]
        core: Core, world: World) -> None:
    """Review of the merged features: each stage approved the old time, so moving one
    publication (the calendar's drag, ``reschedule_publication``) may not keep the approval on
    one approver's word; the post goes back for approval like ``reschedule_post``."""
    from publisher.services import publications as pub_svc

    post_id = _submitted(core, world)
    _approve(core, world.approver, post_id)
    assert _approve(core, world.verifier, post_id).status == PostStatus.APPROVED
    (pub,) = _pubs(core, post_id)
    with core.sessions.begin() as s:
        pub_svc.reschedule_publication(core, s, _as(s, world.approver2), pub.id,
                                       core.now() + timedelta(days=2))
    with core.sessions() as s:
        assert _get(s, Post, post_id).status == PostStatus.SUBMITTED
        assert review_stages.waiting_kind(s, _get(s, Post, post_id)) == "unit_approver"
    assert [p.status for p in _pubs(core, post_id)] == [PublicationStatus.CANCELLED]
