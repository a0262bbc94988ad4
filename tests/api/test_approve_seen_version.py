"""An API approval binds to the version its approver read, as the approval page's does: the
post carries its ``content_hash``; approve with it, and a change in between approves nothing."""

from __future__ import annotations

from datetime import timedelta

from publisher.models import Post, PostStatus, Role
from tests.helpers import sandbox_channel


def _submitted(op, ch_id: int, when: str) -> dict:  # type: ignore[no-untyped-def]
    r = op.post("/posts", json={"body": "Posyandu buka Sabtu.", "channels": [ch_id],
                                "scheduled_at": when})
    assert r.status_code == 201, r.json
    assert op.post(f"/posts/{r.json['id']}/submit").status_code == 200
    return r.json


def test_approve_with_the_read_hash_refuses_a_post_changed_since(core, clock, make_user, api_as):
    op_user, ap_user = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ch = sandbox_channel(core, op_user, "dinsos")
    op, ap = api_as(op_user), api_as(ap_user)
    post = _submitted(op, ch, (clock.now + timedelta(hours=2)).isoformat())
    read = ap.get(f"/posts/{post['id']}").json
    assert len(read["content_hash"]) == 64

    r = op.patch(f"/posts/{post['id']}", json={"body": "Posyandu buka Minggu."})
    assert r.status_code == 200, r.json
    if r.json["status"] != "submitted":
        assert op.post(f"/posts/{post['id']}/submit").status_code == 200
    assert ap.get(f"/posts/{post['id']}").json["content_hash"] != read["content_hash"]

    stale = ap.post(f"/posts/{post['id']}/approve?content_hash={read['content_hash']}")
    assert stale.status_code == 409 and stale.json["error"]["code"] == "changed", stale.json
    with core.sessions() as s:
        assert s.get(Post, post["id"]).status == PostStatus.SUBMITTED

    fresh = ap.get(f"/posts/{post['id']}").json["content_hash"]
    ok = ap.post(f"/posts/{post['id']}/approve?content_hash={fresh}")
    assert ok.status_code == 200 and ok.json["status"] == "approved", ok.json


def test_a_malformed_hash_is_a_field_error(core, clock, make_user, api_as):
    op_user, ap_user = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    ch = sandbox_channel(core, op_user, "dinsos")
    post = _submitted(api_as(op_user), ch, (clock.now + timedelta(hours=2)).isoformat())
    r = api_as(ap_user).post(f"/posts/{post['id']}/approve?content_hash=abc")
    assert r.status_code == 400 and "content_hash" in r.json["error"]["fields"], r.json
    with core.sessions() as s:
        assert s.get(Post, post["id"]).status == PostStatus.SUBMITTED
