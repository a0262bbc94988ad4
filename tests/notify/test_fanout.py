"""The fan-out: every path that records a bell event reaches the outgoing messages, the
group commit of a publishing burst included; the bell's own rule decides who."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from publisher.jobs import PUBLISH
from publisher.models import DeliveryStatus, Role, User
from publisher.services import org
from publisher.worker import run_job
from publisher.worker.batch import run_publish_batch
from publisher.worker.runner import apply_result
from tests.helpers import approved_post, sandbox_channel
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post


def test_a_burst_recorded_in_one_group_commit_tells_each_author(core, make_user,
                                                                smtp_server):
    """The burst path records its audit events with one bulk insert, not ``audit.record``:
    its fan-outs must be enqueued there too."""
    authors = [make_user(Role.OPERATOR, email=f"penulis{i}@dinsos.example.go.id")
               for i in range(3)]
    ap = make_user(Role.APPROVER)
    for a in authors:
        set_prefs(core, a, {"kind-published": "email"})
    for i, a in enumerate(authors):
        approved_post(core, a, ap, [sandbox_channel(core, a, f"burst{i}")],
                      body=f"Serentak {i}")
    before = len(jobs(core, "notify_fanout"))  # the submissions' and approvals' own
    claimed = core.queue.claim("batcher", lease_seconds=60, limit=10, kinds=[PUBLISH])
    assert len(claimed) == 3
    with ThreadPoolExecutor(3) as calls:
        run_publish_batch(core, claimed, calls, run_step=lambda j, step: run_job(core, j, step),
                          settle=lambda j, r: apply_result(core, j, r))
    assert len(jobs(core, "notify_fanout")) == before + 3
    drain(core)
    assert sorted(m.rcpt_tos[0] for m in smtp_server.messages) == [
        f"penulis{i}@dinsos.example.go.id" for i in range(3)]
    subjects = {m.message["Subject"] for m in smtp_server.messages}
    assert all(s.startswith("Terbit: Serentak") for s in subjects)
    assert all(d.status == DeliveryStatus.SENT for d in deliveries(core))


def test_approvers_are_not_asked_about_their_own_post_nor_another_units(core, make_user, units,
                                                               smtp_server):
    op = make_user(Role.OPERATOR)
    approver_author = make_user(Role.APPROVER)  # an approver who writes: not asked to approve
    admin = make_user(Role.ADMIN, None, email="admin@diskominfo.example.go.id")
    elsewhere = make_user(Role.APPROVER, unit="b")
    for u in (op, approver_author, admin, elsewhere):
        set_prefs(core, u, {"kind-approval_requested": "email"})
    submitted_post(core, approver_author)
    drain(core)
    assert [m.rcpt_tos[0] for m in smtp_server.messages] == ["admin@diskominfo.example.go.id"]


def test_a_deactivated_user_gets_nothing(core, make_user, smtp_server):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    admin = make_user(Role.ADMIN, None)
    set_prefs(core, ap, {"kind-approval_requested": "email"})
    with core.sessions.begin() as s:
        from publisher.services import accounts

        accounts.update_user(s, s.get(User, admin.id), ap.id, active=False)
    submitted_post(core, op)
    drain(core)
    assert smtp_server.messages == [] and deliveries(core) == []
    assert org  # noqa: B018


def test_an_author_who_approves_their_own_post_is_not_told_so(core, make_user, smtp_server):
    """With self-approval on, the approver of a post can be its author: the approval is their
    own action, so no "your post was approved" reaches them."""
    core.settings = core.settings.with_(allow_self_approval=True)
    author = make_user(Role.APPROVER, email="penulis@dinsos.example.go.id")
    set_prefs(core, author, {"kind-approved": "email"})
    approved_post(core, author, author, [sandbox_channel(core, author, "self")])
    drain(core)
    assert [d.kind for d in deliveries(core)] == [] and smtp_server.messages == []
    other = make_user(Role.APPROVER)
    approved_post(core, author, other, [sandbox_channel(core, author, "self2")])
    drain(core)
    assert [m.rcpt_tos for m in smtp_server.messages] == [["penulis@dinsos.example.go.id"]]
