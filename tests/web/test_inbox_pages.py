"""/suara-warga: the list (newest first, filters, bounded pages), the thread with its post,
the three actions, and unit isolation (another unit's comment is a 404 on every route)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.models import CitizenComment, CommentEvent, Role
from tests.inbox.helpers import comment, published


def _csrf_off(app) -> None:  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False


def test_list_thread_and_actions(app, client, core, login_as, make_user, units) -> None:  # type: ignore[no-untyped-def]
    _csrf_off(app)
    other = make_user(Role.OPERATOR, "b")
    user = login_as(Role.OPERATOR, "a")
    pub = published(core, user, body="Pendaftaran bansos tahap 2 dibuka")
    old = comment(core, pub, "Kapan bansos cair? Belum cair sampai sekarang",
                  at=core.now() - timedelta(hours=2))
    new = comment(core, pub, "Terima kasih infonya", at=core.now(), parent=None, author=None)
    theirs = comment(core, published(core, other), "ZQXB rahasia unit B")

    page = client.get("/suara-warga")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.index("Terima kasih infonya") < html.index("Kapan bansos cair")  # newest first
    assert "ZQXB" not in html
    assert "kata kunci “belum cair”" in html  # the suggestion names its keyword
    assert "Suara Warga" in html  # the nav and the title, in Bahasa Indonesia
    assert "Nama tidak diberikan platform" in html  # no author given: said, not made up
    assert client.get("/suara-warga?q=terima").get_data(as_text=True).count(
        "/suara-warga/") >= 1
    filtered = client.get("/suara-warga?q=terima").get_data(as_text=True)
    assert "Terima kasih" in filtered and "Kapan bansos" not in filtered
    assert "Kapan bansos" in client.get("/suara-warga?kategori=none&status=baru").get_data(
        as_text=True)
    assert client.get("/suara-warga?status=bogus&halaman=99999999999").status_code == 200

    detail = client.get(f"/suara-warga/{old}").get_data(as_text=True)
    assert "Pendaftaran bansos tahap 2 dibuka" in detail  # the post's preview

    assert client.post(f"/suara-warga/{old}/kategori", data={"category": "aduan"}
                       ).status_code == 302
    assert client.post(f"/suara-warga/{old}/status", data={"status": "selesai",
                                                           "note": "sudah dijawab"}
                       ).status_code == 302
    r = client.post(f"/suara-warga/{old}/status", data={"status": "baru"},
                    follow_redirects=True)
    assert "tidak dapat diubah" in r.get_data(as_text=True)  # a clear message, no traceback
    for bad in ("abc", "²", "99999999999", "9" * 5000):
        r = client.post(f"/suara-warga/{new}/teruskan", data={"unit_id": bad, "note": "x"},
                        follow_redirects=True)
        assert r.status_code == 200 and "Pilih unit tujuan" in r.get_data(as_text=True), bad
    assert client.post(f"/suara-warga/{new}/teruskan",
                       data={"unit_id": str(units["b"].id), "note": "Untuk Bappeda"}
                       ).status_code == 302
    with core.sessions() as s:
        row = s.get(CitizenComment, old)
        assert (row.category, row.status) == ("aduan", "selesai")
        fwd = s.execute(select(CommentEvent).where(CommentEvent.comment_id == new,
                                                   CommentEvent.kind == "forward")).scalar_one()
        assert fwd.to_unit_id == units["b"].id and fwd.note == "Untuk Bappeda"
    history = client.get(f"/suara-warga/{new}").get_data(as_text=True)
    assert "Untuk Bappeda" in history and "Bappeda" in history

    # Another unit's comment: 404 on the page and on every action, and nothing changes.
    assert client.get(f"/suara-warga/{theirs}").status_code == 404
    for action, data in (("kategori", {"category": "spam"}), ("status", {"status": "selesai"}),
                         ("teruskan", {"unit_id": str(units["a"].id)})):
        assert client.post(f"/suara-warga/{theirs}/{action}", data=data).status_code == 404
    with core.sessions() as s:
        row = s.get(CitizenComment, theirs)
        assert (row.category, row.status, row.unit_id) == (None, "baru", units["b"].id)


def test_the_receiving_unit_sees_the_forwarded_comment(app, client, core, make_user, units) -> None:  # type: ignore[no-untyped-def]
    _csrf_off(app)
    a, b = make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "b")
    cid = comment(core, published(core, a), "Jalan rusak di desa")

    def as_(user) -> None:  # type: ignore[no-untyped-def]
        with client.session_transaction() as sess:
            sess.clear()
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True

    as_(b)
    assert client.get(f"/suara-warga/{cid}").status_code == 404
    assert "Jalan rusak" not in client.get("/suara-warga").get_data(as_text=True)
    as_(a)
    client.post(f"/suara-warga/{cid}/teruskan", data={"unit_id": str(units["b"].id)})
    assert "diteruskan ke unit Anda" not in client.get("/notifikasi").get_data(as_text=True)
    as_(b)
    bell = client.get("/notifikasi").get_data(as_text=True)
    assert "Komentar warga diteruskan ke unit Anda" in bell and f"/suara-warga/{cid}" in bell
    assert "Jalan rusak" in client.get("/suara-warga").get_data(as_text=True)
    assert client.get(f"/suara-warga/{cid}").status_code == 200
    assert client.post(f"/suara-warga/{cid}/status", data={"status": "ditanggapi"}
                       ).status_code == 302


def test_english_and_keywords_page_for_admins(app, client, core, login_as, make_user) -> None:  # type: ignore[no-untyped-def]
    _csrf_off(app)
    user = login_as(Role.ADMIN, None)
    from publisher.models import User

    with core.sessions.begin() as s:
        s.get(User, user.id).locale = "en"
    html = client.get("/suara-warga").get_data(as_text=True)
    assert "Citizen voice" in html and "No citizen comments here yet." in html
    assert client.get("/suara-warga/kata-kunci").status_code == 200
    assert client.post("/suara-warga/kata-kunci", data={"category": "aduan",
                                                       "keywords": "air mati\nlistrik padam"}
                       ).status_code == 302
    assert "listrik padam" in client.get("/suara-warga/kata-kunci").get_data(as_text=True)
    op = make_user(Role.OPERATOR, "a")
    with client.session_transaction() as sess:
        sess["_user_id"] = str(op.id)
    assert client.get("/suara-warga/kata-kunci").status_code == 403
