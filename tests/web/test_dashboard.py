"""The dashboard's attention list and engagement card: scoped to the unit, and the card's
figures are this month's, as the reports page computes them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from publisher.models import MetricSnapshot, Publication, PublicationStatus, Role


def _publish(core, post_id, status, at, likes=None):  # type: ignore[no-untyped-def]
    """Put the post's publication in ``status`` at ``at`` (with a snapshot when published)."""
    with core.sessions.begin() as s:
        pub = s.execute(select(Publication).where(Publication.post_id == post_id)).scalar_one()
        pub.status = status
        pub.updated_at = at
        if status == PublicationStatus.PUBLISHED:
            pub.published_at = at
            s.add(MetricSnapshot(publication_id=pub.id, collected_at=at + timedelta(hours=1),
                                 likes=likes, reach=100))
        return pub.id


@dataclass
class Scene:
    """Two units, a channel and an operator each; ``approved`` makes an approved post."""

    admin: Any
    ch_a: int
    ch_b: int
    op_a: Any
    op_b: Any
    approved: Any


@pytest.fixture
def scene(make_user, make_channel, make_post):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None)

    def approved(author, channel, body):  # type: ignore[no-untyped-def]
        return make_post(author, [channel], body=body, state="approved", approver=admin)

    return Scene(admin, make_channel(admin, "a"), make_channel(admin, "b", name="B", account="b"),
                 make_user(Role.OPERATOR, "a"), make_user(Role.OPERATOR, "b"), approved)


def test_attention_list_is_scoped_and_newest_first(client, login_as, scene, core, clock):  # type: ignore[no-untyped-def]
    admin, approved, ch_a, ch_b = scene.admin, scene.approved, scene.ch_a, scene.ch_b
    op_a, op_b = scene.op_a, scene.op_b
    old_a = approved(op_a, ch_a, "lama A")
    new_a = approved(op_a, ch_a, "baru A")
    post_b = approved(op_b, ch_b, "punya B")
    _publish(core, old_a, PublicationStatus.FAILED, clock.now - timedelta(hours=2))
    _publish(core, new_a, PublicationStatus.UNCONFIRMED, clock.now - timedelta(hours=1))
    _publish(core, post_b, PublicationStatus.FAILED, clock.now - timedelta(minutes=5))
    with core.sessions() as s:
        from web.ui.dashboard import queries

        seen_a = [p.post_id for p in queries.needing_action(s, s.merge(op_a))]
        seen_admin = [p.post_id for p in queries.needing_action(s, s.merge(admin))]
    assert seen_a == [new_a, old_a]  # never unit B's, newest first
    assert seen_admin == [post_b, new_a, old_a]
    login_as(Role.OPERATOR, "a")
    html = client.get("/").get_data(as_text=True)
    assert "baru A" in html and "punya B" not in html


def test_engagement_card_shows_this_months_figures(client, login_as, scene, core, clock):  # type: ignore[no-untyped-def]
    approved, ch_a, ch_b = scene.approved, scene.ch_a, scene.ch_b
    op_a, op_b = scene.op_a, scene.op_b
    this_month = clock.now.replace(day=1, hour=12) if clock.now.day > 1 else clock.now
    _publish(core, approved(op_a, ch_a, "bulan ini"), PublicationStatus.PUBLISHED,
             this_month, likes=1234)
    _publish(core, approved(op_a, ch_a, "bulan lalu"), PublicationStatus.PUBLISHED,
             this_month - timedelta(days=40), likes=5)
    _publish(core, approved(op_b, ch_b, "unit B"), PublicationStatus.PUBLISHED,
             this_month, likes=700)
    login_as(Role.OPERATOR, "a")
    card = client.get("/").get_data(as_text=True)
    card = card[card.index('id="h-eng"'):card.index("</section>", card.index('id="h-eng"'))]
    assert "1.234" in card  # this month's, unit A only
    assert "1.939" not in card and "1.239" not in card
