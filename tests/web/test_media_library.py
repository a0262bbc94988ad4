"""The media library (issue 21): isolation between units, region-wide assets read-only to
other units, search and paging, alt text and tags, delete refused while in use, picking from
the library in the composer, and alt text inside the approval hash (old hashes unchanged)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from publisher.models import AuditEvent, MediaAsset, Post, Publication, Role, User
from publisher.services import media as media_svc
from publisher.services import media_library as L
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash, content_hash_of
from publisher.services.errors import Invalid
from publisher.services.posts import PostInput
from publisher.worker.snapshot import load_snapshot


def _png(n: int) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (40 + n, 30), (n * 37 % 255, 80, 120)).save(buf, "PNG")
    buf.seek(0)
    return buf


def _upload(core, user: User, n: int, name: str) -> int:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), _png(n), name).id


def _row(core, model, oid):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(model, oid)


@pytest.fixture
def staff(make_user):  # type: ignore[no-untyped-def]
    return {"op_a": make_user(Role.OPERATOR, "a"), "ap_a": make_user(Role.APPROVER, "a"),
            "op_b": make_user(Role.OPERATOR, "b"), "admin": make_user(Role.ADMIN, None)}


def _as(client, user: User) -> None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        sess.clear()
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True


def test_units_never_see_each_others_assets_and_region_wide_ones_are_read_only(  # type: ignore[no-untyped-def]
        core, client, staff, make_channel):
    logo = _upload(core, staff["op_a"], 1, "logo-pemkab.png")
    own_b = _upload(core, staff["op_b"], 2, "foto-bappeda.png")
    _as(client, staff["op_b"])
    page = client.get("/media").get_data(as_text=True)
    assert "foto-bappeda.png" in page and "logo-pemkab.png" not in page
    for url in (f"/media/{logo}", f"/media/{logo}/rincian"):
        assert client.get(url).status_code == 404
    assert client.post(f"/media/{logo}/rincian", data={"alt_text": "x"}).status_code == 404
    assert client.post(f"/media/{logo}/hapus").status_code == 404
    ch_b = make_channel(staff["admin"], "b", "FB Bappeda", "bappeda-fb")
    with core.sessions.begin() as s, pytest.raises(Invalid):
        post_svc.create_post(core, s, s.get(User, staff["op_b"].id),
                             PostInput(body="Logo", channels=[ch_b], media=[logo]))
    # only an admin shares it with every unit
    _as(client, staff["op_a"])
    assert client.post(f"/media/{logo}/rincian", data={
        "name": "logo-pemkab.png", "alt_text": "", "tags": "", "region_wide": "1"}
    ).status_code == 302
    assert not _row(core, MediaAsset, logo).region_wide
    _as(client, staff["admin"])
    assert client.post(f"/media/{logo}/rincian", data={
        "name": "logo-pemkab.png", "alt_text": "Logo Pemkab", "tags": "logo",
        "region_wide": "1"}).status_code == 302
    assert _row(core, MediaAsset, logo).region_wide
    # now unit B sees it, its file, its page (without a form), and may attach it
    _as(client, staff["op_b"])
    assert "logo-pemkab.png" in client.get("/media").get_data(as_text=True)
    assert client.get(f"/media/{logo}").status_code == 200
    detail = client.get(f"/media/{logo}/rincian").get_data(as_text=True)
    assert 'id="asset-form"' not in detail
    assert client.post(f"/media/{logo}/rincian", data={"alt_text": "x"}).status_code == 403
    assert client.post(f"/media/{logo}/hapus").status_code == 403
    assert _row(core, MediaAsset, logo).alt_text == "Logo Pemkab"
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, staff["op_b"].id),
                                    PostInput(body="Logo", channels=[ch_b], media=[logo]))
        assert post.media_links[0].alt_text == "Logo Pemkab"
        b_post = post.id
    # A sees where its logo is used only in A's posts: B's post is not named to A
    _as(client, staff["op_a"])
    assert f"#{b_post}" not in client.get(f"/media/{logo}/rincian").get_data(as_text=True)
    # and it cannot stop being shared while another unit's post uses it
    _as(client, staff["admin"])
    r = client.post(f"/media/{logo}/rincian", data={"name": "logo-pemkab.png"})
    assert r.status_code == 409 and _row(core, MediaAsset, logo).region_wide
    # unit A never sees B's own asset
    _as(client, staff["op_a"])
    assert client.get(f"/media/{own_b}/rincian").status_code == 404


def test_search_by_name_tag_type_and_date_paged(core, client, staff, monkeypatch):  # type: ignore[no-untyped-def]
    ids = [_upload(core, staff["op_a"], n, name) for n, name in
           enumerate(["spanduk-hut.png", "logo-dinas.png", "kegiatan-posyandu.png"], 3)]
    with core.sessions.begin() as s:
        s.get(MediaAsset, ids[0]).tags = "banner hut-ri"
        s.get(MediaAsset, ids[1]).tags = "logo"
        s.get(MediaAsset, ids[2]).kind = "video"
        s.get(MediaAsset, ids[2]).duration = 75.4
        s.get(MediaAsset, ids[0]).created_at = datetime(2026, 1, 5, 3, tzinfo=UTC)
    _as(client, staff["op_a"])

    def names(**args: str) -> list[str]:
        html = client.get("/media", query_string=args).get_data(as_text=True)
        return re.findall(r'/rincian">([^<]+)</a>', html)

    assert names(q="LOGO") == ["logo-dinas.png"]
    assert names(tag="hut-ri") == ["spanduk-hut.png"]
    assert names(tag="hut") == [], "whole tags only"
    assert names(jenis="video") == ["kegiatan-posyandu.png"]
    assert "1:15" in client.get("/media", query_string={"jenis": "video"}).get_data(as_text=True)
    assert names(dari="2026-01-05", sampai="2026-01-05") == ["spanduk-hut.png"]
    assert names(q="100%_") == []
    assert client.get("/media?dari=kemarin").status_code == 400
    monkeypatch.setattr(L, "PAGE_SIZE", 2)
    first = client.get("/media").get_data(as_text=True)
    assert len(re.findall(r'/rincian">', first)) == 2 and "halaman=2" in first
    assert names(halaman="2") == ["spanduk-hut.png"]


def test_alt_text_and_tags_edit_and_delete_refused_while_in_use(  # type: ignore[no-untyped-def]
        core, client, staff, make_channel):
    mid = _upload(core, staff["op_a"], 9, "poster.png")
    _as(client, staff["op_a"])
    r = client.post(f"/media/{mid}/rincian", data={
        "name": "Poster vaksin", "alt_text": " Poster jadwal vaksin di puskesmas ",
        "tags": "Vaksin, poster"})
    assert r.status_code == 302
    asset = _row(core, MediaAsset, mid)
    assert (asset.original_name, asset.alt_text, asset.tags) == (
        "Poster vaksin", "Poster jadwal vaksin di puskesmas", "vaksin poster")
    assert client.post(f"/media/{mid}/rincian", data={"alt_text": "a" * 1001}).status_code == 400
    assert client.post(f"/media/{mid}/rincian", data={"tags": "bad/tag"}).status_code == 400
    # junk is a 400 (NUL) or cleaned (controls), never a 500
    assert client.post(f"/media/{mid}/rincian", data={"alt_text": "a\x00"}).status_code == 400
    assert client.post(f"/media/{mid}/rincian", data={
        "alt_text": " Poster\tjadwal vaksin\r\ndi puskesmas "}).status_code == 302
    assert _row(core, MediaAsset, mid).alt_text == "Poster jadwal vaksin di puskesmas"
    for args in ({"q": "a\x00b"}, {"tag": "\x00"}, {"halaman": "9" * 30}, {"jenis": "x"},
                 {"sampai": "2026-13-40"}):
        assert client.get("/media", query_string=args).status_code in (200, 400), args
    ch = make_channel(staff["admin"], "a")
    with core.sessions.begin() as s:
        post_id = post_svc.create_post(core, s, s.get(User, staff["op_a"].id), PostInput(
            body="Vaksin", channels=[ch], media=[mid])).id
    r = client.post(f"/media/{mid}/hapus")
    assert r.status_code == 409 and "dipakai 1 unggahan" in r.get_data(as_text=True)
    assert _row(core, MediaAsset, mid) is not None
    path = core.settings.media_dir / _row(core, MediaAsset, mid).path
    assert path.exists()
    with core.sessions.begin() as s:  # detached from the post: now it may go
        post_svc.update_post(core, s, s.get(User, staff["op_a"].id), post_id,
                             PostInput(media=[]))
    assert client.post(f"/media/{mid}/hapus").status_code == 302
    assert _row(core, MediaAsset, mid) is None and not path.exists()
    with core.sessions() as s:
        actions = set(s.execute(select(AuditEvent.action)
                                .where(AuditEvent.object_type == "media")).scalars())
    assert {"media.upload", "media.update", "media.delete"} <= actions


def test_pick_from_the_library_in_the_composer(core, client, staff, make_channel):  # type: ignore[no-untyped-def]
    ch = make_channel(staff["admin"], "a")
    mid = _upload(core, staff["op_a"], 11, "banner.png")
    other = _upload(core, staff["op_b"], 12, "milik-b.png")
    with core.sessions.begin() as s:
        s.get(MediaAsset, mid).alt_text = "Spanduk HUT kabupaten"
    _as(client, staff["op_a"])
    page = client.get("/unggahan/baru").get_data(as_text=True)
    assert "Pilih dari pustaka" in page and f'id="pick-{mid}"' in page
    assert f'id="pick-{other}"' not in page
    form = {"body": "HUT", "channels": [str(ch)], "media": [str(mid), str(other)],
            "when": "now"}
    picked = client.post("/unggahan/baru", data={**form, "action": "pick"})
    html = picked.get_data(as_text=True)
    assert picked.status_code == 200
    assert re.search(rf'name="alt_{mid}" maxlength="1000" value="Spanduk HUT kabupaten"', html)
    assert f"alt_{other}" not in html, "another unit's id is dropped"
    with core.sessions() as s:
        assert s.execute(select(Post)).first() is None, "picking saves nothing"
    saved = client.post("/unggahan/baru", data={"body": "HUT", "channels": [str(ch)],
                                                 "media": [str(mid)], "when": "now",
                                                 "action": "draft"})
    assert saved.status_code == 302
    with core.sessions() as s:
        (post,) = s.execute(select(Post)).scalars()
        assert [(m.media_id, m.alt_text) for m in post.media_links] == [
            (mid, "Spanduk HUT kabupaten")]


def _old_hash(post: Post) -> str:
    """The approval hash exactly as it was computed before alt texts were published."""
    canonical = {"body": post.body, "link": post.link, "overrides": post.overrides or {},
                 "media": [m.sha256 for m in post.media], "channels": sorted(post.channel_ids),
                 "scheduled_at": post.scheduled_at.isoformat() if post.scheduled_at else None}
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def test_alt_text_is_in_the_approval_hash_and_old_hashes_still_hold(  # type: ignore[no-untyped-def]
        core, clock, staff, make_channel):
    ch = make_channel(staff["admin"], "a")
    mid = _upload(core, staff["op_a"], 13, "foto.png")
    op, ap = staff["op_a"], staff["ap_a"]
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(User, op.id), PostInput(
            body="Foto", channels=[ch], media=[mid],
            scheduled_at=clock.now + timedelta(days=1)))
        assert post.media_links[0].alt_text == ""
        assert content_hash(post) == _old_hash(post), "no alt text: the hash of before"
        post_svc.submit_post(core, s, s.get(User, op.id), post.id)
        pid = post.id
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), pid)
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == pid)).scalar_one()
        assert load_snapshot(s, pub_id).current_hash() == s.get(Post, pid).approval_hash
    # the worker's recomputation sees an alt text written behind the services' back
    with core.sessions.begin() as s:
        s.get(Post, pid).media_links[0].alt_text = "Diam-diam diubah"
    with core.sessions() as s:
        snap = load_snapshot(s, pub_id)
        assert snap.media[0].alt_text == "Diam-diam diubah"
        assert snap.current_hash() != snap.approval_hash
        assert content_hash(s.get(Post, pid)) != _old_hash(s.get(Post, pid))
    with core.sessions.begin() as s:
        s.get(Post, pid).media_links[0].alt_text = ""
    # an alt-text edit through the service voids the approval
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, op.id), pid,
                             PostInput(media_alt={mid: "Warga antre bantuan"}))
    post = _row(core, Post, pid)
    assert post.status == "draft" and post.approval_hash is None
    assert content_hash_of(body="b", link=None, overrides=None, media_hashes=["h"],
                           channel_ids=[1], scheduled_at=None, alt_texts=["", ""]) == \
        content_hash_of(body="b", link=None, overrides=None, media_hashes=["h"],
                        channel_ids=[1], scheduled_at=None)

