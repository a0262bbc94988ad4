"""Emergency broadcast rules through the service and the real worker (``run_once``): two
different admins, a confirmation bound to the content, freeze windows passed by the
emergency only, and the worker's backstop against content that is not what was confirmed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.models import (
    Pause,
    PauseScope,
    Post,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import emergency as em_svc
from publisher.services import pauses
from publisher.services.approval import content_hash
from publisher.services.emergency import EmergencyInput
from publisher.services.errors import Conflict, Forbidden
from publisher.worker import run_once
from tests.emergency.conftest import ACCOUNTS_A, ACCOUNTS_B, DISABLED, World, confirm, start
from tests.helpers import approved_post, outbox_records

S = PublicationStatus


def _statuses(core) -> dict[int, str]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return dict(s.execute(select(Publication.channel_id, Publication.status)).all())


def test_the_starter_and_an_operator_cannot_confirm(core, world: World) -> None:
    em_id, h = start(core, world.starter)
    with pytest.raises(Forbidden) as refused:
        confirm(core, world.starter, em_id, h)
    assert refused.value.code == "two_person"
    with pytest.raises(Forbidden) as op:
        confirm(core, world.operator, em_id, h)
    assert op.value.code == "wrong_role"
    with pytest.raises(Forbidden):
        start(core, world.operator)
    assert _statuses(core) == {}  # nothing queued
    confirm(core, world.confirmer, em_id, h)
    with core.sessions() as s:
        em = em_svc.get(s, em_id)
        assert (em.started_by, em.confirmed_by) == (world.starter.id, world.confirmer.id)
    with pytest.raises(Conflict):  # once confirmed, it cannot be confirmed or edited again
        confirm(core, world.third, em_id, h)
    with pytest.raises(Conflict), core.sessions.begin() as s:
        em_svc.edit(core, s, s.get(User, world.third.id), em_id,
                    EmergencyInput(title="x", body="y"))


def test_an_edit_after_start_needs_a_new_confirmation(core, world: World, units) -> None:
    em_id, seen = start(core, world.starter)
    with core.sessions.begin() as s:
        edited = em_svc.edit(core, s, s.get(User, world.third.id), em_id,
                             EmergencyInput(title="Gempa", body="Gempa M6: evakuasi ke bukit.",
                                            unit_ids=[units["b"].id]))
        new_hash = edited.content_hash
    assert new_hash != seen
    with pytest.raises(Conflict):  # confirmed what it read, which is no longer the content
        confirm(core, world.confirmer, em_id, seen)
    with pytest.raises(Forbidden):  # the editor may not confirm their own words
        confirm(core, world.third, em_id, new_hash)
    confirm(core, world.confirmer, em_id, new_hash)
    with core.sessions() as s:
        bodies = set(s.execute(select(Post.body)).scalars())
    assert bodies == {"Gempa M6: evakuasi ke bukit."}
    # Only the chosen unit's active accounts are targets (not unit a, not b's disabled one).
    assert set(_statuses(core)) == {world.channels["em-b1"]}


def test_a_freeze_window_holds_ordinary_posts_but_not_the_emergency(core, world: World,
                                                                    make_user) -> None:
    approver = make_user(Role.APPROVER, "a")
    ordinary = approved_post(core, world.operator, approver, [world.channels["em-a1"]],
                             body="Jadwal posyandu minggu ini.")
    with core.sessions.begin() as s:
        pauses.create_pause(s, s.get(User, world.starter.id), scope=PauseScope.GLOBAL,
                            starts_at=core.now() - timedelta(minutes=1), reason="masa tenang")
    em_id, h = start(core, world.starter)
    confirm(core, world.confirmer, em_id, h)
    run_once(core)
    for account in [*ACCOUNTS_A, *ACCOUNTS_B]:
        assert [r["body"] for r in outbox_records(core, account)] == [
            "Gempa M5,8: tetap tenang, jauhi bangunan."], account
    assert outbox_records(core, DISABLED) == []
    with core.sessions() as s:
        held = s.execute(select(Publication.status).where(
            Publication.post_id == ordinary)).scalar_one()
        assert s.execute(select(Pause)).scalars().one().lifted is False
    assert held == S.QUEUED  # the ordinary post still waits for the freeze to end


@pytest.mark.parametrize("tamper", ["body_and_approval", "unconfirmed"])
def test_the_worker_refuses_content_that_is_not_what_was_confirmed(core, world: World,
                                                                   tamper: str) -> None:
    """Even a database edit that keeps the post's own approval hash consistent is caught:
    the worker recomputes the emergency's hash from what it would send."""
    em_id, h = start(core, world.starter)
    confirm(core, world.confirmer, em_id, h)
    with core.sessions.begin() as s:
        if tamper == "body_and_approval":
            for post in s.execute(select(Post)).scalars():
                post.body = "Hoaks: tidak ada gempa."
                s.flush()
                post.approval_hash = content_hash(post)
        else:
            em_svc.get(s, em_id).status = "started"
    run_once(core)
    for account in [*ACCOUNTS_A, *ACCOUNTS_B]:
        assert outbox_records(core, account) == []
    with core.sessions() as s:
        codes = set(s.execute(select(Publication.error_code)).scalars())
    assert set(_statuses(core).values()) == {S.FAILED}
    assert codes == {"emergency_mismatch"}


