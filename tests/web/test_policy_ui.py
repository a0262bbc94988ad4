"""Policy rules in the browser UI (test client), on both backends: the admin page (CRUD,
audited, admins only), the composer's live panel (htmx endpoint), submit from the composer
with and without an acknowledgement, and the approval page showing what was acknowledged and
what now blocks."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, Post, PostMedia, PostStatus, Role, User
from publisher.models.policy import PolicyRule
from publisher.services import policy_rules
from tests.web.conftest import png_bytes

TEXT = "Pendaftaran bantuan sosial tahap dua dibuka mulai Senin di kantor kelurahan."


def rule(core, admin, kind, value="", severity="hard", reason="Aturan daerah"):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return policy_rules.create_rule(core, s, s.get(User, admin.id), kind=kind,
                                        severity=severity, value=value, reason=reason).id


def rules_in(core):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(PolicyRule).order_by(PolicyRule.id)).scalars().all()


def actions(core):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return [e.action for e in s.execute(select(AuditEvent).where(
            AuditEvent.action.startswith("policy.")).order_by(AuditEvent.id)).scalars()]


# -- the admin page -------------------------------------------------------------------------
def test_admin_creates_changes_and_deletes_rules_audited(client, login_as, core):  # type: ignore[no-untyped-def]
    login_as(Role.ADMIN, None)
    page = client.get("/admin/kebijakan").get_data(as_text=True)
    assert "Aturan kebijakan" in page and "Belum ada aturan" in page
    r = client.post("/admin/kebijakan", data={"kind": "banned_phrase", "severity": "soft",
                                             "value": "pasti cair", "reason": "Janji palsu"})
    assert r.status_code == 302
    [made] = rules_in(core)
    assert (made.kind, made.severity, made.value, made.reason) == \
        ("banned_phrase", "soft", "pasti cair", "Janji palsu")
    page = client.get("/admin/kebijakan").get_data(as_text=True)
    assert "Kata atau frasa terlarang" in page and "pasti cair" in page
    r = client.post(f"/admin/kebijakan/{made.id}", data={
        "severity": "hard", "value": "pasti cair", "reason": "Janji yang tidak dapat dijamin",
        "campaign": "", "active": "1"})
    assert r.status_code == 302
    [changed] = rules_in(core)
    assert (changed.severity, changed.reason) == ("hard", "Janji yang tidak dapat dijamin")
    assert client.post(f"/admin/kebijakan/{made.id}/hapus").status_code == 302
    assert rules_in(core) == []
    assert actions(core) == ["policy.create", "policy.update", "policy.delete"]
    audit = client.get("/admin/riwayat").get_data(as_text=True)
    assert "Aturan kebijakan ditambahkan" in audit


@pytest.mark.parametrize("kind,value,field_text", [
    ("daily_limit", "10x", "1-100"),
    ("required_tag", "Bansos", "tagar"),
    ("link_domains", "go.id, bukan domain!", "bukan domain"),
    ("near_duplicate", "30", "50-100"),
    ("banned_phrase", "", "frasa"),
])
def test_admin_bad_rule_is_a_field_message_and_nothing_saved(client, login_as, core,  # type: ignore[no-untyped-def]
                                                             kind, value, field_text):
    login_as(Role.ADMIN, None)
    r = client.post("/admin/kebijakan", data={"kind": kind, "severity": "hard",
                                             "value": value, "reason": "x"})
    assert r.status_code == 400
    assert field_text in r.get_data(as_text=True)
    assert rules_in(core) == [] and actions(core) == []


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.APPROVER])
def test_non_admins_cannot_read_or_change_rules(client, login_as, make_user, core, role):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)
    rid = rule(core, admin, "banned_phrase", "hoaks")
    login_as(role, "a")
    assert client.get("/admin/kebijakan").status_code == 403
    assert client.post("/admin/kebijakan", data={"kind": "alt_text",
                                                "severity": "hard"}).status_code == 403
    assert client.post(f"/admin/kebijakan/{rid}", data={"severity": "soft", "value": "x",
                                                       "reason": "x"}).status_code == 403
    assert client.post(f"/admin/kebijakan/{rid}/hapus").status_code == 403
    [kept] = rules_in(core)
    assert (kept.severity, kept.value) == ("hard", "hoaks")


# -- the composer's live panel ----------------------------------------------------------------
def test_live_panel_shows_violations_of_the_typed_text(client, login_as, make_user,  # type: ignore[no-untyped-def]
                                                       make_channel, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    hard = rule(core, admin, "banned_phrase", "pasti cair", reason="Janji palsu")
    soft = rule(core, admin, "link_domains", "go.id", "soft")
    login_as(Role.OPERATOR, "a")
    r = client.post("/unggahan/periksa-kebijakan",
                    data={"body": "Bansos pasti cair https://bit.ly/x", "channels": [str(ch)],
                          "ack": [str(soft)]})
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert f'data-rule="{hard}" data-severity="hard"' in html and "Janji palsu" in html
    assert f'data-rule="{soft}" data-severity="soft"' in html and "bit.ly" in html
    # the soft rule's box, kept ticked as the panel is redrawn; the hard rule has none
    assert f'name="ack" value="{soft}" checked' in html
    assert f'name="ack" value="{hard}"' not in html
    assert "<html" not in html  # a fragment for htmx, not a page
    r = client.post("/unggahan/periksa-kebijakan", data={"body": "Bansos https://jakarta.go.id"})
    assert "data-policy-ok" in r.get_data(as_text=True)


def test_live_panel_alt_text_and_other_units(client, login_as, make_user, make_channel,  # type: ignore[no-untyped-def]
                                             make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch_a, ch_b = make_channel(admin), make_channel(admin, "b", "FB Bappeda", "bappeda-fb")
    alt = rule(core, admin, "alt_text")
    dup = rule(core, admin, "near_duplicate", "90")
    make_post(make_user(Role.OPERATOR, "b"), [ch_b], body=TEXT + " https://bappeda.example/r",
              state="submitted")
    login_as(Role.OPERATOR, "a")
    media_id = client.post("/media/unggah", data={"file": (io.BytesIO(png_bytes()), "p.png")}
                           ).get_json()["id"]
    form = {"body": TEXT, "channels": [str(ch_a)], "media": [str(media_id)]}
    html = client.post("/unggahan/periksa-kebijakan", data=form).get_data(as_text=True)
    assert f'data-rule="{alt}"' in html and "p.png" in html
    assert f'data-rule="{dup}"' in html and "Bappeda" in html
    # never the other unit's words or link
    assert "kelurahan" not in html.split(f'data-rule="{dup}"')[1].split("</li>")[0]
    assert "bappeda.example" not in html
    html = client.post("/unggahan/periksa-kebijakan",
                       data=form | {f"alt_{media_id}": "Poster pendaftaran"}
                       ).get_data(as_text=True)
    assert f'data-rule="{alt}"' not in html


def test_live_panel_of_another_units_post_is_404(client, login_as, make_user, make_channel,  # type: ignore[no-untyped-def]
                                                 make_post):
    admin = make_user(Role.ADMIN, None)
    post_b = make_post(make_user(Role.OPERATOR, "b"), [make_channel(admin, "b", "B", "b")])
    login_as(Role.OPERATOR, "a")
    assert client.post(f"/unggahan/periksa-kebijakan?post={post_b}",
                       data={"body": "x"}).status_code == 404


def test_composer_page_carries_the_live_panel(client, login_as, make_user, make_channel,  # type: ignore[no-untyped-def]
                                              make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    rule(core, admin, "banned_phrase", "hoaks")
    author = login_as(Role.OPERATOR, "a")
    post = make_post(author, [ch], body="Ini bukan hoaks")
    html = client.get(f"/unggahan/{post}/ubah").get_data(as_text=True)
    assert f'hx-post="/unggahan/periksa-kebijakan?post={post}"' in html
    assert 'hx-include="#composer"' in html and "data-policy-violations" in html
    assert "<script>" not in html.split('id="policy"')[1].split("</div>")[0]


# -- submit from the composer, and the approval page ----------------------------------------
def test_soft_violation_submitted_with_acknowledgement_is_shown_to_the_approver(  # type: ignore[no-untyped-def]
        client, login_as, make_user, make_channel, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    soft = rule(core, admin, "banned_phrase", "viral", "soft", reason="Hindari kata sensasional")
    login_as(Role.OPERATOR, "a")
    form = {"body": "Video viral pelayanan KTP", "channels": [str(ch)], "when": "now",
            "action": "submit"}
    r = client.post("/unggahan/baru", data=form)
    assert r.status_code == 302 and "/ubah" in r.headers["Location"]
    with core.sessions() as s:
        post = s.execute(select(Post)).scalar_one()
        assert post.status == PostStatus.DRAFT
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Hindari kata sensasional" in page and f'name="ack" value="{soft}"' in page
    r = client.post(f"/unggahan/{post.id}/ubah", data=form | {"ack": str(soft)})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/unggahan/{post.id}")
    with core.sessions() as s:
        assert s.get(Post, post.id).status == PostStatus.SUBMITTED
    login_as(Role.APPROVER, "a")
    page = client.get("/persetujuan").get_data(as_text=True)
    assert "data-acknowledged" in page and "Hindari kata sensasional" in page
    assert "data-policy-blocked" not in page


def test_hard_rule_added_after_submit_blocks_approval_on_the_page(  # type: ignore[no-untyped-def]
        client, login_as, make_user, make_channel, make_post, core):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    post = make_post(make_user(Role.OPERATOR, "a"), [ch], body="Dana pasti cair besok",
                     state="submitted")
    rid = rule(core, admin, "banned_phrase", "pasti cair", reason="Janji yang belum pasti")
    login_as(Role.APPROVER, "a")
    page = client.get("/persetujuan").get_data(as_text=True)
    assert "data-policy-blocked" in page and f"Aturan #{rid}" in page
    r = client.post(f"/persetujuan/{post}/setujui", follow_redirects=True)
    assert "belum dapat disetujui" in r.get_data(as_text=True)
    with core.sessions() as s:
        assert s.get(Post, post).status == PostStatus.SUBMITTED


def test_composer_saves_alt_text(client, login_as, make_user, make_channel, core):  # type: ignore[no-untyped-def]
    ch = make_channel(make_user(Role.ADMIN, None))
    login_as(Role.OPERATOR, "a")
    media_id = client.post("/media/unggah", data={"file": (io.BytesIO(png_bytes()), "p.png")}
                           ).get_json()["id"]
    r = client.post("/unggahan/baru", data={"body": "Foto", "channels": [str(ch)],
                                           "media": [str(media_id)], "when": "now",
                                           f"alt_{media_id}": "Warga antre di loket",
                                           "action": "draft"})
    assert r.status_code == 302
    with core.sessions() as s:
        link = s.execute(select(PostMedia)).scalar_one()
        assert link.alt_text == "Warga antre di loket"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert f'name="alt_{media_id}"' in page and 'value="Warga antre di loket"' in page
