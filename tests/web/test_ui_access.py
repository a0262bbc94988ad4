"""Route permissions, unit isolation, CSRF and escaping in the browser UI (test client)."""

from __future__ import annotations

import re

import pytest

from publisher.models import AuditEvent, MediaAsset, Post, PostStatus, Role, User
from tests.web.conftest import png_bytes

PAGES = ["/", "/unggahan", "/unggahan/baru", "/persetujuan", "/kalender", "/kalender?view=week",
         "/akun", "/akun/baru", "/akun/baru?platform=sandbox", "/notifikasi", "/profil"]
#: Each page's own heading (a pattern): the page rendered is the one asked for, not any page
#: with the navigation (whose words every page carries).
HEADINGS = {"/": "Dasbor", "/unggahan": "Unggahan", "/unggahan/baru": "Unggahan baru",
            "/persetujuan": "Persetujuan", "/kalender": r"Kalender — \w+ \d{4}",
            "/kalender?view=week": r"Kalender — \d+ \w+ – \d+ \w+ \d{4}", "/akun": "Akun",
            "/akun/baru": "Sambungkan akun", "/akun/baru?platform=sandbox": "Sambungkan akun",
            "/notifikasi": "Notifikasi", "/profil": "Profil"}
ADMIN_PAGES = ["/admin/", "/admin/unit", "/admin/pengguna", "/admin/riwayat", "/admin/jeda",
               "/admin/kebijakan"]


@pytest.mark.parametrize("path", PAGES + ADMIN_PAGES + ["/unggahan/1", "/media/1"])
def test_anonymous_is_sent_to_login(client, path):
    r = client.get(path)
    assert r.status_code == 302
    assert "/masuk" in r.headers["Location"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_render_for_operator(client, login_as, path):
    login_as(Role.OPERATOR)
    r = client.get(path)
    assert r.status_code == 200, r.data[:500]
    html = r.get_data(as_text=True)
    headings = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert len(headings) == 1 and re.fullmatch(HEADINGS[path], headings[0]), headings
    assert 'href="/laporan"' in html


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages(client, login_as, path):
    login_as(Role.OPERATOR)
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ADMIN_PAGES + PAGES)
def test_admin_sees_admin_pages(client, login_as, path):
    login_as(Role.ADMIN, None)
    assert client.get(path).status_code == 200


def test_login_logout_and_lockout(client, make_user, core, session):
    user = make_user(Role.OPERATOR, "a", password="rahasia123")
    r = client.post("/masuk", data={"email": user.email, "password": "salah"})
    assert r.status_code == 401
    r = client.post("/masuk", data={"email": user.email, "password": "rahasia123"})
    assert r.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/keluar")
    assert client.get("/").status_code == 302
    for _ in range(5):
        client.post("/masuk", data={"email": user.email, "password": "salah"})
    r = client.post("/masuk", data={"email": user.email, "password": "rahasia123"})
    assert r.status_code == 401
    session.expire_all()
    assert session.get(User, user.id).locked_until is not None
    session.rollback()  # SQLite: release the write lock before make_user's transaction
    # The lock must not reveal that the address has an account: a locked account, a wrong
    # password and an unknown address get the same answer.
    locked = _refusal(r.get_data(as_text=True))
    assert "dikunci 15 menit" in locked
    other = make_user(Role.OPERATOR, "a", password="rahasia123")
    wrong = client.post("/masuk", data={"email": other.email, "password": "salah"})
    unknown = client.post("/masuk", data={"email": "tidak.ada@kab.go.id", "password": "x"})
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert _refusal(wrong.get_data(as_text=True)) == locked
    assert _refusal(unknown.get_data(as_text=True)) == locked


def _refusal(html: str) -> str:
    """The login page's error message."""
    import re

    found = re.findall(r"Surel atau kata sandi salah[^<]*", html)
    assert found, html[:2000]
    return found[0]


def test_login_refuses_open_redirect(client, make_user):
    user = make_user(Role.OPERATOR, "a", password="rahasia123")
    r = client.post("/masuk?next=//evil.example/x",
                    data={"email": user.email, "password": "rahasia123"})
    assert r.headers["Location"] == "/"


