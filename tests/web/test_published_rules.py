"""What is live on a platform cannot be cancelled, moved or edited through Warta (the screen
used to say "Dibatalkan" while the channel said "Terbit"), and a post's own status rolls up its
publications in the list, the detail page and the API."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import Post, PostStatus, Publication, Role
from publisher.models.post import rollup_status
from publisher.worker import run_once


@pytest.mark.parametrize(("statuses", "expected"), [
    (["published", "published"], "published"),
    (["published", "queued"], "partly_published"),
    (["published", "failed"], "partly_failed"),
    (["queued", "missed"], "partly_failed"),
    (["unconfirmed", "failed"], "failed"),
    (["queued", "publishing"], "approved"),
    (["published", "cancelled"], "published"),
    (["cancelled"], "approved"),
])
def test_rollup_table(statuses, expected):
    assert rollup_status("approved", statuses) == expected
    assert rollup_status("draft", statuses) == "draft"  # only an approved post rolls up


@pytest.fixture
def live_post(core, make_user, make_channel, make_post):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    post_id = make_post(make_user(Role.OPERATOR, "a"), [ch], body="Jadwal vaksin",
                        state="approved", approver=make_user(Role.APPROVER, "a"))
    run_once(core)
    with core.sessions() as s:
        assert s.execute(select(Publication.status)).scalar_one() == "published"
    return post_id


def test_a_live_post_says_published_everywhere(client, core, live_post, login_as, api_as):
    user = login_as(Role.OPERATOR, "a")
    listed = client.get("/unggahan").get_data(as_text=True)
    assert '<span class="badge published">Terbit</span>' in listed
    detail = client.get(f"/unggahan/{live_post}").get_data(as_text=True)
    assert '<span class="badge published">Terbit</span>' in detail.split("</h1>")[0]
    assert api_as(user).get(f"/posts/{live_post}").json["overall_status"] == "published"


def test_a_live_post_cannot_be_cancelled_moved_or_edited(client, core, live_post, login_as,
                                                         clock):
    login_as(Role.APPROVER, "a")
    r = client.post(f"/unggahan/{live_post}/batal", follow_redirects=True)
    assert "sudah terbit di 1 akun" in r.get_data(as_text=True)
    r = client.post(f"/unggahan/{live_post}/jadwal", json={"when": "2026-07-01T10:00"})
    assert r.status_code == 409 and "sudah terbit" in r.json["error"]
    r = client.post(f"/unggahan/{live_post}/ubah", data={"body": "Teks baru", "when": "now"})
    assert r.status_code == 400 and "sudah terbit" in r.get_data(as_text=True)
    with core.sessions() as s:
        post = s.get(Post, live_post)
        assert (post.status, post.body) == (PostStatus.APPROVED, "Jadwal vaksin")
        assert post.scheduled_at is None
        assert s.execute(select(Publication.status)).scalar_one() == "published"


def test_a_missed_publication_is_notified_naming_the_channel(app, core, make_user, make_channel,
                                                             clock):
    from datetime import timedelta

    from publisher.models import User
    from publisher.services import posts as post_service
    from publisher.services.posts import PostInput

    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, name="Dinsos Facebook")
    op, ap = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    with core.sessions.begin() as s:
        post = post_service.create_post(core, s, s.get(User, op.id), PostInput(
            body="Pasar murah", channels=[ch], scheduled_at=clock.now + timedelta(minutes=30)))
        post_service.submit_post(core, s, s.get(User, op.id), post.id)
        post_service.approve_post(core, s, s.get(User, ap.id), post.id)
    clock.advance(hours=7)  # the worker was down past the missed window (6 h)
    run_once(core)
    with core.sessions() as s:
        assert s.execute(select(Publication.status)).scalar_one() == "missed"
    author = app.test_client()
    with author.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(op.id), True
        sess["_sv"] = 0
    html = author.get("/notifikasi").get_data(as_text=True)
    assert "Penayangan terlewat" in html and "· Dinsos Facebook" in html
