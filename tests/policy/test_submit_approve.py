"""Policy rules enforced by submit and approval (services and JSON API), on both backends:
each kind hard and soft, the acknowledgement recorded and bound to the content, a rule added
after submit blocking approval, and the near-duplicate and daily-limit queries bounded to the
draft's local day."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from publisher.models import AuditEvent, Post, User
from publisher.models.policy import PolicyAck
from publisher.services import media as media_svc
from publisher.services import posts as post_svc
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Invalid
from publisher.services.posts import PostInput

TEXT = "Pendaftaran bantuan sosial tahap dua dibuka mulai Senin di kantor kelurahan."


def png(name: str = "poster.png") -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 40)).save(buf, "PNG")
    buf.seek(0)
    return buf


def create(core, user, channels, body=TEXT, **kw):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return post_svc.create_post(core, s, s.get(User, user.id),
                                    PostInput(body=body, channels=channels, **kw)).id


def submit(core, user, post_id, acks=()):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return post_svc.submit_post(core, s, s.get(User, user.id), post_id, acks).status


def status_of(core, post_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Post, post_id).status


def image_id(core, user) -> int:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return media_svc.upload_media(core, s, s.get(User, user.id), png(), "poster.png").id


def case_setup(kind, core, people, chans):  # type: ignore[no-untyped-def]
    """(rule value, the bad post's create kwargs, the fixed create kwargs) per kind."""
    if kind == "required_tag":
        return "#BansosTepat", {}, {"body": TEXT + " #BansosTepat"}
    if kind == "banned_phrase":
        return "pasti cair", {"body": TEXT + " Dana pasti cair."}, {"body": TEXT}
    if kind == "alt_text":
        mid = image_id(core, people["op"])
        return "", {"media": [mid]}, {"media": [mid], "media_alt": {mid: "Poster pendaftaran"}}
    if kind == "link_domains":
        return "go.id", {"link": "https://bit.ly/bansos"}, {"link": "https://dinsos.go.id/b"}
    if kind == "daily_limit":
        earlier = create(core, people["op"], [chans["a"]], body="Pengumuman pagi.")
        submit(core, people["op"], earlier)
        return "1", {}, {"channels": [chans["a2"]]}
    if kind == "near_duplicate":
        other = create(core, people["op_b"], [chans["b"]], body=TEXT.upper())
        submit(core, people["op_b"], other)
        return "90", {}, {"body": "Jadwal posyandu bulan ini sudah terbit."}
    raise AssertionError(kind)


KINDS = ["required_tag", "banned_phrase", "alt_text", "link_domains", "daily_limit",
         "near_duplicate"]


@pytest.mark.parametrize("kind", KINDS)
def test_hard_rule_refuses_submit_and_nothing_changes(core, people, chans, add_rule,  # type: ignore[no-untyped-def]
                                                      kind):
    value, bad, fixed = case_setup(kind, core, people, chans)
    rid = add_rule(kind, value, "hard", reason="Aturan Diskominfo")
    post_id = create(core, people["op"], [chans["a"]], **({"body": TEXT} | bad))
    with pytest.raises(Invalid) as exc:
        submit(core, people["op"], post_id)
    assert exc.value.code == "policy"
    assert f"policy:{rid}" in exc.value.fields
    assert f"Aturan #{rid}" in exc.value.fields[f"policy:{rid}"]
    assert status_of(core, post_id) == "draft"
    # an acknowledgement does not lift a hard rule
    with pytest.raises(Invalid):
        submit(core, people["op"], post_id, {rid})
    fix = {"body": TEXT} | bad | fixed
    fixed_id = create(core, people["op"], fix.pop("channels", [chans["a"]]), **fix)
    assert submit(core, people["op"], fixed_id) == "submitted"


@pytest.mark.parametrize("kind", KINDS)
def test_soft_rule_needs_an_acknowledgement_that_is_recorded(core, people, chans, add_rule,  # type: ignore[no-untyped-def]
                                                             kind):
    value, bad, _fixed = case_setup(kind, core, people, chans)
    rid = add_rule(kind, value, "soft", reason="Panduan Diskominfo")
    post_id = create(core, people["op"], [chans["a"]], **({"body": TEXT} | bad))
    with pytest.raises(Invalid) as exc:
        submit(core, people["op"], post_id)
    assert exc.value.code == "policy_ack_needed" and f"policy:{rid}" in exc.value.fields
    assert status_of(core, post_id) == "draft"
    assert submit(core, people["op"], post_id, {rid}) == "submitted"
    with core.sessions() as s:
        post = s.get(Post, post_id)
        [ack] = s.execute(select(PolicyAck).where(PolicyAck.post_id == post_id)).scalars()
        assert (ack.rule_id, ack.user_id) == (rid, people["op"].id)
        assert ack.content_hash == content_hash(post) and f"Aturan #{rid}" in ack.message
        event = s.execute(select(AuditEvent).where(
            AuditEvent.action == "policy.acknowledge")).scalar_one()
        assert event.object_id == post_id and event.data["rules"] == [rid]
    # the approver may approve it: a soft rule does not block
    with core.sessions.begin() as s:
        assert post_svc.approve_post(core, s, s.get(User, people["ap"].id),
                                     post_id).status == "approved"


def test_a_hard_rule_added_after_submit_blocks_approval(core, people, chans, add_rule):  # type: ignore[no-untyped-def]
    post_id = create(core, people["op"], [chans["a"]], body=TEXT + " Dijamin pasti cair!")
    submit(core, people["op"], post_id)
    rid = add_rule("banned_phrase", "pasti cair", "hard",
                   reason="Janji yang tidak dapat dipastikan")
    with core.sessions.begin() as s, pytest.raises(Conflict) as exc:
        post_svc.approve_post(core, s, s.get(User, people["ap"].id), post_id)
    assert exc.value.code == "policy"
    assert f"Aturan #{rid}" in exc.value.message and "tidak dapat dipastikan" in exc.value.message
    assert status_of(core, post_id) == "submitted"
    # a soft one added after submit does not block
    with core.sessions.begin() as s:
        from publisher.services import policy_rules
        policy_rules.update_rule(core, s, s.get(User, people["admin"].id), rid, severity="soft",
                                 value="pasti cair", reason="x", campaign_id=None, active=True)
    with core.sessions.begin() as s:
        assert post_svc.approve_post(core, s, s.get(User, people["ap"].id),
                                     post_id).status == "approved"


def test_an_edit_needs_a_new_acknowledgement(core, people, chans, add_rule):  # type: ignore[no-untyped-def]
    rid = add_rule("banned_phrase", "viral", "soft", reason="Hindari kata sensasional")
    post_id = create(core, people["op"], [chans["a"]], body="Video viral hari ini")
    submit(core, people["op"], post_id, {rid})
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), post_id,
                             PostInput(body="Video viral terbaru"))
    with pytest.raises(Invalid):
        submit(core, people["op"], post_id)
    from publisher.services import policy_gate
    with core.sessions() as s:
        assert policy_gate.acks_for(s, [s.get(Post, post_id)])[post_id] == []


