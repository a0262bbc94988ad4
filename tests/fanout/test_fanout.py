"""Campaign fan-out ("narasi tunggal"): one message to three units, one adapting it; the
compliance report per unit; isolation, the time window, idempotency and all-or-none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from publisher.models import Campaign, CampaignFanout, Post, User
from publisher.reports.fanout import fanout_reports
from publisher.services import fanout as svc
from publisher.services import posts as post_svc
from publisher.services.errors import Forbidden, Invalid
from tests.fanout.conftest import SOURCE, copies, publish, send


def test_three_units_one_adapts_and_compliance_counts_each(core, world):  # type: ignore[no-untyped-def]
    fid = send(core, world)
    got = copies(core, fid)
    assert set(got) == set(world.units.values())
    with core.sessions() as s:
        for key, uid in world.units.items():
            post = s.get(Post, got[uid])
            # a ready draft of the unit, for its channels of the message's platforms only
            assert (post.unit_id, post.status, post.campaign_id) == (uid, "draft", world.campaign)
            assert post.channel_ids == [world.channels[key]["sandbox"]]
            assert post.body == SOURCE and post.link.endswith("/stunting")
        fanout = s.get(CampaignFanout, fid)
        when, end = fanout.scheduled_at, fanout.scheduled_at + timedelta(hours=2)
    a, b, c = (got[world.units[k]] for k in "abc")
    # unit a adapts the text; unit b only re-wraps it (not an adaptation)
    with core.sessions.begin() as s:
        op_a = s.get(User, world.users["op_a"].id)
        post_svc.update_post(core, s, op_a, a, post_svc.PostInput(
            body="Dinsos mengajak: timbang balita di posyandu. #CegahStunting"))
        op_b = s.get(User, world.users["op_b"].id)
        post_svc.update_post(core, s, op_b, b, post_svc.PostInput(
            body="  " + SOURCE.replace("\n", "\n\n") + "\n"))
    publish(core, a, when + timedelta(minutes=30))  # within the window
    publish(core, b, end + timedelta(minutes=1))    # after it: late
    with core.sessions() as s:
        admin = s.get(User, world.users["admin"].id)
        camp = s.get(Campaign, world.campaign)
        [rep] = fanout_reports(s, admin, camp, end + timedelta(hours=1))
        rows = {r.post_id: r for r in rep.rows}
        assert (rows[a].adapted, rows[a].state) == (True, "published")
        assert (rows[b].adapted, rows[b].state) == (False, "late")
        assert (rows[c].adapted, rows[c].state) == (False, "not_published")
        assert rows[a].links[0]["permalink"] == f"sandbox://warta/{a}"
        assert [rep.count(k) for k in ("received", "adapted", "published", "late",
                                       "not_published")] == [3, 1, 1, 1, 1]
        assert not rep.open
        # a unit sees only its own row
        op_b = s.get(User, world.users["op_b"].id)
        [mine] = fanout_reports(s, op_b, camp, end)
        assert [r.post_id for r in mine.rows] == [b]


def test_compliance_page_admin_sees_all_unit_sees_own_row(client, login_as, core, world):  # type: ignore[no-untyped-def]
    fid = send(core, world)
    got = copies(core, fid)
    login_as("admin", None)
    html = client.get(f"/laporan/kampanye/{world.campaign}").get_data(as_text=True)
    assert all(f'data-unit="{uid}"' in html for uid in got)
    assert f'href="/unggahan/{got[world.units["c"]]}"' in html
    login_as("operator", "b")
    html = client.get(f"/laporan/kampanye/{world.campaign}").get_data(as_text=True)
    assert f'data-unit="{world.units["b"]}"' in html
    assert f'data-unit="{world.units["a"]}"' not in html
    assert f'/unggahan/{got[world.units["a"]]}"' not in html


def test_units_never_see_another_units_copy(client, login_as, core, world):  # type: ignore[no-untyped-def]
    fid = send(core, world)
    got = copies(core, fid)
    a, b = got[world.units["a"]], got[world.units["b"]]
    login_as("operator", "a")
    assert client.get(f"/unggahan/{b}").status_code == 404
    page = client.get(f"/unggahan/{a}")
    assert page.status_code == 200 and "fanout-mark" in page.get_data(as_text=True)
    listing = client.get("/unggahan").get_data(as_text=True)
    assert "Narasi tunggal dari Diskominfo" in listing
    assert f"/unggahan/{a}\"" in listing and f"/unggahan/{b}\"" not in listing
    # the unit's operators were told (the bell), and only that unit's
    from web.ui.notifications.feed import notifications_for

    with core.sessions() as s:
        op_a = s.get(User, world.users["op_a"].id)
        assert [n.post_id for n in notifications_for(s, op_a)
                if n.event.action == "fanout.receive"] == [a]
        op_b = s.get(User, world.users["op_b"].id)
        assert [n.post_id for n in notifications_for(s, op_b)
                if n.event.action == "fanout.receive"] == [b]
        # and the e-mail of that notification says what it is, in the unit's language
        from publisher.models import AuditEvent
        from publisher.notify.content import build

        event = s.execute(select(AuditEvent).where(AuditEvent.action == "fanout.receive",
                                                   AuditEvent.object_id == a)).scalar_one()
        mail = build(s, op_a, event, "fanout_received", "https://warta.test", "Asia/Jakarta")
        assert mail.subject.startswith("Narasi tunggal dari Diskominfo")
        assert mail.action_url == f"https://warta.test/unggahan/{a}"


def test_time_window_refuses_outside_with_a_field_message(core, world):  # type: ignore[no-untyped-def]
    fid = send(core, world, window=2)
    a = copies(core, fid)[world.units["a"]]
    with core.sessions() as s:
        when = s.get(CampaignFanout, fid).scheduled_at
    for bad in (when + timedelta(hours=2, minutes=1), when - timedelta(hours=3)):
        with core.sessions.begin() as s, pytest.raises(Invalid) as exc:
            post_svc.update_post(core, s, s.get(User, world.users["op_a"].id), a,
                                 post_svc.PostInput(scheduled_at=bad))
        assert exc.value.code == "outside_window" and "scheduled_at" in exc.value.fields
        with core.sessions.begin() as s, pytest.raises(Invalid):
            post_svc.reschedule_post(core, s, s.get(User, world.users["op_a"].id), a, bad)
    with core.sessions.begin() as s, pytest.raises(Invalid):  # "as soon as approved"
        post_svc.update_post(core, s, s.get(User, world.users["op_a"].id), a,
                             post_svc.PostInput(clear_schedule=True))
    ok = when + timedelta(hours=1, minutes=30)
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, s.get(User, world.users["op_a"].id), a, ok)
    with core.sessions() as s:
        assert s.get(Post, a).scheduled_at == ok


def test_resending_to_a_unit_does_not_duplicate(core, world):  # type: ignore[no-untyped-def]
    fid = send(core, world, ("a", "b"))
    with core.sessions.begin() as s:
        admin = s.get(User, world.users["admin"].id)
        fanout = s.get(CampaignFanout, fid)
        made = svc.send_to_units(core, s, admin, fanout, [world.units["a"], world.units["b"],
                                                          world.units["c"]])
        assert [r.unit_id for r in made] == [world.units["c"]]
        assert svc.send_to_units(core, s, admin, fanout, [world.units["a"]]) == []
    with core.sessions() as s:
        assert s.execute(select(func.count()).select_from(Post)).scalar() == 3
    assert len(copies(core, fid)) == 3


def test_all_or_none_and_admins_only(core, world):  # type: ignore[no-untyped-def]
    from publisher.models import Channel

    with core.sessions.begin() as s:  # unit c has no active sandbox channel any more
        s.get(Channel, world.channels["c"]["sandbox"]).status = "disabled"
    with pytest.raises(Invalid) as exc:
        send(core, world)
    assert exc.value.code == "no_channels" and "Dinas Kesehatan" in exc.value.fields["units"]
    with core.sessions() as s:
        assert s.execute(select(func.count()).select_from(Post)).scalar() == 0
        assert s.execute(select(func.count()).select_from(CampaignFanout)).scalar() == 0
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        svc.create_fanout(core, s, s.get(User, world.users["appr_a"].id),
                          campaign_id=world.campaign, body="x", link=None, platforms=[],
                          scheduled_at=core.now() + timedelta(hours=1), window_hours=0,
                          unit_ids=[world.units["a"]])


def test_unit_copy_obeys_the_campaign_rules_and_the_units_four_eyes(core, world):  # type: ignore[no-untyped-def]
    from publisher.services import policy_rules

    with core.sessions.begin() as s:
        policy_rules.create_rule(core, s, s.get(User, world.users["admin"].id),
                                 kind="required_tag", severity="hard", value="#CegahStunting",
                                 reason="Tagar kampanye", campaign_id=world.campaign)
    a = copies(core, send(core, world, ("a",)))[world.units["a"]]
    with core.sessions.begin() as s:  # adapting away the campaign's hashtag is refused
        op_a = s.get(User, world.users["op_a"].id)
        post_svc.update_post(core, s, op_a, a, post_svc.PostInput(body="Timbang balita."))
    with core.sessions.begin() as s, pytest.raises(Invalid) as exc:
        post_svc.submit_post(core, s, s.get(User, world.users["op_a"].id), a)
    assert exc.value.code == "policy"
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, world.users["op_a"].id), a,
                             post_svc.PostInput(body="Timbang balita. #CegahStunting"))
        post_svc.submit_post(core, s, s.get(User, world.users["op_a"].id), a)
    with core.sessions.begin() as s, pytest.raises(Forbidden):  # the writer cannot approve
        post_svc.approve_post(core, s, s.get(User, world.users["op_a"].id), a)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, world.users["appr_a"].id), a)
    with core.sessions() as s:
        assert s.get(Post, a).status == "approved"


def test_admin_form_sends_and_refuses_bad_input(app, client, login_as, core, world):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    url = f"/laporan/kampanye/{world.campaign}/narasi-tunggal"
    login_as("operator", "a")
    assert client.get(url).status_code == 403
    login_as("admin", None)
    assert client.get(url).status_code == 200
    form = {"body": "Ayo imunisasi", "scheduled_at": "2026-06-12T09:00", "window_hours": "3",
            "platforms": ["sandbox"], "all_units": "1"}
    bad = client.post(url, data=form | {"window_hours": "999"})
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    assert client.post(url, data=form | {"scheduled_at": "2020-01-01T09:00"}).status_code == 400
    assert client.post(url, data=form | {"units": "²", "all_units": ""}).status_code == 400
    r = client.post(url, data=form)
    assert r.status_code == 302
    with core.sessions() as s:
        assert s.execute(select(func.count()).select_from(Post)).scalar() == 3
    page = client.get(f"/laporan/kampanye/{world.campaign}").get_data(as_text=True)
    assert "Ayo imunisasi" in page


def test_diskominfo_pre_approves_its_stage_of_every_copy(core, world, make_user) -> None:  # type: ignore[no-untyped-def]
    """Issue 20: "pre-approved by Diskominfo's stage". Units a and b approve in two stages
    (their approver, then the region's verifier); unit c in one. A verifier who did not write
    the message approves the region's stage of a's and b's copies at once; each unit's own
    approver still approves; b adapts its copy afterwards, so b's copy comes back to the
    region's stage (the verifier approved other words)."""
    from publisher.models import PostStatus, Publication
    from publisher.services import review_stages

    verifier = make_user("approver", "b")
    appr_b = make_user("approver", "b")
    with core.sessions.begin() as s:
        admin = s.get(User, world.users["admin"].id)
        for key in "ab":
            review_stages.set_unit_stages(s, admin, world.units[key],
                                          ["unit_approver", "region_verifier"])
        review_stages.set_verifier(s, admin, verifier.id, True)
        review_stages.set_verifier(s, admin, admin.id, True)
    got = copies(core, send(core, world))
    a, b, c = (got[world.units[k]] for k in "abc")
    fid = send(core, world, ("a",))  # a second message, for the refusals below
    with core.sessions.begin() as s, pytest.raises(Forbidden, match="orang kedua"):
        svc.preapprove(core, s, s.get(User, world.users["admin"].id), fid)  # wrote it
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        svc.preapprove(core, s, s.get(User, world.users["op_a"].id), fid)  # no verifier
    with core.sessions() as s:
        first = s.execute(select(CampaignFanout.id).order_by(CampaignFanout.id)).scalars().first()
    with core.sessions.begin() as s:
        done = svc.preapprove(core, s, s.get(User, verifier.id), first)
    assert sorted(done) == sorted([a, b]), "c has no region stage: untouched"
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, s.get(User, world.users["op_a"].id), a)
        op_b = s.get(User, world.users["op_b"].id)
        post_svc.update_post(core, s, op_b, b, post_svc.PostInput(
            body="Bappeda mengajak: timbang balita. #CegahStunting"))
        post_svc.submit_post(core, s, op_b, b)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, world.users["appr_a"].id), a)
        post_svc.approve_post(core, s, s.get(User, appr_b.id), b)
    with core.sessions() as s:
        assert s.get(Post, a).status == PostStatus.APPROVED, "both stages done: released"
        assert s.execute(select(func.count()).select_from(Publication)
                         .where(Publication.post_id == a)).scalar() == 1
        assert s.get(Post, b).status == PostStatus.SUBMITTED
        assert review_stages.waiting_kind(s, s.get(Post, b)) == "region_verifier", \
            "adapted after the pre-approval: the region's stage again"


def test_no_path_moves_a_copy_out_of_its_window(core, world) -> None:  # type: ignore[no-untyped-def]
    """Review of the merged features: the window holds for the calendar's move of one
    publication too, and a copy cannot become a recurring series (its later occurrences would
    all fall outside the window)."""
    from publisher.models import Publication
    from publisher.services import publications as pub_svc

    got = copies(core, send(core, world, ("a",)))
    a = got[world.units["a"]]
    with core.sessions.begin() as s:
        op_a = s.get(User, world.users["op_a"].id)
        with pytest.raises(Invalid) as err:
            post_svc.update_post(core, s, op_a, a, post_svc.PostInput(
                recurrence={"freq": "daily", "count": 3}))
        assert "recurrence" in err.value.fields
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, s.get(User, world.users["op_a"].id), a)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, world.users["appr_a"].id), a)
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == a)).scalar_one()
    with core.sessions.begin() as s, pytest.raises(Invalid):
        pub_svc.reschedule_publication(core, s, s.get(User, world.users["appr_a"].id), pub_id,
                                       core.now() + timedelta(days=5))
