"""Campaign fan-out ("narasi tunggal"): Diskominfo writes a campaign message once and sends it
to chosen units; each unit receives a draft of its own, for its own channels, that goes
through the unit's normal approval (four eyes) like any post of the unit.

Sending is all or none: every unit is checked first (known, has a channel for the message's
platforms), and the posts are made in the caller's one transaction, so a refusal leaves no
unit with a copy. Sending again to a unit that has its copy is a no-op (one row per fan-out
and unit, its primary key), so a repeated click or a retried request never makes two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import (
    Campaign,
    CampaignFanout,
    CampaignFanoutUnit,
    Channel,
    ChannelStatus,
    Post,
    PostStatus,
    Role,
    Unit,
    User,
)
from publisher.services import audit, review_stages
from publisher.services.access import require_role
from publisher.services.errors import Forbidden, Invalid, NotFound, Text
from publisher.services.posts import (
    MAX_BODY,
    MAX_LINK,
    PostInput,
    approve_stage,
    create_post,
    refuse_past_time,
)

#: The widest window an admin may give (a week either side): wider is no campaign time.
MAX_WINDOW_HOURS = 168


def normalise(text: str | None) -> str:
    """Text as compared for "adapted": the same characters in the same order, whatever the
    line breaks, spacing or Unicode composition (an editor that re-wraps a line has not
    adapted the message)."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text or "")).strip()


def is_adapted(fanout: CampaignFanout, post: Post) -> bool:
    """Whether a unit changed the message: its text, or a per-channel text of its own."""
    source = normalise(fanout.body)
    if normalise(post.body) != source:
        return True
    return any(isinstance(v, dict) and v.get("body") and normalise(v["body"]) != source
               for v in (post.overrides or {}).values())


def get_fanout(session: Session, actor: User, fanout_id: int) -> CampaignFanout:
    """A fan-out, for admins (the people who send them)."""
    require_role(actor, Role.ADMIN)
    fanout = session.get(CampaignFanout, fanout_id)
    if fanout is None:
        raise NotFound(f"Narasi tunggal #{fanout_id} tidak ditemukan.",
                       f"Campaign message #{fanout_id} was not found.")
    return fanout


def create_fanout(core: Core, session: Session, actor: User, *, campaign_id: int, body: str,
                  link: str | None, platforms: list[str], scheduled_at: datetime | None,
                  window_hours: int | None, unit_ids: list[int]) -> CampaignFanout:
    """Write the source message and send it to ``unit_ids`` (admins only)."""
    require_role(actor, Role.ADMIN)
    errors: dict[str, str] = {}
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"Kampanye #{campaign_id} tidak ditemukan.",
                       f"Campaign #{campaign_id} was not found.")
    if not body.strip():
        errors["body"] = Text("Isi narasi wajib diisi.", "The message text is required.")
    elif len(body) > MAX_BODY:
        errors["body"] = Text(f"Isi narasi paling banyak {MAX_BODY} karakter.",
                              f"The message holds at most {MAX_BODY} characters.")
    link = (link or "").strip() or None
    if link and (not link.startswith(("http://", "https://")) or len(link) > MAX_LINK):
        errors["link"] = Text("Tautan harus diawali http:// atau https:// (paling banyak "
                              f"{MAX_LINK} karakter).", "A link must start with http:// or "
                              f"https:// (at most {MAX_LINK} characters).")
    if scheduled_at is None:
        errors["scheduled_at"] = Text("Waktu kampanye wajib diisi.",
                                      "The campaign's time is required.")
    if window_hours is None or not 0 <= window_hours <= MAX_WINDOW_HOURS:
        errors["window_hours"] = Text(
            f"Jendela waktu antara 0 dan {MAX_WINDOW_HOURS} jam.",
            f"The window is between 0 and {MAX_WINDOW_HOURS} hours.")
    if errors:
        raise Invalid("Periksa kembali isian narasi tunggal.",
                      "Please check the campaign message's fields.", fields=errors)
    assert scheduled_at is not None and window_hours is not None
    refuse_past_time(core, scheduled_at)
    fanout = CampaignFanout(campaign_id=campaign.id, body=body, link=link,
                            platforms=sorted({p for p in platforms if p}),
                            scheduled_at=scheduled_at, window_hours=window_hours,
                            created_by=actor.id, created_at=core.now())
    session.add(fanout)
    session.flush()
    audit.record(session, "fanout.create", "fanout", fanout.id, actor=actor,
                 data={"campaign": campaign.id, "platforms": fanout.platforms,
                       "scheduled_at": scheduled_at.isoformat(), "window_hours": window_hours})
    send_to_units(core, session, actor, fanout, unit_ids)
    return fanout


def usable_channels(session: Session, fanout: CampaignFanout, unit_id: int) -> list[Channel]:
    """A unit's channels the message goes to by default: every one not disabled, of the
    message's platforms (all platforms when it names none)."""
    q = select(Channel).where(Channel.unit_id == unit_id,
                              Channel.status != ChannelStatus.DISABLED).order_by(Channel.id)
    if fanout.platforms:
        q = q.where(Channel.platform.in_(fanout.platforms))
    return list(session.execute(q).unique().scalars())


