"""Recurring posts in the database, on both backends: the approval covers the series, each
occurrence becomes one publication per channel a day ahead, never twice, and approvers (not
operators) skip or move one occurrence without approving the series again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from publisher.models import (
    Post,
    PostRecurrence,
    PostStatus,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import posts as post_svc
from publisher.services import recurrence
from publisher.services.approval import content_hash, content_hash_of
from publisher.services.errors import Forbidden, Invalid
from publisher.worker import run_once
from tests.helpers import outbox_records, sandbox_channel

#: An instant for the hash literals below (computed before recurring posts existed).
HASHED_AT = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
DAILY = {"freq": "daily", "count": 5}


@pytest.fixture
def first(clock) -> datetime:  # type: ignore[no-untyped-def]
    """The series' first time: two hours after wherever the clock starts (WARTA_TEST_NOW)."""
    return (clock.now + timedelta(hours=2)).replace(second=0, microsecond=0)


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER)}


def _series(core, people, first, rule=DAILY, accounts=("rc-a", "rc-b"), approve=True):  # type: ignore[no-untyped-def]
    channels = [sandbox_channel(core, people["op"], a) for a in accounts]
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, people["op"].id), post_svc.PostInput(
            body="Posyandu balita setiap hari.", channels=channels, scheduled_at=first,
            recurrence=dict(rule)))
        post_svc.submit_post(core, s, s.get(User, people["op"].id), post.id)
        post_id = post.id
    if approve:
        with core.sessions.begin() as s:
            post_svc.approve_post(core, s, s.get(User, people["ap"].id), post_id)
    return post_id


def _live(core, post_id) -> list[tuple[datetime, datetime, int]]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return [(p.occurrence_at, p.scheduled_at, p.channel_id) for p in s.execute(
            select(Publication).where(Publication.post_id == post_id,
                                      Publication.status != PublicationStatus.CANCELLED)
            .order_by(Publication.occurrence_at, Publication.channel_id)).scalars()]


def test_one_off_posts_hash_exactly_as_before() -> None:
    """Literals computed with the hash before recurring posts existed: a stored approval of a
    one-off post must stay valid."""
    assert content_hash_of(body="Posyandu", link=None, overrides={"3": {"body": "x"}},
                           media_hashes=["ab"], channel_ids=[2, 1], scheduled_at=HASHED_AT) == \
        "0979c67452469ad156424bf840760b807237deb7e37df061b11b89bb65bbb63a"
    assert content_hash_of(body="Posyandu", link="https://a.id", overrides=None, media_hashes=[],
                           channel_ids=[1], scheduled_at=None) == \
        "cfaacd51bfc0054d75e97ebbd0b5c0557f923007b41753b5cfb190647347a037"
    assert content_hash_of(body="Posyandu", link=None, overrides=None, media_hashes=[],
                           channel_ids=[1], scheduled_at=HASHED_AT, recurrence={"freq": "daily"}) \
        != content_hash_of(body="Posyandu", link=None, overrides=None, media_hashes=[],
                           channel_ids=[1], scheduled_at=HASHED_AT)


def test_occurrences_materialise_a_day_ahead_once_each(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first)
    made = _live(core, post_id)
    assert [(o, w) for o, w, _ in made] == [(first, first)] * 2  # today's, both channels
    assert recurrence.sweep(core) == 0  # run again: nothing new
    with core.sessions.begin() as s:  # and a second worker racing it: the index says no
        assert recurrence.materialise(core, s, s.get(Post, post_id)) == 0
    clock.advance(hours=24)
    assert recurrence.sweep(core) == 2
    assert recurrence.sweep(core) == 0
    assert [o for o, _, _ in _live(core, post_id)] == [first] * 2 + [first + timedelta(days=1)] * 2
    clock.advance(days=10)
    recurrence.sweep(core)
    assert len(_live(core, post_id)) == 10  # count=5 ends it: 5 occurrences x 2 channels


def test_the_unique_key_refuses_a_second_publication(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first, accounts=("rc-u",))
    with core.sessions.begin() as s:
        post = s.get(Post, post_id)
        assert recurrence._insert_once(s, post, post.channel_ids[0], first, first,
                                       core.now()) is None
    assert len(_live(core, post_id)) == 1


