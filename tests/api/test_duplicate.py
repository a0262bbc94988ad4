"""POST /api/v1/posts/<id>/duplicate: the UI's "duplicate as new draft" through the API,
with the same rule (``posts.duplicate_post``), the same unit scoping and the API's tokens."""

from __future__ import annotations

from sqlalchemy import func, select

from publisher.models import Post, Role, User
from publisher.services import channels as channel_svc
from publisher.services import posts as post_svc
from tests.helpers import approved_post, sandbox_channel


def post_count(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(Post)).scalar_one()


def test_duplicate_gives_a_new_draft_shaped_like_get(core, make_user, api_as):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    fb, tg = sandbox_channel(core, op, "dinsos-fb"), sandbox_channel(core, op, "dinsos-tg")
    with core.sessions.begin() as s:
        original = post_svc.create_post(core, s, s.get(User, op.id), post_svc.PostInput(
            body="Penyaluran bansos", channels=[fb, tg], link="https://dinsos.go.id",
            overrides={str(fb): {"body": "FB"}, str(tg): {"body": "TG"}})).id
        post_svc.cancel_post(core, s, s.get(User, op.id), original)
        channel_svc.set_channel_disabled(core, s, s.get(User, ap.id), tg, True)
    api = api_as(op)

    r = api.post(f"/posts/{original}/duplicate")
    assert r.status_code == 201, r.json
    copy = r.json
    assert copy == api.get(f"/posts/{copy['id']}").json, "same shape as GET /posts/<id>"
    assert copy["id"] != original
    assert (copy["status"], copy["unit"], copy["author"]) == ("draft", op.unit_id, op.id)
    assert (copy["body"], copy["link"]) == ("Penyaluran bansos", "https://dinsos.go.id")
    assert copy["channels"] == [fb] and copy["overrides"] == {str(fb): {"body": "FB"}}, \
        "the disabled channel is left out, with its override"
    assert copy["publications"] == [] and copy["approved_by"] is None
    assert api.get(f"/posts/{original}").json["status"] == "cancelled"


def test_duplicate_of_an_approved_post_is_an_unapproved_draft(core, make_user, api_as):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    original = approved_post(core, op, ap, [sandbox_channel(core, op, "dinsos")])
    r = api_as(ap).post(f"/posts/{original}/duplicate")
    assert r.status_code == 201, r.json
    assert (r.json["status"], r.json["author"], r.json["publications"]) == ("draft", ap.id, [])
    assert r.json["approved_at"] is None


def test_duplicate_is_scoped_to_the_unit(core, make_user, api_as):
    op_a, op_b, admin = (make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "b"),
                         make_user(Role.ADMIN, None))
    ch_b = sandbox_channel(core, op_b, "bappeda")
    with core.sessions.begin() as s:
        post_b = post_svc.create_post(core, s, s.get(User, op_b.id), post_svc.PostInput(
            body="Rahasia Bappeda", channels=[ch_b])).id
    before = post_count(core)

    for missing in (post_b, 999_999):
        r = api_as(op_a).post(f"/posts/{missing}/duplicate")
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", r.json
        assert "Rahasia" not in r.get_data(as_text=True)
    assert post_count(core) == before, "a refused duplicate creates nothing"

    mine = api_as(op_b).post(f"/posts/{post_b}/duplicate")
    assert mine.status_code == 201 and mine.json["unit"] == op_b.unit_id, mine.json
    by_admin = api_as(admin).post(f"/posts/{post_b}/duplicate")
    assert by_admin.status_code == 201, by_admin.json
    assert (by_admin.json["unit"], by_admin.json["author"]) == (op_b.unit_id, admin.id), \
        "an admin's copy stays in the post's unit"


def test_duplicate_needs_a_token_and_is_open_to_every_role_of_the_unit(core, client, make_user,
                                                                       api_as):
    """As on the page, which shows the button to everyone who can see the post: operators,
    approvers and admins may all duplicate; what the API adds is its bearer token."""
    op = make_user(Role.OPERATOR)
    ch = sandbox_channel(core, op, "dinsos")
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, op.id), post_svc.PostInput(
            body="Jadwal posyandu", channels=[ch])).id
    before = post_count(core)
    for headers in ({}, {"Authorization": "Bearer wrt_nope"}):
        r = client.post(f"/api/v1/posts/{post}/duplicate", headers=headers)
        assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"
    assert post_count(core) == before
    for role, unit in ((Role.OPERATOR, "a"), (Role.APPROVER, "a"), (Role.ADMIN, None),
                       (Role.ADMIN, "b")):
        user = make_user(role, unit)
        r = api_as(user).post(f"/posts/{post}/duplicate")
        assert r.status_code == 201, (role, unit, r.json)
        assert (r.json["author"], r.json["unit"]) == (user.id, op.unit_id)
    assert post_count(core) == before + 4


def test_openapi_documents_duplicate(client):
    doc = client.get("/api/v1/openapi.json").json
    op = doc["paths"]["/posts/{id}/duplicate"]["post"]
    assert op["parameters"][0]["name"] == "id" and op["parameters"][0]["in"] == "path"
    assert op["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PostOut")
    assert "200" not in op["responses"] and "requestBody" not in op