def send_to_units(core: Core, session: Session, actor: User, fanout: CampaignFanout,
                  unit_ids: Iterable[int]) -> list[CampaignFanoutUnit]:
    """Give each unit its draft, all or none; units that have theirs already are skipped.
    Returns the rows made now."""
    require_role(actor, Role.ADMIN)
    wanted = sorted(set(unit_ids))
    if not wanted:
        raise Invalid("Pilih minimal satu unit.", "Choose at least one unit.",
                      fields={"units": Text("Pilih minimal satu unit.",
                                            "Choose at least one unit.")})
    units = {u.id: u for u in session.execute(select(Unit).where(Unit.id.in_(wanted)))
             .scalars()}
    campaign = session.get(Campaign, fanout.campaign_id)
    if set(wanted) - set(units):
        raise Invalid("Ada unit yang tidak dikenal.", "A unit is unknown.",
                      fields={"units": Text("Ada unit yang tidak dikenal.",
                                            "A unit is unknown.")})
    if campaign is not None and campaign.unit_id is not None \
            and set(wanted) - {campaign.unit_id}:
        raise Invalid("Kampanye milik satu unit hanya dapat dikirim ke unit itu.",
                      "A unit's own campaign can only be sent to that unit.",
                      fields={"units": Text("Kampanye ini milik satu unit.",
                                            "This campaign belongs to one unit.")})
    have = set(session.execute(select(CampaignFanoutUnit.unit_id).where(
        CampaignFanoutUnit.fanout_id == fanout.id)).scalars())
    todo = [uid for uid in wanted if uid not in have]
    channels = {uid: usable_channels(session, fanout, uid) for uid in todo}
    lacking = [units[uid].name for uid in todo if not channels[uid]]
    if lacking:
        names = ", ".join(lacking)
        raise Invalid(f"Unit berikut tidak punya akun aktif untuk platform narasi ini: {names}. "
                      "Tidak ada yang dikirim.",
                      f"These units have no active channel for the message's platforms: "
                      f"{names}. Nothing was sent.",
                      fields={"units": Text(f"Tanpa akun yang sesuai: {names}.",
                                            f"No matching channel: {names}.")},
                      code="no_channels")
    made = []
    for uid in todo:
        post = create_post(core, session, actor, PostInput(
            body=fanout.body, link=fanout.link or "", campaign=fanout.campaign_id,
            channels=[c.id for c in channels[uid]], scheduled_at=fanout.scheduled_at),
            unit_id=uid)
        row = CampaignFanoutUnit(fanout_id=fanout.id, unit_id=uid, post_id=post.id,
                                 received_at=core.now())
        session.add(row)
        session.flush()
        # the unit's operators hear of it (``notify/kinds.py``: ``fanout_received``)
        audit.record(session, "fanout.receive", "post", post.id, actor=actor, unit_id=uid,
                     data={"fanout": fanout.id, "campaign": fanout.campaign_id})
        made.append(row)
    return made


def preapprove(core: Core, session: Session, actor: User, fanout_id: int) -> list[int]:
    """Diskominfo's stage approved once for every unit's copy ("pre-approved by Diskominfo's
    stage", issue 20): a region verifier who did not write the message approves the
    ``region_verifier`` stage of each copy that has one, bound to the copy's content now
    (``posts.approve_stage``: the same rules as any stage). A unit that adapts its copy later
    changes the content, so that copy comes back to the region's stage: the verifier approved
    the words they saw. The unit's own stage is never skipped (four eyes in the unit). Returns
    the posts approved now."""
    if not actor.region_verifier:
        raise Forbidden("Hanya verifikator wilayah yang dapat menyetujui tahap Diskominfo.",
                        "Only a region verifier may approve Diskominfo's stage.",
                        code="not_verifier")
    fanout = session.get(CampaignFanout, fanout_id)
    if fanout is None:
        raise NotFound(f"Narasi tunggal #{fanout_id} tidak ditemukan.",
                       f"Campaign message #{fanout_id} was not found.")
    if fanout.created_by == actor.id:
        raise Forbidden("Anda menulis narasi ini; tahap Diskominfo disetujui orang kedua.",
                        "You wrote this message; a second person approves Diskominfo's stage.",
                        code="self_approval")
    done = []
    for post_id in session.execute(select(CampaignFanoutUnit.post_id).where(
            CampaignFanoutUnit.fanout_id == fanout.id).order_by(CampaignFanoutUnit.unit_id)
            ).scalars():
        post = session.get(Post, post_id)
        if post is None or post.status not in (PostStatus.DRAFT, PostStatus.SUBMITTED):
            continue
        if review_stages.REGION_VERIFIER not in review_stages.stages_of(session, post)[1:]:
            continue
        approve_stage(core, session, actor, post.id, review_stages.REGION_VERIFIER,
                      via="fanout")
        done.append(post.id)
    audit.record(session, "fanout.preapprove", "fanout", fanout.id, actor=actor,
                 data={"posts": done, "campaign": fanout.campaign_id})
    return done


def fanouts_of_campaign(session: Session, campaign_id: int) -> list[CampaignFanout]:
    return list(session.execute(
        select(CampaignFanout).where(CampaignFanout.campaign_id == campaign_id)
        .order_by(CampaignFanout.scheduled_at.desc(), CampaignFanout.id.desc())).scalars())


def fanout_post_ids(session: Session, post_ids: list[int]) -> set[int]:
    """Which of these posts are a unit's copy of a fan-out (the posts list marks them)."""
    if not post_ids:
        return set()
    return set(session.execute(select(CampaignFanoutUnit.post_id).where(
        CampaignFanoutUnit.post_id.in_(post_ids))).scalars())