def test_post_mortem_lists_each_account_and_the_trail(core, world: World, clock) -> None:
    em_id, h = start(core, world.starter)
    clock.advance(seconds=30)
    confirm(core, world.confirmer, em_id, h)
    run_once(core)
    with core.sessions() as s:
        em = em_svc.get(s, em_id)
        rows = em_svc.rows(s, em_id)
        trail = [e.action for e in em_svc.trail(s, em_id)]
        assert em_svc.seconds_to_publish(em, rows) == 0.0
    assert sorted(r.channel_name for r in rows) == sorted([*ACCOUNTS_A, *ACCOUNTS_B])
    assert all(r.status == S.PUBLISHED and r.published_at == clock.now for r in rows)
    assert em_svc.tally(rows) == {"published": 3, "pending": 0, "failed": 0}
    assert trail[:2] == ["emergency.start", "emergency.confirm"]
    assert trail.count("publication.published") == 3
    # Publishing twice cannot happen: the same publications, a second round finds nothing.
    run_once(core)
    assert all(len(outbox_records(core, a)) == 1 for a in [*ACCOUNTS_A, *ACCOUNTS_B])


def test_a_unit_cannot_edit_or_move_an_emergency_post(core, world: World) -> None:
    """Review of the merged features: the freeze-window bypass is for the content two admins
    confirmed; a unit's edit or new time (then its own approval) must not ride on it."""
    from publisher.services import posts as post_svc
    from publisher.services import publications as pub_svc

    em_id, h = start(core, world.starter)
    confirm(core, world.confirmer, em_id, h)
    with core.sessions() as s:
        post_id, pub_id = s.execute(select(Publication.post_id, Publication.id)
                                    .join(Post, Post.id == Publication.post_id)
                                    .where(Post.unit_id == world.operator.unit_id)).first()
    with core.sessions.begin() as s, pytest.raises(Conflict, match="darurat"):
        post_svc.update_post(core, s, s.get_one(User, world.operator.id), post_id,
                             post_svc.PostInput(body="Gempa: info lain."))
    when = core.now() + timedelta(hours=3)
    with core.sessions.begin() as s, pytest.raises(Conflict, match="darurat"):
        post_svc.reschedule_post(core, s, s.get_one(User, world.third.id), post_id, when)
    with core.sessions.begin() as s, pytest.raises(Conflict, match="darurat"):
        pub_svc.reschedule_publication(core, s, s.get_one(User, world.third.id), pub_id, when)


def test_a_retried_emergency_publication_keeps_its_priority(core, world: World,
                                                             make_user) -> None:
    """Queued again by a person (retry) or after a reconnect, an emergency's publication is
    still ahead of ordinary posts; an ordinary one is not lifted with it."""
    from postqueue.models import Job
    from publisher.jobs import EMERGENCY_PRIORITY
    from publisher.services import publications as pub_svc
    from tests.helpers import set_control

    approver = make_user(Role.APPROVER, "a")
    set_control(core, "em-a1", mode="reject", times=2)
    ordinary = approved_post(core, world.operator, approver, [world.channels["em-a1"]],
                             body="Jadwal posyandu minggu ini.")
    em_id, h = start(core, world.starter)
    confirm(core, world.confirmer, em_id, h)
    run_once(core)
    with core.sessions() as s:
        failed = {p.post_id: p.id for p in s.execute(select(Publication).where(
            Publication.channel_id == world.channels["em-a1"],
            Publication.status == S.FAILED)).scalars()}
    assert ordinary in failed and len(failed) == 2
    with core.sessions.begin() as s:
        for pub_id in failed.values():
            pub_svc.retry_publication(core, s, s.get_one(User, world.starter.id), pub_id)
    with core.sessions() as s:
        priorities = {post_id: s.execute(select(Job.priority).join(
            Publication, Publication.job_id == Job.id).where(Publication.id == pub_id)
        ).scalar_one() for post_id, pub_id in failed.items()}
    assert priorities.pop(ordinary) == 0
    assert list(priorities.values()) == [EMERGENCY_PRIORITY]
