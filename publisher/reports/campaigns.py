"""Campaigns: creation by admins/approvers, and compliance (who published, who is late).

Admins see every unit's row; other users see a campaign that is region-wide or their unit's,
and only their own unit's row and figures (unit scoping applies to reports too).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.models import (
    Campaign,
    CampaignUnit,
    Channel,
    Post,
    Publication,
    PublicationStatus,
    Role,
    Unit,
    User,
)
from publisher.reports import engagement as e
from publisher.reports.facts import ReportFilter, materialized
from publisher.services import audit
from publisher.services.access import can_see_shared, require_role, scope, scope_shared
from publisher.services.errors import Invalid, NotFound

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def visible_campaigns(session: Session, user: User) -> list[Campaign]:
    q = select(Campaign).order_by(Campaign.created_at.desc(), Campaign.id.desc())
    q = scope_shared(q, user, Campaign.unit_id)
    return list(session.execute(q).scalars())


def get_campaign(session: Session, user: User, campaign_id: int) -> Campaign:
    c = session.get(Campaign, campaign_id)
    if c is None or not can_see_shared(user, c.unit_id):
        raise NotFound(f"Kampanye #{campaign_id} tidak ditemukan.",
                       f"Campaign #{campaign_id} was not found.")
    return c


def create_campaign(session: Session, actor: User, *, name: str, description: str,
                    due_at: datetime | None, unit_ids: list[int], now: datetime) -> Campaign:
    """Admins create region-wide campaigns for any units; approvers, their unit's own."""
    require_role(actor, Role.ADMIN, Role.APPROVER)
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Nama kampanye wajib diisi."
    known = set(session.execute(select(Unit.id).where(Unit.id.in_(unit_ids or [0]))).scalars())
    if set(unit_ids) - known:
        errors["units"] = "Ada unit yang tidak dikenal."
    if actor.role != Role.ADMIN and set(unit_ids) - {actor.unit_id}:
        errors["units"] = "Penyetuju hanya dapat memilih unitnya sendiri."
    if not unit_ids:
        errors["units"] = "Pilih minimal satu unit."
    if errors:
        raise Invalid("Periksa kembali isian kampanye.", "Please check the campaign's fields.",
                      fields=errors)
    c = Campaign(name=name.strip(), description=description.strip(), due_at=due_at,
                 unit_id=None if actor.role == Role.ADMIN else actor.unit_id, created_at=now)
    session.add(c)
    session.flush()
    for uid in sorted(set(unit_ids)):
        session.add(CampaignUnit(campaign_id=c.id, unit_id=uid))
    audit.record(session, "campaign.create", "campaign", c.id, actor=actor, unit_id=c.unit_id,
                 data={"units": sorted(set(unit_ids))}, at=now)
    return c


def compliance(session: Session, user: User, campaign: Campaign, now: datetime) -> dict[str, Any]:
    """Per expected unit: first publication time, links, and on time / late / missing."""
    units_q = (select(Unit.id, Unit.name, Unit.timezone).join(CampaignUnit,
                                                             CampaignUnit.unit_id == Unit.id)
               .where(CampaignUnit.campaign_id == campaign.id).order_by(Unit.name))
    units_q = scope(units_q, user, Unit.id)
    expected = list(session.execute(units_q))
    ids = [u.id for u in expected]
    first = dict(session.execute(
        select(Post.unit_id, func.min(Publication.published_at))
        .join(Publication, Publication.post_id == Post.id)
        .where(Post.campaign_id == campaign.id, Post.unit_id.in_(ids or [0]),
               Publication.status == PublicationStatus.PUBLISHED)
        .group_by(Post.unit_id)).all())
    links: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    for r in session.execute(
            select(Post.unit_id, Channel.platform, Channel.name, Publication.permalink,
                   Publication.published_at, Post.id)
            .join(Publication, Publication.post_id == Post.id)
            .join(Channel, Channel.id == Publication.channel_id)
            .where(Post.campaign_id == campaign.id, Post.unit_id.in_(ids or [0]),
                   Publication.status == PublicationStatus.PUBLISHED)
            .order_by(Publication.published_at)):
        links[r.unit_id].append({"platform": r.platform, "channel": r.name,
                                 "permalink": r.permalink, "published_at": r.published_at,
                                 "post_id": r.id})
    rows = []
    for u in expected:
        at = first.get(u.id)
        if at is None:
            state = "late" if campaign.due_at and now > campaign.due_at else "waiting"
        elif campaign.due_at and at > campaign.due_at:
            state = "published_late"
        else:
            state = "published"
        rows.append({"unit_id": u.id, "unit": u.name, "timezone": u.timezone,
                     "first_published_at": at, "state": state, "links": links[u.id]})
    flt = ReportFilter(start=EPOCH, end=now, campaign_id=campaign.id)
    with materialized(session, user, flt):  # one latest-snapshot lookup for both figures
        return {"rows": rows, "totals": e.totals(session, user, flt),
                "by_unit": e.breakdown(session, user, flt, "unit", "UTC")}