def test_the_worker_publishes_each_occurrence_once(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first, accounts=("rc-w",))
    clock.advance(hours=2)  # 12:00 WIB
    run_once(core)
    run_once(core)
    assert len(outbox_records(core, "rc-w")) == 1
    clock.advance(hours=24)
    run_once(core)  # sweeps tomorrow's into being, and publishes it at its time
    run_once(core)
    assert len(outbox_records(core, "rc-w")) == 2
    with core.sessions() as s:
        assert s.get(Post, post_id).status == PostStatus.APPROVED


def test_a_rule_changed_behind_the_service_is_not_published(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    """The worker recomputes the hash with the rule: a database edit of the rule voids it."""
    post_id = _series(core, people, first, accounts=("rc-x",))
    with core.sessions.begin() as s:
        s.execute(update(PostRecurrence).where(PostRecurrence.post_id == post_id)
                  .values(count=300))
    clock.advance(hours=2)
    run_once(core)
    assert outbox_records(core, "rc-x") == []


def test_editing_the_rule_voids_the_approval(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first)
    with core.sessions() as s:
        before = content_hash(s.get(Post, post_id))
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), post_id,
                             post_svc.PostInput(recurrence={"freq": "daily", "count": 6}))
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.DRAFT and post.approval_hash is None
        assert content_hash(post) != before
    assert _live(core, post_id) == []
    assert recurrence.sweep(core) == 0


def test_an_unchanged_rule_is_no_edit(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first)
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), post_id,
                             post_svc.PostInput(recurrence=dict(DAILY)))
    with core.sessions() as s:
        assert s.get(Post, post_id).status == PostStatus.APPROVED
    assert len(_live(core, post_id)) == 2


def test_a_bad_rule_is_a_field_error(core, people, first) -> None:  # type: ignore[no-untyped-def]
    channel = sandbox_channel(core, people["op"], "rc-bad")
    with core.sessions.begin() as s, pytest.raises(Invalid) as err:
        post_svc.create_post(core, s, s.get(User, people["op"].id), post_svc.PostInput(
            body="x", channels=[channel], scheduled_at=first,
            recurrence={"freq": "daily", "count": 400}))
    assert "recurrence.count" in err.value.fields


def test_approvers_skip_an_occurrence_operators_may_not(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first)
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        recurrence.skip_occurrence(core, s, s.get(User, people["op"].id), post_id, first)
    with core.sessions.begin() as s:
        recurrence.skip_occurrence(core, s, s.get(User, people["ap"].id), post_id, first)
        recurrence.skip_occurrence(core, s, s.get(User, people["ap"].id), post_id,
                                   first + timedelta(days=1))  # not materialised yet
    assert _live(core, post_id) == []
    clock.advance(hours=24)
    recurrence.sweep(core)
    recurrence.sweep(core)
    assert _live(core, post_id) == []  # tomorrow's stays skipped
    clock.advance(hours=24)
    recurrence.sweep(core)
    assert [o for o, _, _ in _live(core, post_id)] == [first + timedelta(days=2)] * 2
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED and post.approval_hash == content_hash(post)
        states = [o.state for o in recurrence.upcoming(core, s, post)]
    assert states == ["planned", "planned", "planned"]  # the past ones are no longer listed


def test_approvers_move_an_occurrence_without_reapproval(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first)
    moved = first + timedelta(hours=3)
    later = first + timedelta(days=3)
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        recurrence.move_occurrence(core, s, s.get(User, people["op"].id), post_id, first, moved)
    with core.sessions.begin() as s:
        ap = s.get(User, people["ap"].id)
        recurrence.move_occurrence(core, s, ap, post_id, first, moved)
        # a later one moved into the next hours is made at once, under its own key
        recurrence.move_occurrence(core, s, ap, post_id, later, first + timedelta(hours=5))
        with pytest.raises(Invalid):  # not an occurrence of the series
            recurrence.move_occurrence(core, s, ap, post_id, first + timedelta(minutes=1), moved)
    assert _live(core, post_id)[:2] == [(first, moved, _live(core, post_id)[0][2]),
                                        (first, moved, _live(core, post_id)[1][2])]
    assert [w for o, w, _ in _live(core, post_id) if o == later] == \
        [first + timedelta(hours=5)] * 2
    clock.advance(days=4)
    recurrence.sweep(core)
    with core.sessions() as s:
        assert s.execute(select(func.count()).select_from(Publication).where(
            Publication.post_id == post_id, Publication.occurrence_at == later)).scalar() == 2
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED and post.approval_hash == content_hash(post)


