"""A time in the past is never accepted silently: the composer, the API, the reschedule forms
and the calendar refuse it and say so; approving a post whose time passed asks the approver to
publish it now or reschedule it; and the approval's message says what really happens next."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.models import Pause, Post, PostStatus, Publication, Role, User
from publisher.services import posts as post_service
from publisher.services.errors import Invalid
from publisher.services.posts import PostInput


@pytest.fixture
def scene(core, make_user, make_channel):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    return {"ch": make_channel(admin), "op": make_user(Role.OPERATOR, "a"),
            "ap": make_user(Role.APPROVER, "a"), "admin": admin}


def submitted_at(core, scene, when):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        op = s.get(User, scene["op"].id)
        post = post_service.create_post(core, s, op, PostInput(body="Posyandu Sabtu",
                                                               channels=[scene["ch"]],
                                                               scheduled_at=when))
        post_service.submit_post(core, s, op, post.id)
        return post.id


def test_the_service_refuses_a_past_time_beyond_the_grace(core, scene, clock):
    with core.sessions.begin() as s:
        op = s.get(User, scene["op"].id)
        ok = post_service.create_post(core, s, op, PostInput(
            body="x", channels=[scene["ch"]], scheduled_at=clock.now - timedelta(minutes=4)))
        assert ok.id
        with pytest.raises(Invalid) as err:
            post_service.create_post(core, s, op, PostInput(
                body="x", channels=[scene["ch"]], scheduled_at=clock.now - timedelta(minutes=6)))
    assert err.value.code == "time_passed" and "scheduled_at" in err.value.fields


def test_composer_and_api_refuse_a_past_time(client, core, scene, login_as, api_as):
    user = login_as(Role.OPERATOR, "a")
    r = client.post("/unggahan/baru", data={"body": "Kabar lama", "channels": [scene["ch"]],
                                            "when": "later", "scheduled_at": "2025-01-01T10:00"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "sudah lewat" in html
    r = api_as(user).post("/posts", json={"body": "Kabar lama", "channels": [scene["ch"]],
                                          "scheduled_at": "2025-01-01T10:00"})
    assert r.status_code == 400 and "scheduled_at" in r.json["error"]["fields"]
    with core.sessions() as s:
        assert s.execute(select(Post)).first() is None


def test_reschedule_forms_and_the_calendar_refuse_a_past_time(client, core, scene, login_as,
                                                              clock):
    post_id = submitted_at(core, scene, clock.now + timedelta(days=1))
    with core.sessions.begin() as s:
        post_service.approve_post(core, s, s.get(User, scene["ap"].id), post_id)
    login_as(Role.APPROVER, "a")
    r = client.post(f"/unggahan/{post_id}/jadwal", json={"when": "2025-01-01T10:00"})
    assert r.status_code == 409 and "sudah lewat" in r.json["error"]
    client.post(f"/unggahan/{post_id}/jadwal", data={"when": "2025-01-01T10:00"})
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
        assert s.get(Post, post_id).scheduled_at == clock.now + timedelta(days=1)
    client.post(f"/penayangan/{pub.id}/jadwal-ulang", data={"when": "2025-01-01T10:00"})
    with core.sessions() as s:
        pub = s.get(Publication, pub.id)
        assert (pub.status, pub.scheduled_at) == ("queued", clock.now + timedelta(days=1))


def test_approving_after_the_time_passed_asks_to_publish_now(client, core, scene, login_as,
                                                              clock, api_as):
    post_id = submitted_at(core, scene, clock.now + timedelta(hours=1))
    clock.advance(hours=2)  # it waited for approval past its time
    approver = login_as(Role.APPROVER, "a")
    page = client.get("/persetujuan").get_data(as_text=True)
    assert f'id="passed-{post_id}"' in page and "Setujui dan terbitkan sekarang" in page
    client.post(f"/persetujuan/{post_id}/setujui", data={})
    with core.sessions() as s:
        assert s.get(Post, post_id).status == PostStatus.SUBMITTED
    r = api_as(approver).post(f"/posts/{post_id}/approve")
    assert r.status_code == 409 and r.json["error"]["code"] == "time_passed"
    r = client.post(f"/persetujuan/{post_id}/setujui", data={"publish_now": "1"},
                    follow_redirects=True)
    assert "Disetujui. Unggahan akan terbit sekarang juga." in r.get_data(as_text=True)
    with core.sessions() as s:
        assert s.get(Post, post_id).status == PostStatus.APPROVED
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.status == "queued"


def test_the_approval_message_says_a_pause_holds_it(client, core, scene, login_as, clock):
    post_id = submitted_at(core, scene, None)
    with core.sessions.begin() as s:
        s.add(Pause(scope="global", starts_at=clock.now - timedelta(minutes=1),
                    ends_at=clock.now + timedelta(hours=2), reason="Masa tenang",
                    created_by=scene["admin"].id, created_at=clock.now))
    login_as(Role.APPROVER, "a")
    r = client.post(f"/persetujuan/{post_id}/setujui", data={}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "ditahan oleh jeda sampai" in html and "12.00" in html  # 05:00 UTC = 12.00 WIB
    assert "akan terbit pada" not in html
