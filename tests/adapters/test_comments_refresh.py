""""Read now" for a post's citizen comments (issue 19) through the real worker and the Graph
fake, and the inbox's campaign filter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import AuditEvent, Campaign, CitizenComment, Publication, Role, User
from publisher.services import inbox_refresh
from publisher.services.errors import Invalid, NotFound
from publisher.services.inbox_search import InboxFilter, search
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e


@pytest.fixture
def fb_core(core_with, graph_fake):  # type: ignore[no-untyped-def]
    return core_with(WARTA_FACEBOOK_API_URL=graph_fake.url + "/v25.0")


def test_read_now_reads_before_the_schedule_once_and_only_for_the_posts_unit(  # type: ignore[no-untyped-def]
        fb_core, clock, people, graph_fake, make_user, app, client, login_as) -> None:
    core = fb_core
    _fb, pub = e2e.published_on_facebook(core, people, graph_fake)
    graph_fake.add_comment(pub.external_id, "Kapan bansos cair?")
    clock.advance(minutes=11)
    run_once(core)  # the scheduled first read (10 minutes after publishing)
    graph_fake.add_comment(pub.external_id, "Di kelurahan mana?")
    clock.advance(minutes=6)  # the next scheduled read is an hour after publishing
    run_once(core)
    with core.sessions() as s:
        assert len(s.execute(select(CitizenComment)).all()) == 1

    other = make_user(Role.APPROVER, "b")
    with core.sessions.begin() as s, pytest.raises(NotFound):
        inbox_refresh.refresh(s, s.get(User, other.id), pub.id, core.now())
    app.config["WTF_CSRF_ENABLED"] = False
    login_as(Role.OPERATOR, "b")
    assert client.post(f"/suara-warga/baca-ulang/{pub.id}").status_code == 404
    login_as(Role.OPERATOR, "a")
    page = client.get(f"/suara-warga?post={pub.id}&kampanye=999").get_data(as_text=True)
    assert "Baca komentar unggahan ini sekarang" in page
    assert client.post(f"/suara-warga/baca-ulang/{pub.id}").status_code == 302
    with core.sessions.begin() as s, pytest.raises(Invalid, match="menunggu"):
        inbox_refresh.refresh(s, s.get(User, people[0].id), pub.id, core.now())
    run_once(core)  # the sweep sees it due now: read within the minute, not in 43 minutes
    with core.sessions() as s:
        texts = sorted(c.text for c in s.execute(select(CitizenComment)).scalars())
        assert texts == ["Di kelurahan mana?", "Kapan bansos cair?"]
        assert s.execute(select(AuditEvent.actor_id).where(
            AuditEvent.action == "comment.refresh")).scalar_one() is not None
    clock.advance(minutes=1)
    with core.sessions.begin() as s, pytest.raises(Invalid, match="baru dibaca 1 menit"):
        inbox_refresh.refresh(s, s.get(User, people[0].id), pub.id, core.now())
    reads = len(graph_fake.calls("GET", rf"/{pub.external_id}/comments"))
    clock.advance(minutes=5)
    with core.sessions.begin() as s:
        inbox_refresh.refresh(s, s.get(User, people[0].id), pub.id, core.now())
    run_once(core)
    assert len(graph_fake.calls("GET", rf"/{pub.external_id}/comments")) == reads + 1


def test_the_inbox_filters_by_the_posts_campaign(core, make_user) -> None:  # type: ignore[no-untyped-def]
    from tests.inbox.helpers import comment, published

    op = make_user(Role.OPERATOR, "a")
    in_campaign, outside = published(core, op), published(core, op)
    with core.sessions.begin() as s:
        camp = Campaign(name="Bulan Imunisasi", unit_id=op.unit_id)
        s.add(camp)
        s.flush()
        s.get(Publication, in_campaign).post.campaign_id = camp.id
        camp_id = camp.id
    wanted = comment(core, in_campaign, "Jadwal imunisasi di posyandu?")
    comment(core, outside, "Jalan rusak")
    with core.sessions() as s:
        got = search(s, s.get(User, op.id), InboxFilter(campaign_id=camp_id)).rows
        assert [c.id for c, _p, _ch in got] == [wanted]
        assert len(search(s, s.get(User, op.id), InboxFilter()).rows) == 2