def test_session_cookie_flags(client, make_user, app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    user = make_user(Role.OPERATOR, "a", password="rahasia123")
    r = client.post("/masuk", data={"email": user.email, "password": "rahasia123"})
    cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_enforced(core):
    from web.app import create_app

    app = create_app(core=core)  # not TESTING: CSRF on
    client = app.test_client()
    r = client.post("/masuk", data={"email": "x@example.go.id", "password": "whatever1"})
    assert r.status_code == 400
    page = client.get("/masuk").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    r = client.post("/masuk", data={"email": "x@example.go.id", "password": "whatever1",
                                    "csrf_token": token.group(1)})
    assert r.status_code == 401  # the token passed; the credentials did not


def test_unit_isolation(client, login_as, make_user, make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    ch_b = make_channel(admin, "b", name="Bappeda FB", account="bappeda-fb")
    author_b = make_user(Role.OPERATOR, "b")
    post_b = make_post(author_b, [ch_b], body="Rahasia Bappeda")
    login_as(Role.OPERATOR, "a")
    assert client.get(f"/unggahan/{post_b}").status_code == 404
    assert client.get(f"/unggahan/{post_b}/ubah").status_code == 404
    assert client.post(f"/unggahan/{post_b}/batal").status_code == 404
    assert client.post(f"/unggahan/{post_b}/ajukan").status_code == 404
    assert client.post(f"/unggahan/{post_b}/duplikat").status_code == 404
    assert client.get(f"/akun/{ch_b}/sambung-ulang").status_code == 404
    assert "Rahasia Bappeda" not in client.get("/unggahan").get_data(as_text=True)
    assert "Bappeda FB" not in client.get("/akun").get_data(as_text=True)
    r = client.post("/unggahan/baru", data={"body": "x", "channels": [str(ch_b)],
                                           "action": "draft"})
    assert r.status_code == 400


def test_media_of_other_unit_is_404(client, login_as, core):
    user_b = login_as(Role.OPERATOR, "b")
    r = client.post("/media/unggah", data={"file": (__import__("io").BytesIO(png_bytes()),
                                                     "a.png")})
    assert r.status_code == 201
    media_id = r.get_json()["id"]
    assert client.get(f"/media/{media_id}").status_code == 200
    login_as(Role.OPERATOR, "a")
    assert client.get(f"/media/{media_id}").status_code == 404
    with core.sessions() as s:
        asset = s.get(MediaAsset, media_id)
        assert (asset.unit_id, asset.uploaded_by) == (user_b.unit_id, user_b.id)


def test_operator_cannot_approve_and_approver_not_own(client, login_as, make_user, make_channel,
                                                     make_post, session):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = make_user(Role.OPERATOR, "a")
    post = make_post(author, [ch], state="submitted")
    login_as(Role.OPERATOR, "a")
    assert client.post(f"/persetujuan/{post}/setujui").status_code == 403
    approver = login_as(Role.APPROVER, "a")
    own = make_post(approver, [ch], state="submitted")
    client.post(f"/persetujuan/{own}/setujui")
    session.expire_all()
    assert session.get(Post, own).status == PostStatus.SUBMITTED
    session.rollback()  # end the read so the app can write (SQLite locks the file)
    r = client.post(f"/persetujuan/{post}/tolak", data={"comment": ""}, follow_redirects=True)
    assert "Alasan penolakan wajib diisi" in r.get_data(as_text=True)
    client.post(f"/persetujuan/{post}/setujui")
    session.expire_all()
    assert session.get(Post, post).status == PostStatus.APPROVED


def test_approver_of_other_unit_gets_404(client, login_as, make_user, make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    post = make_post(make_user(Role.OPERATOR, "a"), [ch], state="submitted")
    login_as(Role.APPROVER, "b")
    assert client.post(f"/persetujuan/{post}/setujui").status_code == 404


def test_compose_submit_reject_and_author_sees_comment(client, login_as, make_user, make_channel,
                                                      session):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = login_as(Role.OPERATOR, "a")
    r = client.post("/unggahan/baru", data={"body": "Bansos cair hari ini", "channels": [str(ch)],
                                           "when": "later", "scheduled_at": "2030-01-02T09:00",
                                           "action": "submit"})
    assert r.status_code == 302
    post = session.query(Post).filter_by(author_id=author.id).one()
    assert post.status == PostStatus.SUBMITTED
    assert post.scheduled_at.isoformat().startswith("2030-01-02T02:00")  # 09.00 WIB
    post_id = post.id
    session.rollback()  # SQLite: the test's transaction would lock the app out
    login_as(Role.APPROVER, "a")
    client.post(f"/persetujuan/{post_id}/tolak", data={"comment": "Tambahkan <b>sumber</b>"})
    with client.session_transaction() as sess:
        sess["_user_id"] = str(author.id)
    html = client.get(f"/unggahan/{post_id}").get_data(as_text=True)
    assert "Tambahkan &lt;b&gt;sumber&lt;/b&gt;" in html
    html = client.get("/notifikasi").get_data(as_text=True)
    assert "Unggahan Anda ditolak" in html and "Alasan: Tambahkan &lt;b&gt;sumber&lt;/b&gt;" in html


def test_xss_renders_as_text(client, login_as, make_user, make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin, name='"><img src=x onerror=alert(1)>')
    evil = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'
    user = login_as(Role.OPERATOR, "a")
    post = make_post(user, [ch], body=evil, state="submitted")
    for path in ("/", "/unggahan", f"/unggahan/{post}", f"/unggahan/{post}/ubah",
                 "/persetujuan", "/kalender", "/akun"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html, path
        assert "<img src=x" not in html, path


def test_error_pages_styled_and_no_traceback(app):
    @app.route("/_boom")
    def _boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("secret detail")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    client = app.test_client()
    client.get("/masuk")
    r = client.get("/tidak-ada")
    assert r.status_code == 404
    assert "Halaman tidak ditemukan" in r.get_data(as_text=True)
    r = client.get("/_boom")
    assert r.status_code == 500
    assert "secret detail" not in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)


def test_english_locale(client, login_as, session):
    user = login_as(Role.OPERATOR, "a")
    client.post("/profil", data={"loc-locale": "en"})
    session.expire_all()
    assert session.get(User, user.id).locale == "en"
    session.rollback()
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Health board" in html and "Papan kesehatan" not in html


def test_admin_pause_banner_and_user_admin(client, login_as, make_user, session):
    login_as(Role.ADMIN, None)
    client.post("/admin/jeda", data={"scope": "global", "reason": "Masa tenang pilkada"})
    op = make_user(Role.OPERATOR, "a")
    html = client.get("/").get_data(as_text=True)
    assert "Masa tenang pilkada" in html
    client.post(f"/admin/pengguna/{op.id}", data={"role": "approver", "active": "0"})
    session.expire_all()
    u = session.get(User, op.id)
    assert u.role == "approver" and u.active is False
    assert session.query(AuditEvent).filter_by(action="user.update").count() == 1
