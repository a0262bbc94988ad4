# ruff: noqa: F811 - the shared fixtures are imported into the module, then requested by name
""""Mark as published" takes only a link on the channel's own platform (each adapter declares
its permalink hosts), is audited, and the public transparency page never shows a link that
fails the check."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from adapters import get_adapter_class, platforms
from adapters.base import permalink_matches
from publisher.models import AuditEvent, Channel, Publication, PublicationStatus, Role, Unit
from tests.security.trust_fixtures import app, make_channel, make_post  # noqa: F401


def _unconfirmed(core, make_user, make_channel, make_post, platform="sandbox"):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    approver, author = make_user(Role.APPROVER, "a"), make_user(Role.OPERATOR, "a")
    post_id = make_post(author, [ch], state="approved", approver=approver)
    with core.sessions.begin() as s:
        s.get(Channel, ch).platform = platform  # the link rules are the platform's
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        pub.status = PublicationStatus.UNCONFIRMED
        return pub.id, author


@pytest.mark.parametrize(("platform", "good", "bad"), [
    ("facebook", "https://www.facebook.com/dinsos/posts/123",
     "https://evil.example/facebook.com/123"),
    ("facebook", "https://m.facebook.com/story.php?id=1", "https://facebook.com.evil.example/1"),
    ("x", "https://x.com/dinsos/status/1", "https://x.com@evil.example/dinsos/status/1"),
    ("telegram", "https://t.me/dinsos/5", "http://t.me/dinsos/5"),
    ("youtube", "https://youtu.be/abc", "javascript://youtube.com/%0aalert(1)"),
    ("instagram_graph", "https://www.instagram.com/p/AbC/", "https://www.facebook.com/p/AbC/"),
])
def test_a_link_must_be_on_the_channels_platform(api_as, make_user, make_channel, make_post,
                                                 core, platform, good, bad):
    pub_id, author = _unconfirmed(core, make_user, make_channel, make_post, platform)
    api = api_as(author)
    r = api.post(f"/publications/{pub_id}/mark-published", json={"permalink": bad})
    assert r.status_code == 400, r.get_json()
    assert "permalink" in r.get_json()["error"]["fields"]
    with core.sessions() as s:
        assert s.get(Publication, pub_id).status == PublicationStatus.UNCONFIRMED
    r = api.post(f"/publications/{pub_id}/mark-published", json={"permalink": good})
    assert r.status_code == 200, r.get_json()
    with core.sessions() as s:
        assert s.get(Publication, pub_id).permalink == good
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.mark_published")).scalar_one()
        assert event.actor_id == author.id and event.data["permalink"] == good
        assert event.data["previous_status"] == PublicationStatus.UNCONFIRMED


def test_the_ui_form_refuses_another_platforms_link(client, login_as, make_user, make_channel,
                                                    make_post, core):
    pub_id, _author = _unconfirmed(core, make_user, make_channel, make_post, "telegram")
    login_as(Role.OPERATOR, "a")
    client.post(f"/penayangan/{pub_id}/tandai-terbit",
                data={"permalink": "https://phishing.example/bansos"})
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        assert pub.status == PublicationStatus.UNCONFIRMED and pub.permalink is None


def test_every_adapter_declares_its_permalink_hosts():
    for name in platforms():
        caps = get_adapter_class(name).caps
        assert caps.permalink_hosts, f"{name} declares no permalink hosts"
        assert not permalink_matches(caps, "https://evil.example/x") or name == "sandbox"


def test_the_public_page_hides_a_link_that_fails_the_check(client, make_user, make_channel,
                                                           make_post, core, units):
    pub_id, _author = _unconfirmed(core, make_user, make_channel, make_post, "facebook")
    at = datetime(2026, 6, 5, 3, 0, tzinfo=UTC)
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).public_report = True
        pub = s.get(Publication, pub_id)
        pub.status, pub.published_at = PublicationStatus.PUBLISHED, at
        pub.permalink = "https://evil.example/facebook"  # e.g. stored before the check existed
    body = client.get("/publik/laporan.json?bulan=2026-06").get_json()
    assert body["publications"] == []
    assert "evil.example" not in client.get("/publik/laporan?bulan=2026-06").get_data(
        as_text=True)
    with core.sessions.begin() as s:
        s.get(Publication, pub_id).permalink = "https://www.facebook.com/dinsos/posts/1"
    body = client.get("/publik/laporan.json?bulan=2026-06").get_json()
    assert [p["permalink"] for p in body["publications"]] == [
        "https://www.facebook.com/dinsos/posts/1"]
