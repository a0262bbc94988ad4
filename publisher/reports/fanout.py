"""A campaign's fan-outs in its compliance report: per unit that received the message, whether
it adapted the text, and whether it published within the window, late, or not at all.

Admins see every unit's row; anyone else sees only their own unit's row, and only the
fan-outs their unit received (unit scoping applies to reports too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import (
    Campaign,
    CampaignFanout,
    CampaignFanoutUnit,
    Channel,
    Post,
    Publication,
    PublicationStatus,
    Unit,
    User,
)
from publisher.services.access import scope
from publisher.services.fanout import fanouts_of_campaign, is_adapted
from publisher.services.fanout_window import window

#: A unit's state for one fan-out: published within the window, after it, or not (yet).
STATES = ("published", "late", "not_published")


@dataclass
class UnitRow:
    unit_id: int
    unit: str
    timezone: str
    post_id: int
    received_at: datetime
    adapted: bool
    state: str
    first_published_at: datetime | None
    links: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FanoutReport:
    fanout: CampaignFanout
    window_start: datetime
    window_end: datetime
    #: Whether a unit can still publish on time (the window has not closed).
    open: bool
    rows: list[UnitRow]

    def count(self, what: str) -> int:
        """How many units are in a state, or ``received`` / ``adapted``."""
        if what == "received":
            return len(self.rows)
        if what == "adapted":
            return sum(r.adapted for r in self.rows)
        return sum(r.state == what for r in self.rows)


def state_of(first_published_at: datetime | None, window_end: datetime) -> str:
    if first_published_at is None:
        return "not_published"
    return "late" if first_published_at > window_end else "published"


def fanout_reports(session: Session, user: User, campaign: Campaign,
                   now: datetime) -> list[FanoutReport]:
    """Every fan-out of ``campaign`` with the rows ``user`` may see (none: left out)."""
    out = []
    for fanout in fanouts_of_campaign(session, campaign.id):
        q = (select(CampaignFanoutUnit, Unit, Post)
             .join(Unit, Unit.id == CampaignFanoutUnit.unit_id)
             .join(Post, Post.id == CampaignFanoutUnit.post_id)
             .where(CampaignFanoutUnit.fanout_id == fanout.id).order_by(Unit.name))
        found = list(session.execute(scope(q, user, CampaignFanoutUnit.unit_id)).unique())
        if not found:
            continue
        links: dict[int, list[dict[str, Any]]] = {row.post_id: [] for row, _u, _p in found}
        for r in session.execute(
                select(Publication.post_id, Publication.permalink, Publication.published_at,
                       Channel.platform, Channel.name)
                .join(Channel, Channel.id == Publication.channel_id)
                .where(Publication.post_id.in_(list(links)),
                       Publication.status == PublicationStatus.PUBLISHED)
                .order_by(Publication.published_at, Publication.id)):
            links[r.post_id].append({"platform": r.platform, "channel": r.name,
                                     "permalink": r.permalink, "published_at": r.published_at})
        start, end = window(fanout)
        rows = []
        for row, unit, post in found:
            times = [x["published_at"] for x in links[post.id] if x["published_at"]]
            first = min(times) if times else None
            rows.append(UnitRow(unit_id=unit.id, unit=unit.name, timezone=unit.timezone,
                                post_id=post.id, received_at=row.received_at,
                                adapted=is_adapted(fanout, post), state=state_of(first, end),
                                first_published_at=first, links=links[post.id]))
        out.append(FanoutReport(fanout=fanout, window_start=start, window_end=end,
                                open=now <= end, rows=rows))
    return out