def test_a_series_can_be_cancelled_after_some_went_out(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    post_id = _series(core, people, first, accounts=("rc-c",))
    clock.advance(hours=2)
    run_once(core)
    with core.sessions.begin() as s:
        post_svc.cancel_post(core, s, s.get(User, people["op"].id), post_id)
    clock.advance(hours=24)
    run_once(core)
    assert len(outbox_records(core, "rc-c")) == 1


@pytest.mark.postgresql_only
def test_two_workers_racing_make_one_set(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    """Two sweeps in flight at once (two workers): the second's insert waits on the first's
    uncommitted row, then does nothing. One publication per channel, one job each."""
    import threading

    post_id = _series(core, people, first, accounts=("rc-r",), approve=False)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, people["ap"].id), post_id)
        s.execute(update(Publication).where(Publication.post_id == post_id)
                  .values(status=PublicationStatus.CANCELLED))  # as if never made
    results: list[int] = []
    a = core.sessions()
    a.begin()
    results.append(recurrence.materialise(core, a, a.get(Post, post_id)))

    def other() -> None:
        with core.sessions.begin() as b:
            results.append(recurrence.materialise(core, b, b.get(Post, post_id)))

    t = threading.Thread(target=other)
    t.start()
    t.join(timeout=1.0)
    assert t.is_alive()  # waiting on A's row, not inserting its own
    a.commit()
    a.close()
    t.join(timeout=10)
    assert results == [1, 0]
    assert len(_live(core, post_id)) == 1


def test_moving_the_series_start_remakes_its_occurrences(core, clock, people, first) -> None:  # type: ignore[no-untyped-def]
    """An approver reschedules the series: its queued occurrences follow the new start, the
    approval re-bound to it; an operator moving one occurrence's publication is refused (it
    would move the whole series' start)."""
    from publisher.services import publications as pub_svc

    post_id = _series(core, people, first, accounts=("rc-s",))
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)).scalar()
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        pub_svc.reschedule_publication(core, s, s.get(User, people["op"].id), pub_id,
                                       first + timedelta(hours=1))
    later = first + timedelta(hours=3)
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, s.get(User, people["ap"].id), post_id, later)
    assert [(o, w) for o, w, _ in _live(core, post_id)] == [(later, later)]
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED and post.approval_hash == content_hash(post)


def test_an_occurrence_is_moved_only_by_another_approver_and_not_in_several_stages(  # type: ignore[no-untyped-def]
        core, people, first, make_user, units) -> None:
    """The time is part of what was approved (review of the merged features): the approver who
    wrote a series may not move one of its occurrences (four eyes), and in a series of several
    approval stages no single person may (it is rescheduled as a whole, back through them)."""
    from publisher.services import review_stages

    writer = make_user(Role.APPROVER)  # an approver writes the series, another approves it
    channel = sandbox_channel(core, writer, "rc-w")
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, writer.id), post_svc.PostInput(
            body="Pengumuman pelayanan.", channels=[channel], scheduled_at=first,
            recurrence=dict(DAILY)))
        post_svc.submit_post(core, s, s.get(User, writer.id), post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, people["ap"].id), post_id)
    with core.sessions.begin() as s, pytest.raises(Forbidden, match="bukan penulisnya"):
        recurrence.move_occurrence(core, s, s.get(User, writer.id), post_id, first,
                                   first + timedelta(hours=3))
    admin = make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:
        review_stages.set_unit_stages(s, s.get(User, admin.id), units["a"].id,
                                      ["unit_approver", "region_verifier"])
    staged = _series(core, people, first, accounts=("rc-s",), approve=False)
    with core.sessions.begin() as s:  # waiting at its stages: the approver may not move it
        post_svc.approve_post(core, s, s.get(User, people["ap"].id), staged)
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        recurrence.move_occurrence(core, s, s.get(User, people["ap"].id), staged, first,
                                   first + timedelta(hours=3))


def _fail(core, pub_id: int, status: str = PublicationStatus.FAILED) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        s.execute(update(Publication).where(Publication.id == pub_id)
                  .values(status=status, error="Media ditolak platform."))


