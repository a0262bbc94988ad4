"""Two people deciding on one post at the same moment, each on their own connection (as two
requests in two gunicorn threads would be): they must act one after the other.

Each race pauses the first decision after it has read the post and before it writes (the
policy gate is its last check) and lets the second person act meanwhile. With the post's row
locked for the decision (``access.lock_row``: ``FOR UPDATE`` on PostgreSQL; on SQLite a
writing transaction begins ``IMMEDIATE``) the second waits until the first has committed, then
decides on what the first left. Without the lock, on PostgreSQL, both decide on the same old
state: two approvals of one stage, a constraint error instead of a clear answer, or an
approval of content that an edit had just replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from publisher.core import Core
from publisher.db import make_engine, make_sessionmaker
from publisher.models import Post, PostStatus, Publication, Role, User
from publisher.models.review import StageApproval
from publisher.services import policy_gate, review_stages
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden
from tests.helpers import sandbox_channel

#: How long the paused decision waits for the other person before going on. With the lock
#: the other person cannot get anywhere meanwhile, so this is what a passing run waits.
PAUSE_S = 1.5


@pytest.fixture
def connections(test_env: dict[str, str]) -> Iterator[list[sessionmaker[Session]]]:
    """Two session factories, each on its own engine (own pool, own connection)."""
    engines = [make_engine(test_env["WARTA_DATABASE_URL"]) for _ in range(2)]
    yield [make_sessionmaker(e) for e in engines]
    for e in engines:
        e.dispose()


def _user(s: Session, user: User) -> User:
    row = s.get(User, user.id)
    assert row is not None
    return row


def _submitted(core: Core, author: User, channel: int) -> int:
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, _user(s, author), post_svc.PostInput(
            body="Pendaftaran bantuan sosial dibuka sampai Jumat.", channels=[channel]))
        post_svc.submit_post(core, s, _user(s, author), post.id)
        return post.id


def race(monkeypatch: pytest.MonkeyPatch, first: Callable[[], Any],
         second: Callable[[], Any]) -> list[Any]:
    """Run ``first`` (an approval) and, while it is paused between reading and writing,
    ``second``. Returns what each returned or raised."""
    started, second_done = threading.Event(), threading.Event()
    real_gate = policy_gate.enforce_on_approve
    me = threading.local()

    def paused_gate(*args: Any, **kwargs: Any) -> None:
        if getattr(me, "is_first", False):
            started.set()
            # the other person acts now; with the lock they wait for us, so we go on alone
            second_done.wait(PAUSE_S)
        real_gate(*args, **kwargs)

    monkeypatch.setattr(policy_gate, "enforce_on_approve", paused_gate)
    out: list[Any] = [None, None]

    def run_first() -> None:
        me.is_first = True
        try:
            out[0] = first()
        except Exception as exc:  # noqa: BLE001 - compared by the test
            out[0] = exc
            started.set()

    def run_second() -> None:
        assert started.wait(30), "the first decision never reached its pause"
        try:
            out[1] = second()
        except Exception as exc:  # noqa: BLE001 - compared by the test
            out[1] = exc
        finally:
            second_done.set()

    threads = [threading.Thread(target=run_first), threading.Thread(target=run_second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a decision hung"
    return out


def _approver(core: Core, factory: sessionmaker[Session], user: User,
              post_id: int) -> Callable[[], str]:
    def approve() -> str:
        with factory.begin() as s:
            post = post_svc.approve_post(core, s, _user(s, user), post_id)
            return post.status
    return approve


def _live_approvals(core: Core, post_id: int) -> list[tuple[int, int]]:
    with core.sessions() as s:
        return [(a.stage_index, a.approver_id) for a in s.execute(
            select(StageApproval).where(StageApproval.post_id == post_id,
                                        StageApproval.voided_at.is_(None))
            .order_by(StageApproval.id)).scalars()]


def test_two_approvers_of_one_stage_at_once_approve_it_once(  # type: ignore[no-untyped-def]
        core: Core, make_user, units, connections, monkeypatch) -> None:
    author = make_user(Role.OPERATOR, "a")
    one, two = make_user(Role.APPROVER, "a"), make_user(Role.APPROVER, "a")
    admin = make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:
        review_stages.set_unit_stages(s, _user(s, admin), units["a"].id,
                                      ["unit_approver", "unit_approver"])
    post_id = _submitted(core, author, sandbox_channel(core, author, "race-2"))
    got = race(monkeypatch, _approver(core, connections[0], one, post_id),
               _approver(core, connections[1], two, post_id))
    # the first approved stage 1; the second, after it, found stage 2 waiting and approved
    # that one (a different person, as the rule wants): each stage once, by two people
    assert got == [PostStatus.SUBMITTED, PostStatus.APPROVED], got
    assert _live_approvals(core, post_id) == [(0, one.id), (1, two.id)]


def test_two_approvers_of_the_last_stage_at_once_get_one_publication_and_a_clear_refusal(  # type: ignore[no-untyped-def]
        core: Core, make_user, connections, monkeypatch) -> None:
    author = make_user(Role.OPERATOR, "a")
    one, two = make_user(Role.APPROVER, "a"), make_user(Role.APPROVER, "a")
    post_id = _submitted(core, author, sandbox_channel(core, author, "race-1"))
    got = race(monkeypatch, _approver(core, connections[0], one, post_id),
               _approver(core, connections[1], two, post_id))
    assert got[0] == PostStatus.APPROVED, got
    # not a database error (a unique index stopped a second publication): the page's answer
    assert isinstance(got[1], Conflict) and got[1].code == "bad_status", got
    with core.sessions() as s:
        assert len(s.execute(select(Publication.id).where(
            Publication.post_id == post_id)).all()) == 1
    assert _live_approvals(core, post_id) == [(0, one.id)]


def test_an_edit_during_an_approval_never_leaves_other_content_approved(  # type: ignore[no-untyped-def]
        core: Core, make_user, connections, monkeypatch) -> None:
    author = make_user(Role.OPERATOR, "a")
    approver = make_user(Role.APPROVER, "a")
    post_id = _submitted(core, author, sandbox_channel(core, author, "race-edit"))

    def edit() -> str:
        with connections[1].begin() as s:
            return post_svc.update_post(core, s, _user(s, author), post_id, post_svc.PostInput(
                body="Pendaftaran bantuan sosial DITUTUP.")).status

    got = race(monkeypatch, _approver(core, connections[0], approver, post_id), edit)
    assert got[0] == PostStatus.APPROVED, got
    assert not isinstance(got[1], Exception), got
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post is not None and post.body == "Pendaftaran bantuan sosial DITUTUP."
        # the edit came after the approval and voided it; never "approved" over other words
        assert post.status != PostStatus.APPROVED
        assert post.approval_hash is None or post.approval_hash != content_hash(post)


def test_a_verifier_and_a_unit_approver_refused_clearly_not_by_the_database(  # type: ignore[no-untyped-def]
        core: Core, make_user, units, connections, monkeypatch) -> None:
    """The second decision is refused with the rule's own message (another stage waits)."""
    author = make_user(Role.OPERATOR, "a")
    one, two = make_user(Role.APPROVER, "a"), make_user(Role.APPROVER, "a")
    admin, verifier = make_user(Role.ADMIN, None), make_user(Role.APPROVER, "b")
    with core.sessions.begin() as s:
        review_stages.set_verifier(s, _user(s, admin), verifier.id, True)
        review_stages.set_unit_stages(s, _user(s, admin), units["a"].id,
                                      ["unit_approver", "region_verifier"])
    post_id = _submitted(core, author, sandbox_channel(core, author, "race-v"))
    got = race(monkeypatch, _approver(core, connections[0], one, post_id),
               _approver(core, connections[1], two, post_id))
    assert got[0] == PostStatus.SUBMITTED, got
    assert isinstance(got[1], Forbidden) and got[1].code == "wrong_stage", got
    assert _live_approvals(core, post_id) == [(0, one.id)]
