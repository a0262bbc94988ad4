# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
"""Four eyes that cannot be bypassed: nobody approves content they wrote or changed (UI
composer, ``PATCH /api/v1/posts/{id}``), and moving an approved post in time is part of what
was approved (the post page, the calendar's drag, a publication's "jadwal ulang")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from postqueue.models import Job
from publisher.models import AuditEvent, Post, PostStatus, Publication, PublicationStatus, Role
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden
from tests.security.trust_fixtures import app, make_channel, make_post  # noqa: F401
from web.ui.notifications.feed import notifications_for


def _status(core, post_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Post, post_id).status


def _user(s, u):  # type: ignore[no-untyped-def]
    from publisher.models import User

    return s.get(User, u.id)


def test_an_approver_who_edits_in_the_composer_cannot_approve(client, login_as, make_user,
                                                              make_channel, make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = make_user(Role.OPERATOR, "a")
    post_id = make_post(author, [ch], body="Teks operator", state="submitted")
    approver = login_as(Role.APPROVER, "a")
    r = client.post(f"/unggahan/{post_id}/ubah", data={"body": "Teks penyetuju",
                                                       "channels": [str(ch)]})
    assert r.status_code in (200, 302), r.get_data(as_text=True)[:500]
    with core.sessions() as s:
        assert s.get(Post, post_id).body == "Teks penyetuju"
    client.post(f"/unggahan/{post_id}/ajukan")
    assert _status(core, post_id) == PostStatus.SUBMITTED
    page = client.get("/persetujuan").get_data(as_text=True)
    assert "penyetuju lain harus menyetujuinya" in page.lower() or "another approver" in page
    client.post(f"/persetujuan/{post_id}/setujui")
    assert _status(core, post_id) == PostStatus.SUBMITTED
    with core.sessions.begin() as s:
        with pytest.raises(Forbidden) as exc:
            post_svc.approve_post(core, s, _user(s, approver), post_id)
        assert exc.value.code == "self_approval"
    # a second approver, who changed nothing, may approve: and the approval records them
    other = make_user(Role.APPROVER, "a")
    with core.sessions.begin() as s:
        post = post_svc.approve_post(core, s, _user(s, other), post_id)
        assert post.approved_by == other.id
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "post.approve")
                          ).scalar_one()
        assert event.data["hash"] == post.approval_hash == content_hash(post)
        assert event.actor_id == other.id


def test_an_approver_who_edits_through_the_api_cannot_approve(api_as, make_user, make_channel,
                                                              make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = make_user(Role.OPERATOR, "a")
    post_id = make_post(author, [ch], body="Teks operator", state="submitted")
    approver = api_as(make_user(Role.APPROVER, "a"))
    r = approver.patch(f"/posts/{post_id}", json={"body": "Teks penyetuju"})
    assert r.status_code == 200, r.get_json()
    assert approver.post(f"/posts/{post_id}/submit").status_code == 200
    r = approver.post(f"/posts/{post_id}/approve")
    assert r.status_code == 403, r.get_json()
    assert _status(core, post_id) == PostStatus.SUBMITTED


def test_an_edit_that_only_moves_the_time_does_not_make_a_writer(make_user, make_channel,
                                                                 make_post, core, clock):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author, approver = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="submitted")
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, _user(s, approver), post_id,
                             post_svc.PostInput(scheduled_at=clock.now + timedelta(days=2)))
        post_svc.submit_post(core, s, _user(s, approver), post_id)
        post_svc.approve_post(core, s, _user(s, approver), post_id)
    assert _status(core, post_id) == PostStatus.APPROVED


def test_self_approval_opt_out_still_works(test_env, clock, units):  # type: ignore[no-untyped-def]
    from publisher.config import load_settings
    from publisher.core import build_core
    from publisher.services import channels as channel_svc
    from publisher.services import org

    core = build_core(load_settings({**test_env, "WARTA_ALLOW_SELF_APPROVAL": "1"}), clock=clock)
    try:
        with core.sessions.begin() as s:
            ap = org.create_user(s, email="solo@example.go.id", name="Solo", role=Role.APPROVER,
                                 unit=s.merge(units["a"]), password="rahasia123",
                                 check_strength=False)
            ch = channel_svc.create_channel(core, s, ap, platform="sandbox", name="x",
                                            credentials={"account": "solo", "token": "t"})
            post = post_svc.create_post(core, s, ap, post_svc.PostInput(body="Hai",
                                                                        channels=[ch.id]))
            post_svc.submit_post(core, s, ap, post.id)
            assert post_svc.approve_post(core, s, ap, post.id).status == PostStatus.APPROVED
    finally:
        core.engine.dispose()


def test_an_approval_binds_the_version_the_approver_saw(make_user, make_channel, make_post,
                                                        core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author, approver = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="submitted")
    with core.sessions.begin() as s:
        with pytest.raises(Conflict):
            post_svc.approve_post(core, s, _user(s, approver), post_id, "0" * 64)
    with core.sessions.begin() as s:
        seen = content_hash(s.get(Post, post_id))
        post_svc.approve_post(core, s, _user(s, approver), post_id, seen)
    assert _status(core, post_id) == PostStatus.APPROVED


def _queued_jobs(core, post_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.post_id == post_id)).scalars().all()
        job_ids = [p.job_id for p in pubs if p.status == PublicationStatus.QUEUED and p.job_id]
        jobs = [s.get(Job, j) for j in job_ids]
        return pubs, [j for j in jobs if j is not None and j.status == "queued"]


@pytest.mark.parametrize("how", ["form", "drag"])
def test_an_operator_moving_an_approved_post_sends_it_back_for_approval(
        how, client, login_as, make_user, make_channel, make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    operator = login_as(Role.OPERATOR, "a")
    post_id = make_post(operator, [ch], state="approved", approver=approver)
    if how == "drag":
        r = client.post(f"/unggahan/{post_id}/jadwal", json={"when": "2026-06-10T10:05"})
        assert r.status_code == 200, r.get_json()
    else:
        client.post(f"/unggahan/{post_id}/jadwal", data={"when": "2026-06-10T10:05"})
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.SUBMITTED
        assert post.approval_hash is None and post.approved_by is None
        pubs = s.execute(select(Publication).where(Publication.post_id == post_id)).scalars()
        assert {p.status for p in pubs} == {PublicationStatus.CANCELLED}
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "post.reschedule")
                          ).scalar_one()
        assert event.data["back_to_approval"] is True and event.actor_id == operator.id
        # the approvers hear about it, through the usual submission notification
        items = notifications_for(s, _user(s, approver))
        assert any(n.event.action == "post.submit" and n.post_id == post_id for n in items)
    # and the approver approves it again at the new time
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, _user(s, approver), post_id)
    pubs, jobs = _queued_jobs(core, post_id)
    assert len(jobs) == 1


def test_an_approver_moving_it_keeps_the_approval_and_the_audit_says_from_when(
        make_user, make_channel, make_post, core, clock):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author, approver = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    mover = make_user(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    later = clock.now + timedelta(days=30)
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, _user(s, mover), post_id, later)
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED
        assert post.approval_hash == content_hash(post)
        event = s.execute(select(AuditEvent).where(AuditEvent.action == "post.reschedule")
                          ).scalar_one()
        assert event.actor_id == mover.id and event.data["kept_approval"] is True
        assert event.data["from"] is None and event.data["scheduled_at"] == later.isoformat()
    _pubs, jobs = _queued_jobs(core, post_id)
    assert len(jobs) == 1


def test_the_author_who_is_an_approver_cannot_keep_the_approval_by_moving_it(
        make_user, make_channel, make_post, core, clock):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author, approver = make_user(Role.APPROVER, "a"), make_user(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, _user(s, author), post_id, clock.now)
    assert _status(core, post_id) == PostStatus.SUBMITTED


def test_a_publications_jadwal_ulang_by_an_operator_needs_approval_again(
        client, login_as, make_user, make_channel, make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    operator = login_as(Role.OPERATOR, "a")
    post_id = make_post(operator, [ch], state="approved", approver=approver)
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        pub.status = PublicationStatus.MISSED
        pub_id = pub.id
    client.post(f"/penayangan/{pub_id}/jadwal-ulang", data={"when": "2026-06-10T10:05"})
    with core.sessions() as s:
        assert s.get(Publication, pub_id).status == PublicationStatus.CANCELLED
        post = s.get(Post, post_id)
        assert post.status == PostStatus.SUBMITTED and post.approval_hash is None
        assert post.scheduled_at is not None
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, _user(s, approver), post_id)
    _pubs, jobs = _queued_jobs(core, post_id)
    assert len(jobs) == 1


def test_a_publications_jadwal_ulang_by_an_approver_keeps_the_approval(
        make_user, make_channel, make_post, core, clock):
    from publisher.services import publications as pub_svc

    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author, approver = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        pub.status = PublicationStatus.MISSED
        pub_id = pub.id
    with core.sessions.begin() as s:
        pub_svc.reschedule_publication(core, s, _user(s, approver), pub_id,
                                       clock.now + timedelta(hours=1))
    with core.sessions() as s:
        assert s.get(Publication, pub_id).status == PublicationStatus.QUEUED
        assert s.get(Post, post_id).status == PostStatus.APPROVED
