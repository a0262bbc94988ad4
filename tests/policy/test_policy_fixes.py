"""Holes a review found in the policy checks: a reschedule that keeps an approval re-checks
the hard rules; clearing an alt text on an approved post is not a way round them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.models import Post, Publication, PublicationStatus, User
from publisher.services import posts as post_svc
from publisher.services.errors import Conflict
from tests.policy.test_submit_approve import create, image_id, status_of, submit


def approve(core, user, post_id):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        return post_svc.approve_post(core, s, s.get(User, user.id), post_id).status


def test_a_reschedule_that_keeps_the_approval_obeys_the_hard_daily_limit(  # type: ignore[no-untyped-def]
        core, clock, people, chans, add_rule):
    add_rule("daily_limit", "1", "hard", reason="Satu per hari")
    day1, day2 = clock.now + timedelta(days=1), clock.now + timedelta(days=2)
    a = create(core, people["op"], [chans["a"]], body="Satu", scheduled_at=day1)
    b = create(core, people["op"], [chans["a"]], body="Dua", scheduled_at=day2)
    for pid in (a, b):
        submit(core, people["op"], pid)
        assert approve(core, people["ap"], pid) == "approved"
    with core.sessions.begin() as s, pytest.raises(Conflict) as exc:
        post_svc.reschedule_post(core, s, s.get(User, people["ap"].id), b,
                                 day1 + timedelta(hours=1))
    assert exc.value.code == "policy" and "FB Dinsos" in exc.value.message
    # nothing changed: B keeps its day, its approval and its queued publication
    with core.sessions() as s:
        post = s.get(Post, b)
        assert (post.status, post.scheduled_at) == ("approved", day2)
        pub = s.execute(select(Publication).where(Publication.post_id == b)).scalar_one()
        assert (pub.status, pub.scheduled_at) == (PublicationStatus.QUEUED, day2)
    # a day with room is still a reschedule that keeps the approval
    with core.sessions.begin() as s:
        post_svc.reschedule_post(core, s, s.get(User, people["ap"].id), b,
                                 day2 + timedelta(hours=1))
    assert status_of(core, b) == "approved"


def test_clearing_the_alt_text_of_an_approved_post_drops_the_approval(  # type: ignore[no-untyped-def]
        core, people, chans, add_rule, api_as):
    add_rule("alt_text", "", "hard", reason="Aksesibilitas")
    mid = image_id(core, people["op"])
    pid = create(core, people["op"], [chans["a"]], body="Foto kegiatan", media=[mid],
                 media_alt={mid: "Warga antre vaksin"})
    submit(core, people["op"], pid)
    assert approve(core, people["ap"], pid) == "approved"
    r = api_as(people["op"]).patch(f"/posts/{pid}", json={"media_alt": {str(mid): ""}})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "draft"
    with core.sessions() as s:
        post = s.get(Post, pid)
        assert post.approval_hash is None
        pub = s.execute(select(Publication).where(Publication.post_id == pid)).scalar_one()
        assert pub.status == PublicationStatus.CANCELLED


def test_an_alt_text_change_that_breaks_no_rule_still_voids_the_approval(  # type: ignore[no-untyped-def]
        core, people, chans, add_rule):
    """Alt text is sent to the platforms (issue 21), so it is inside the approval hash: any
    change of it after approval is an edit like any other, rule or no rule."""
    add_rule("alt_text", "", "hard", reason="Aksesibilitas")
    mid = image_id(core, people["op"])
    pid = create(core, people["op"], [chans["a"]], body="Foto kegiatan", media=[mid],
                 media_alt={mid: "Warga antre"})
    submit(core, people["op"], pid)
    approve(core, people["ap"], pid)
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, people["op"].id), pid,
                             post_svc.PostInput(media_alt={mid: "Warga antre vaksin"}))
    assert status_of(core, pid) == "draft"
