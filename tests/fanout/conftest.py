"""Three units with a sandbox and a Telegram channel each, a region-wide campaign, and the
people who send and receive its message (Diskominfo's admin, each unit's operator)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from publisher.models import Campaign, Channel, Post, Publication, PublicationStatus, Unit, User
from publisher.services import fanout as svc
from publisher.services import org


@dataclass
class World:
    units: dict[str, int]
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    campaign: int = 0


@pytest.fixture
def world(core, units, make_user) -> World:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        c = org.create_unit(s, name="Dinas Kesehatan", slug="dinkes")
        w = World(units={"a": units["a"].id, "b": units["b"].id, "c": c.id})
        for key, uid in w.units.items():
            w.channels[key] = {}
            for platform in ("sandbox", "telegram"):
                ch = Channel(unit_id=uid, platform=platform, name=f"{key}-{platform}",
                             credentials_encrypted=core.box.seal(
                                 {"account": f"acc-{key}-{platform}", "token": "t"}))
                s.add(ch)
                s.flush()
                w.channels[key][platform] = ch.id
        camp = Campaign(name="Cegah Stunting", unit_id=None)
        s.add(camp)
        s.flush()
        w.campaign = camp.id
    w.users["admin"] = make_user("admin", None)
    w.users["op_a"] = make_user("operator", "a")
    w.users["op_b"] = make_user("operator", "b")
    w.users["appr_a"] = make_user("approver", "a")
    return w


SOURCE = "Ayo cegah stunting!\nTimbang balita di posyandu terdekat. #CegahStunting"


def send(core: Any, w: World, unit_keys: tuple[str, ...] = ("a", "b", "c"), *,
         hours_ahead: int = 24, window: int = 2, platforms: tuple[str, ...] = ("sandbox",),
         body: str = SOURCE) -> int:
    """Diskominfo's admin sends the campaign message; returns the fan-out id."""
    with core.sessions.begin() as s:
        f = svc.create_fanout(core, s, s.get(User, w.users["admin"].id), campaign_id=w.campaign,
                              body=body, link="https://dinkes.example.go.id/stunting",
                              platforms=list(platforms),
                              scheduled_at=core.now() + timedelta(hours=hours_ahead),
                              window_hours=window,
                              unit_ids=[w.units[k] for k in unit_keys])
        return f.id


def copies(core: Any, fanout_id: int) -> dict[int, int]:
    """unit id -> the unit's post id, for one fan-out."""
    from sqlalchemy import select

    from publisher.models import CampaignFanoutUnit

    with core.sessions() as s:
        return dict(s.execute(select(CampaignFanoutUnit.unit_id, CampaignFanoutUnit.post_id)
                              .where(CampaignFanoutUnit.fanout_id == fanout_id)).all())


def publish(core: Any, post_id: int, at: Any) -> None:
    """Mark the post approved and published on its first channel at ``at`` (the report reads
    publication states; how it got there is the worker's business)."""
    with core.sessions.begin() as s:
        post = s.get(Post, post_id)
        post.status = "approved"
        s.add(Publication(post_id=post.id, channel_id=post.channel_ids[0],
                          status=PublicationStatus.PUBLISHED, scheduled_at=at, published_at=at,
                          permalink=f"sandbox://warta/{post.id}"))


__all__ = ["SOURCE", "Unit", "World", "copies", "publish", "send"]
