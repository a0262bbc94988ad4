"""The JSON API: the happy path end to end, and bad input that changes nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from postqueue import Job
from publisher.models import AuditEvent, Post, Role
from publisher.worker import run_once
from tests.helpers import outbox_records, sandbox_channel


def png_bytes(w: int = 64, h: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "op_b": make_user(Role.OPERATOR, "b"), "admin": make_user(Role.ADMIN, None)}


def test_create_submit_approve_publish_through_the_api(core, clock, people, api_as):
    op, ap = api_as(people["op"]), api_as(people["ap"])
    r = op.post("/channels", json={"platform": "sandbox", "name": "FB Dinsos",
                                   "credentials": {"account": "dinsos", "token": "s3cr3t-tok"}})
    assert r.status_code == 201, r.json
    ch = r.json
    assert "credentials" not in ch and "s3cr3t-tok" not in r.get_data(as_text=True)
    media = op.post("/media", data={"file": (io.BytesIO(png_bytes()), "foto.png")},
                    content_type="multipart/form-data")
    assert media.status_code == 201 and media.json["kind"] == "image"
    when = (clock.now + timedelta(hours=1)).isoformat()
    r = op.post("/posts", json={"body": "Vaksinasi gratis di puskesmas.", "channels": [ch["id"]],
                                "media": [media.json["id"]], "scheduled_at": when})
    assert r.status_code == 201, r.json
    post_id = r.json["id"]
    assert op.post(f"/posts/{post_id}/submit").json["status"] == "submitted"
    assert op.post(f"/posts/{post_id}/approve").status_code == 403, "operators cannot approve"
    approved = ap.post(f"/posts/{post_id}/approve")
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    pub = approved.json["publications"][0]
    assert pub["status"] == "queued"

    clock.advance(hours=1)
    assert run_once(core) == 1
    got = op.get(f"/posts/{post_id}").json["publications"][0]
    assert got["status"] == "published" and got["permalink"].startswith("sandbox://dinsos/")
    assert len(outbox_records(core, "dinsos")) == 1
    attempts = op.get(f"/publications/{pub['id']}/attempts").json["attempts"]
    assert [a["outcome"] for a in attempts] == ["published"]
    clock.advance(hours=1, minutes=5)
    run_once(core)
    metrics = op.get(f"/publications/{pub['id']}/metrics").json
    assert len(metrics["snapshots"]) == 1 and metrics["snapshots"][0]["likes"] > 0


def test_openapi_document_lists_the_validated_models(client):
    doc = client.get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.")
    post = doc["paths"]["/posts"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/PostCreate")
    assert "body" in doc["components"]["schemas"]["PostCreate"]["required"]


def _state(core):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return (s.execute(select(func.count()).select_from(Post)).scalar_one(),
                s.execute(select(func.count()).select_from(Job)).scalar_one())


BAD_POSTS = [
    ("empty body", {"body": "   ", "channels": ["CH"]}, 400, "body"),
    ("unknown channel", {"body": "x", "channels": [9999]}, 400, "channels"),
    ("other unit's channel", {"body": "x", "channels": ["CH_B"]}, 400, "channels"),
    ("malformed time", {"body": "x", "channels": ["CH"], "scheduled_at": "besok pagi"}, 400,
     "scheduled_at"),
    ("time out of range", {"body": "x", "channels": ["CH"], "scheduled_at": "0001-01-01"}, 400,
     "scheduled_at"),
    ("unknown field", {"body": "x", "channels": ["CH"], "colour": "red"}, 400, "colour"),
    ("wrong type", {"body": "x", "channels": "CH"}, 400, "channels"),
]


@pytest.mark.parametrize("case,payload,status,field", BAD_POSTS, ids=[c[0] for c in BAD_POSTS])
def test_bad_post_input_is_refused_with_field_messages(core, people, api_as, case, payload,
                                                       status, field):
    ch = sandbox_channel(core, people["op"], "dinsos")
    ch_b = sandbox_channel(core, people["op_b"], "bappeda")
    payload = {k: ([ch if c == "CH" else ch_b if c == "CH_B" else c for c in v]
                   if isinstance(v, list) else v) for k, v in payload.items()}
    before = _state(core)
    r = api_as(people["op"]).post("/posts", json=payload)
    assert r.status_code == status
    err = r.json["error"]
    assert err["message"] and field in " ".join(err["fields"]), err
    assert "Traceback" not in r.get_data(as_text=True)
    assert _state(core) == before, "a refused request changes nothing"


def test_missing_or_bad_token_is_401(client):
    assert client.get("/api/v1/posts").status_code == 401
    r = client.get("/api/v1/posts", headers={"Authorization": "Bearer wrt_nope"})
    assert r.status_code == 401 and r.json["error"]["code"] == "unauthorized"


def test_units_never_see_each_others_posts(core, people, api_as):
    ch = sandbox_channel(core, people["op"], "dinsos")
    post = api_as(people["op"]).post("/posts", json={"body": "internal", "channels": [ch]}).json
    other = api_as(people["op_b"])
    assert other.get(f"/posts/{post['id']}").status_code == 404
    assert other.patch(f"/posts/{post['id']}", json={"body": "hacked"}).status_code == 404
    assert other.post(f"/posts/{post['id']}/submit").status_code == 404
    assert other.get("/posts").json["total"] == 0
    assert [c["id"] for c in other.get("/channels").json["channels"]] == []
    assert api_as(people["admin"]).get(f"/posts/{post['id']}").status_code == 200


def test_self_approval_is_refused(core, people, api_as):
    ch = sandbox_channel(core, people["ap"], "dinsos")
    ap = api_as(people["ap"])
    post = ap.post("/posts", json={"body": "x", "channels": [ch]}).json
    ap.post(f"/posts/{post['id']}/submit")
    r = ap.post(f"/posts/{post['id']}/approve")
    assert r.status_code == 403 and r.json["error"]["code"] == "self_approval"


def test_oversized_upload_is_refused(core, people, api_as):
    big = b"\0" * (6 * 1024 * 1024)  # WARTA_MAX_UPLOAD_MB=5 in tests
    r = api_as(people["op"]).post("/media", data={"file": (io.BytesIO(big), "big.mp4")},
                                  content_type="multipart/form-data")
    # Past the request limit (the upload limit plus 1 MiB of slack): Flask refuses it whole.
    assert (r.status_code, r.json["error"]["code"]) == (413, "too_large")
    # Within the request limit but past the upload limit: the service refuses the file.
    r = api_as(people["op"]).post("/media", data={"file": (io.BytesIO(big[:11 * 2 ** 19]),
                                                           "big.mp4")},
                                  content_type="multipart/form-data")
    assert (r.status_code, r.json["error"]["code"]) == (400, "too_large")
    assert r.json["error"]["fields"] == {"file": "max 5 MB"}


def test_edit_after_approval_voids_it_and_cancels_the_job(core, clock, people, api_as):
    ch = sandbox_channel(core, people["op"], "dinsos")
    op, ap = api_as(people["op"]), api_as(people["ap"])
    post = op.post("/posts", json={"body": "versi 1", "channels": [ch],
                                   "scheduled_at": (clock.now + timedelta(hours=1)).isoformat()}
                   ).json
    op.post(f"/posts/{post['id']}/submit")
    ap.post(f"/posts/{post['id']}/approve")
    edited = op.patch(f"/posts/{post['id']}", json={"body": "versi 2"}).json
    assert edited["status"] == "draft"
    assert [p["status"] for p in edited["publications"]] == ["cancelled"]
    clock.advance(hours=2)
    run_once(core)
    assert outbox_records(core, "dinsos") == [], "the edited text was never approved"
    with core.sessions() as s:
        actions = set(s.execute(select(AuditEvent.action)).scalars())
    assert {"post.approve", "post.update", "publication.cancelled"} <= actions


def test_reject_needs_a_comment_and_author_sees_it(core, people, api_as):
    ch = sandbox_channel(core, people["op"], "dinsos")
    op, ap = api_as(people["op"]), api_as(people["ap"])
    post = op.post("/posts", json={"body": "x", "channels": [ch]}).json
    op.post(f"/posts/{post['id']}/submit")
    assert ap.post(f"/posts/{post['id']}/reject", json={"comment": " "}).status_code == 400
    ap.post(f"/posts/{post['id']}/reject", json={"comment": "Tambahkan jam layanan."})
    got = op.get(f"/posts/{post['id']}").json
    assert got["status"] == "rejected" and got["rejection_comment"] == "Tambahkan jam layanan."


def test_time_without_offset_is_read_in_wib(core, people, api_as):
    ch = sandbox_channel(core, people["op"], "dinsos")
    post = api_as(people["op"]).post("/posts", json={
        "body": "x", "channels": [ch], "scheduled_at": "2026-12-01T09:00"}).json
    assert post["scheduled_at"].startswith("2026-12-01T02:00:00")


def test_time_without_offset_is_read_in_the_units_zone(core, people, api_as, units):  # type: ignore[no-untyped-def]
    """As on the composer page: a unit in WITA (UTC+8) means 09:00 WITA = 01:00 UTC."""
    from publisher.models import Unit

    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = "Asia/Makassar"
    ch = sandbox_channel(core, people["op"], "dinsos")
    post = api_as(people["op"]).post("/posts", json={
        "body": "x", "channels": [ch], "scheduled_at": "2026-12-01T09:00"}).json
    assert post["scheduled_at"].startswith("2026-12-01T01:00:00")