def _reshape(core, people, post_id: int, data: post_svc.PostInput) -> None:  # type: ignore[no-untyped-def]
    """Edit (voids the approval), submit and approve again."""
    for role, step in (("op", lambda s, u: post_svc.update_post(core, s, u, post_id, data)),
                       ("op", lambda s, u: post_svc.submit_post(core, s, u, post_id)),
                       ("ap", lambda s, u: post_svc.approve_post(core, s, u, post_id))):
        with core.sessions.begin() as s:
            step(s, s.get(User, people[role].id))


def _states(core, post_id) -> list[tuple[bool, str]]:  # type: ignore[no-untyped-def]
    """(is an occurrence, status) of every publication, oldest first."""
    with core.sessions() as s:
        return [(p.occurrence_at is not None, p.status) for p in s.execute(
            select(Publication).where(Publication.post_id == post_id)
            .order_by(Publication.id)).scalars()]


def _retry(core, people, pub_id: int) -> None:  # type: ignore[no-untyped-def]
    from publisher.services import publications as pub_svc

    with core.sessions.begin() as s:
        pub_svc.retry_publication(core, s, s.get(User, people["op"].id), pub_id)


def test_a_series_made_one_off_after_a_failed_occurrence_goes_out_once_at_its_time(  # type: ignore[no-untyped-def]
        core, clock, people, first) -> None:
    """Before: the failed occurrence counted as "already there", so the approved one-off got
    no publication and never went out, while the occurrence of the gone series could still be
    retried."""
    from publisher.services.errors import Conflict

    post_id = _series(core, people, first, accounts=("rc-shape",))
    occurrence = _live(core, post_id)
    assert len(occurrence) == 1  # the first occurrence, a day ahead
    with core.sessions() as s:
        occ_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    _fail(core, occ_id)
    when = first + timedelta(days=3)
    _reshape(core, people, post_id, post_svc.PostInput(recurrence={}, scheduled_at=when))
    assert _states(core, post_id) == [(True, PublicationStatus.CANCELLED),
                                      (False, PublicationStatus.QUEUED)]
    with pytest.raises(Conflict):
        _retry(core, people, occ_id)  # cancelled: the series it belonged to is gone
    clock.now = when - timedelta(minutes=1)
    run_once(core)
    assert outbox_records(core, "rc-shape") == []  # not before its time
    clock.now = when
    run_once(core)
    run_once(core)
    assert len(outbox_records(core, "rc-shape")) == 1
    assert _states(core, post_id)[-1] == (False, PublicationStatus.PUBLISHED)


def test_a_one_off_made_a_series_after_failing_cannot_be_retried_beside_it(  # type: ignore[no-untyped-def]
        core, clock, people, first) -> None:
    from publisher.services.errors import Conflict

    channel = sandbox_channel(core, people["op"], "rc-shape2")
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, people["op"].id), post_svc.PostInput(
            body="Posyandu balita.", channels=[channel], scheduled_at=first))
        post_svc.submit_post(core, s, s.get(User, people["op"].id), post.id)
        post_id = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, people["ap"].id), post_id)
    with core.sessions() as s:
        one_off = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                            ).scalar_one()
    _fail(core, one_off)
    _reshape(core, people, post_id, post_svc.PostInput(recurrence=dict(DAILY)))
    states = _states(core, post_id)
    assert states[0] == (False, PublicationStatus.CANCELLED)
    assert states[1:] and all(occ and st == PublicationStatus.QUEUED for occ, st in states[1:])
    with pytest.raises(Conflict):
        _retry(core, people, one_off)


def test_an_unconfirmed_occurrence_stays_for_a_person_and_still_counts_as_there(  # type: ignore[no-untyped-def]
        core, clock, people, first) -> None:
    """It may have gone out: not cancelled, and no one-off is made beside it on its channel."""
    post_id = _series(core, people, first, accounts=("rc-shape3",))
    with core.sessions() as s:
        occ_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    _fail(core, occ_id, PublicationStatus.UNCONFIRMED)
    _reshape(core, people, post_id, post_svc.PostInput(recurrence={},
                                                       scheduled_at=first + timedelta(days=3)))
    assert _states(core, post_id) == [(True, PublicationStatus.UNCONFIRMED)]