def test_near_duplicate_only_that_day_only_other_units(core, clock, people, chans, add_rule):  # type: ignore[no-untyped-def]
    rid = add_rule("near_duplicate", "90", "hard")
    tomorrow = clock.now + timedelta(days=1)
    # another unit's same text tomorrow, the own unit's same text today: neither counts
    other = create(core, people["op_b"], [chans["b"]], scheduled_at=tomorrow)
    submit(core, people["op_b"], other)
    own = create(core, people["op"], [chans["a2"]])
    submit(core, people["op"], own)
    draft_b = create(core, people["op_b"], [chans["b"]])  # a draft is not scheduled
    post_id = create(core, people["op"], [chans["a"]])
    assert submit(core, people["op"], post_id) == "submitted"
    # the same text of another unit on the same local day does
    later = create(core, people["op"], [chans["a"]], scheduled_at=tomorrow + timedelta(hours=2))
    with pytest.raises(Invalid) as exc:
        submit(core, people["op"], later)
    msg = exc.value.fields[f"policy:{rid}"]
    assert "Bappeda" in msg and "bantuan" not in msg.lower()
    assert draft_b


def test_daily_limit_counts_the_channel_on_its_local_day(core, clock, people, chans,  # type: ignore[no-untyped-def]
                                                         add_rule):
    rid = add_rule("daily_limit", "1", "hard")
    first = create(core, people["op"], [chans["a"]], body="Satu")
    submit(core, people["op"], first)
    # another channel, or the next local day (10:00 WIB + 14 h = 00:00 WIB tomorrow): free
    assert submit(core, people["op"], create(core, people["op"], [chans["a2"]], body="Dua")) \
        == "submitted"
    tomorrow = create(core, people["op"], [chans["a"]], body="Tiga",
                      scheduled_at=clock.now + timedelta(hours=14))
    assert submit(core, people["op"], tomorrow) == "submitted"
    late = create(core, people["op"], [chans["a"]], body="Empat",
                  scheduled_at=clock.now + timedelta(hours=13, minutes=59))
    with pytest.raises(Invalid) as exc:
        submit(core, people["op"], late)
    assert "FB Dinsos" in exc.value.fields[f"policy:{rid}"]


