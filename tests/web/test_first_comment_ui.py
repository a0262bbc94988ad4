"""The first comment (issue 21) where people write it: the composer's field per channel that
takes one (and none for the others), its preview, the API's override field, the platform's
length limit as a field message with nothing saved, and the approval hash covering it (an
edit after approval voids the approval; a text changed behind the service is refused by the
worker)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from publisher.models import (
    Channel,
    ChannelStatus,
    FirstComment,
    Post,
    Publication,
    PublicationStatus,
    Role,
    User,
)
from publisher.services import first_comment
from publisher.services import posts as post_service
from publisher.services.approval import content_hash
from publisher.services.channels import credential_columns
from publisher.worker import run_once
from tests.helpers import approved_post, sandbox_channel


def _channel(core, unit_id: int, platform: str, name: str) -> int:  # type: ignore[no-untyped-def]
    """A channel as the connect flow leaves it (no network: validation is pure)."""
    with core.sessions.begin() as s:
        ch = Channel(unit_id=unit_id, platform=platform, name=name, state={},
                     status=ChannelStatus.ACTIVE, created_at=datetime.now(UTC),
                     **credential_columns(core, {"access_token": "t", "page_id": "1"}))
        s.add(ch)
        s.flush()
        return ch.id


@pytest.fixture
def scene(core, make_user, units):  # type: ignore[no-untyped-def]
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    return {"op": op, "ap": ap, "x": _channel(core, units["a"].id, "x", "Dinsos X"),
            "fb": _channel(core, units["a"].id, "facebook", "Dinsos FB"),
            "sb": sandbox_channel(core, op, "uji")}


def _count(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(Post)).scalar_one()


def test_composer_offers_stores_previews_and_refuses_too_long(client, login_as, core, scene):  # type: ignore[no-untyped-def]
    login_as(Role.OPERATOR, "a")
    html = client.get("/unggahan/baru").get_data(as_text=True)
    assert f'name="first_comment_{scene["x"]}"' in html
    assert f'name="first_comment_{scene["fb"]}"' in html
    assert f'name="first_comment_{scene["sb"]}"' not in html, "the sandbox takes none"
    assert 'data-max="280"' in html
    x, fb = scene["x"], scene["fb"]
    r = client.post("/unggahan/baru", data={
        "body": "Pendaftaran dibuka", "channels": [str(x)], "when": "now", "action": "draft",
        f"first_comment_{x}": "a" * 281})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "Komentar pertama terlalu panjang untuk X" in page
    assert _count(core) == 0, "nothing saved"
    r = client.post("/unggahan/baru", data={
        "body": "Pendaftaran dibuka", "channels": [str(x), str(fb)], "when": "now",
        "action": "draft", f"first_comment_{fb}": "Syarat lengkap di situs kami."})
    assert r.status_code == 302, r.get_data(as_text=True)
    with core.sessions() as s:
        post = s.execute(select(Post)).scalar_one()
        assert post.overrides == {str(fb): {"first_comment": "Syarat lengkap di situs kami."}}
    detail = client.get(f"/unggahan/{post.id}").get_data(as_text=True)  # its previews
    assert "Komentar pertama" in detail and "Syarat lengkap di situs kami." in detail
    edit = client.get(f"/unggahan/{post.id}/ubah").get_data(as_text=True)
    assert ">Syarat lengkap di situs kami.</textarea>" in edit


def test_api_accepts_returns_and_checks_it(core, api_as, scene):  # type: ignore[no-untyped-def]
    api = api_as(scene["op"])
    fb, sb = str(scene["fb"]), str(scene["sb"])
    r = api.post("/posts", json={"body": "Festival", "channels": [scene["fb"]],
                                 "overrides": {fb: {"first_comment": "Jadwal: pukul 08.00"}}})
    assert r.status_code == 201, r.json
    assert r.json["overrides"] == {fb: {"first_comment": "Jadwal: pukul 08.00"}}
    r = api.post("/posts", json={"body": "Festival", "channels": [scene["sb"]],
                                 "overrides": {sb: {"first_comment": "x"}}})
    assert r.status_code == 400, r.json
    assert "first_comment_" + sb in str(r.json) and "tidak mendukung" in str(r.json)
    assert _count(core) == 1


def test_the_approval_covers_the_first_comment(core, scene):  # type: ignore[no-untyped-def]
    """An edit through the service voids the approval; a text changed behind it is refused by
    the worker (the hash); and a comment text changed between the publish and its record is
    not sent (``services/first_comment.schedule``)."""
    sb, x = scene["sb"], scene["x"]
    op, ap = scene["op"], scene["ap"]
    # 1. edited after approval, through the service
    post_id = approved_post(core, op, ap, [sb, x],
                            overrides={str(x): {"first_comment": "Lokasi: aula."}})
    with core.sessions() as s:
        before = content_hash(s.get_one(Post, post_id))
    with core.sessions.begin() as s:
        post_service.update_post(core, s, s.get_one(User, op.id), post_id,
                                 post_service.PostInput(overrides={
                                     str(x): {"first_comment": "Lokasi: halaman kantor."}}))
    with core.sessions() as s:
        post = s.get_one(Post, post_id)
        assert post.status == "draft" and post.approval_hash is None
        assert content_hash(post) != before
        assert all(p.status == PublicationStatus.CANCELLED for p in s.execute(
            select(Publication).where(Publication.post_id == post_id)).scalars())
    # 2. changed behind the service (a direct database edit after approval)
    post_id = approved_post(core, op, ap, [sb], body="Kedua")
    with core.sessions.begin() as s:
        s.get_one(Post, post_id).overrides = {str(sb): {"first_comment": "Tidak disetujui."}}
    run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        assert pub.status == PublicationStatus.FAILED and pub.error_code == "approval_mismatch"
    # 3. changed between the publish call and its record
    post_id = approved_post(core, op, ap, [x], body="Ketiga",
                            overrides={str(x): {"first_comment": "Disetujui."}})
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        s.get_one(Post, post_id).overrides = {str(x): {"first_comment": "Diubah diam-diam."}}
        s.flush()
        first_comment.schedule(s, [(pub.id, post_id, x)], datetime.now(UTC))
        pub_id = pub.id
    with core.sessions() as s:
        row = s.get_one(FirstComment, pub_id)
        assert row.status == "failed" and row.error_code == "approval_mismatch"
        assert row.job_id is None


def test_an_override_names_only_the_posts_own_channels(core, make_user, units) -> None:  # type: ignore[no-untyped-def]
    """Review of the merged features: an edit of the overrides alone (no channel list) is
    checked against the post's channels, so another unit's channel id is refused without its
    platform being said, and nothing is stored."""
    from publisher.services.errors import Invalid

    op = make_user("operator", "a")
    mine = _channel(core, units["a"].id, "facebook", "FB Dinsos")
    theirs = _channel(core, units["b"].id, "x", "X Bappeda")
    with core.sessions.begin() as s:
        post = post_service.create_post(core, s, s.get(User, op.id), post_service.PostInput(
            body="Pendaftaran dibuka.", channels=[mine]))
        post_id = post.id
    with core.sessions.begin() as s, pytest.raises(Invalid) as err:
        post_service.update_post(core, s, s.get(User, op.id), post_id, post_service.PostInput(
            overrides={str(theirs): {first_comment.KEY: "x" * 400}}))
    assert "overrides" in err.value.fields and "X" not in str(err.value.fields)
    with core.sessions() as s:
        assert str(theirs) not in (s.get(Post, post_id).overrides or {})
