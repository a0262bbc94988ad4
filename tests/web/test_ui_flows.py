"""Flows behind the buttons: calendar drag (JSON reschedule), resolving an unconfirmed
publication, notifications and the unread count, connecting a channel without echoing secrets."""

from __future__ import annotations

import re

from sqlalchemy import select

from publisher.models import Channel, Post, PostStatus, Publication, PublicationStatus, Role


def test_calendar_drag_by_an_approver_keeps_approval(client, login_as, make_user, make_channel,
                                                     make_post, core):
    """An approver moving an approved post keeps its approval (an operator's move sends it
    back for approval: tests/security/test_approval_rules.py)."""
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    author = make_user(Role.OPERATOR, "a")
    login_as(Role.APPROVER, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    r = client.post(f"/unggahan/{post_id}/jadwal", json={"when": "2031-03-04T10:30"})
    assert r.status_code == 200, r.get_json()
    with core.sessions() as s:
        post = s.get(Post, post_id)
        assert post.status == PostStatus.APPROVED
        assert post.scheduled_at.isoformat().startswith("2031-03-04T03:30")
    r = client.post(f"/unggahan/{post_id}/jadwal", json={"when": "bukan tanggal"})
    assert r.status_code == 400
    html = client.get("/kalender?d=2031-03-04").get_data(as_text=True)
    day = re.search(r'data-date="2031-03-04">(.*?)\n  </div>', html, re.S)
    assert day and f'href="/unggahan/{post_id}"' in day.group(1) and "10.30" in day.group(1)


def test_resolve_unconfirmed_by_marking_published(client, login_as, make_user, make_channel,
                                                  make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver = make_user(Role.APPROVER, "a")
    author = login_as(Role.OPERATOR, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        pub.status = PublicationStatus.UNCONFIRMED
        pub.error = "Hasil tidak diketahui setelah batas waktu."
        pub_id = pub.id
    html = client.get("/").get_data(as_text=True)
    assert "Hasil tidak diketahui setelah batas waktu." in html
    assert "Tandai sudah terbit" in html and "Coba lagi" in html
    r = client.post(f"/penayangan/{pub_id}/tandai-terbit",
                    data={"permalink": "sandbox://dinsos-fb/123", "back": "/unggahan"})
    assert r.headers["Location"] == "/unggahan"
    with core.sessions() as s:
        assert s.get(Publication, pub_id).status == PublicationStatus.PUBLISHED
    assert "sandbox://dinsos-fb/123" in client.get("/unggahan").get_data(as_text=True)


def test_notifications_for_approver_and_author(client, login_as, make_user, make_channel,
                                               make_post):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = make_user(Role.OPERATOR, "a")
    make_post(author, [ch], state="submitted")
    login_as(Role.APPROVER, "a")
    assert re.search(r'id="unread" class="count"[^>]*>1<', client.get("/").get_data(as_text=True))
    assert "Permintaan persetujuan" in client.get("/notifikasi").get_data(as_text=True)
    assert re.search(r'class="count zero"[^>]*>0<',
                     client.get("/notifikasi/jumlah").get_data(as_text=True))
    login_as(Role.APPROVER, "b")  # another unit hears nothing
    assert "Permintaan persetujuan" not in client.get("/notifikasi").get_data(as_text=True)


def test_connect_channel_never_echoes_secret(client, login_as, core):
    login_as(Role.OPERATOR, "a")
    r = client.post("/akun/baru", data={"platform": "sandbox", "name": "Akun Uji",
                                       "cred_account": "BAD NAME", "cred_token": "rahasia-xyz"})
    assert r.status_code == 400
    assert "rahasia-xyz" not in r.get_data(as_text=True)
    r = client.post("/akun/baru", data={"platform": "sandbox", "name": "Akun Uji",
                                       "cred_account": "akun-uji", "cred_token": "rahasia-xyz"})
    assert r.status_code == 302
    html = client.get("/akun").get_data(as_text=True)
    assert "Akun Uji" in html and "rahasia-xyz" not in html
    with core.sessions() as s:
        assert s.execute(select(Channel).where(Channel.name == "Akun Uji")).scalar_one()


def test_reschedule_form_never_redirects_to_another_site(client, login_as, make_user,
                                                         make_channel, make_post):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    author = login_as(Role.OPERATOR, "a")
    post_id = make_post(author, [ch])
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example/"):
        r = client.post(f"/unggahan/{post_id}/jadwal",
                        data={"when": "2031-03-04T10:30", "back": evil})
        assert r.status_code == 302
        assert r.headers["Location"].endswith(f"/unggahan/{post_id}"), r.headers["Location"]
    r = client.post(f"/unggahan/{post_id}/jadwal", data={"when": "2031-03-04T10:30",
                                                          "back": "/kalender"})
    assert r.headers["Location"].endswith("/kalender")