def test_campaign_rule_and_inactive_rule(core, people, chans, add_rule):  # type: ignore[no-untyped-def]
    from publisher.models import Campaign
    from publisher.services import policy_rules
    with core.sessions.begin() as s:
        camp = Campaign(name="Bulan Imunisasi", unit_id=None)
        s.add(camp)
        s.flush()
        camp_id = camp.id
    rid = add_rule("required_tag", "#BIAN", "hard", campaign_id=camp_id)
    assert submit(core, people["op"], create(core, people["op"], [chans["a"]])) == "submitted"
    bad = create(core, people["op"], [chans["a"]], body="Imunisasi", campaign=camp_id)
    with pytest.raises(Invalid):
        submit(core, people["op"], bad)
    with core.sessions.begin() as s:
        policy_rules.update_rule(core, s, s.get(User, people["admin"].id), rid, severity="hard",
                                 value="#BIAN", reason="", campaign_id=camp_id, active=False)
    assert submit(core, people["op"], bad) == "submitted"


# -- the JSON API ------------------------------------------------------------------------------
def test_api_submit_names_the_rule_and_takes_acknowledgements(core, people, chans, add_rule,  # type: ignore[no-untyped-def]
                                                              api_as):
    hard = add_rule("link_domains", "go.id", "hard", reason="Hanya situs pemerintah")
    soft = add_rule("banned_phrase", "gratis", "soft", reason="Hindari janji")
    op = api_as(people["op"])
    post = op.post("/posts", json={"body": "Vaksin gratis https://bit.ly/v",
                                   "channels": [chans["a"]]}).json
    r = op.post(f"/posts/{post['id']}/submit")
    assert r.status_code == 400, r.json
    err = r.json["error"]
    assert err["code"] == "policy"
    assert f"policy:{hard}" in err["fields"] and f"policy:{soft}" in err["fields"]
    assert "bit.ly" in err["fields"][f"policy:{hard}"]
    assert op.get(f"/posts/{post['id']}").json["status"] == "draft"
    assert op.patch(f"/posts/{post['id']}",
                    json={"body": "Vaksin gratis https://kemkes.go.id/v"}).status_code == 200
    r = op.post(f"/posts/{post['id']}/submit")
    assert (r.status_code, r.json["error"]["code"]) == (400, "policy_ack_needed")
    assert list(r.json["error"]["fields"]) == [f"policy:{soft}"]
    assert op.post(f"/posts/{post['id']}/submit?acknowledge=x1").status_code == 400
    r = op.post(f"/posts/{post['id']}/submit?acknowledge={soft}")
    assert r.status_code == 200 and r.json["status"] == "submitted"
    policy = api_as(people["ap"]).get(f"/posts/{post['id']}/policy").json
    assert [a["rule"] for a in policy["acknowledged"]] == [soft]
    assert "Hindari janji" in policy["acknowledged"][0]["message"]
    # another unit cannot read it
    assert api_as(people["op_b"]).get(f"/posts/{post['id']}/policy").status_code == 404


def test_api_approve_is_409_when_a_new_hard_rule_is_broken(core, people, chans, add_rule,  # type: ignore[no-untyped-def]
                                                           api_as):
    op, ap = api_as(people["op"]), api_as(people["ap"])
    mid = op.post("/media", data={"file": (png(), "foto.png")},
                  content_type="multipart/form-data").json["id"]
    post = op.post("/posts", json={"body": "Foto kegiatan", "channels": [chans["a"]],
                                   "media": [mid]}).json
    assert op.post(f"/posts/{post['id']}/submit").status_code == 200
    rid = add_rule("alt_text", "", "hard", reason="Aksesibilitas")
    r = ap.post(f"/posts/{post['id']}/approve")
    assert (r.status_code, r.json["error"]["code"]) == (409, "policy"), r.json
    assert f"Rule #{rid}" in r.json["error"]["message_en"] or \
        f"Aturan #{rid}" in r.json["error"]["message"]
    # the author adds the alt text (through the API) and submits again
    r = op.patch(f"/posts/{post['id']}", json={"media_alt": {str(mid): "Warga antre vaksin"}})
    assert r.status_code == 200 and r.json["media_alt"] == {str(mid): "Warga antre vaksin"}
    assert op.post(f"/posts/{post['id']}/submit").status_code in (200, 409)
