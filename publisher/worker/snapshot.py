"""Everything one publish needs, read in three small Core queries.

The worker's hot path avoids the ORM's object graph (a publication with its post, author,
unit, campaign, channel and collections is a seven-table join and dozens of objects): at a
burst of thousands of publications, that overhead, not the database, was the bottleneck.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import (
    Channel,
    Emergency,
    EmergencyPost,
    MediaAsset,
    Post,
    PostChannel,
    PostMedia,
    PostRecurrence,
    Publication,
)
from publisher.models.review import PostReview, StageApproval
from publisher.services.approval import content_hash_of


@dataclass(frozen=True)
class MediaRow:
    id: int
    path: str
    kind: str
    mime: str
    size: int
    sha256: str
    width: int | None
    height: int | None
    duration: float | None
    #: This post's alt text for the image (``post_media.alt_text``): published, so hashed.
    alt_text: str = ""


@dataclass(frozen=True)
class PubInfo:
    """Who a publication belongs to: what the audit trail and notifications need."""

    pub_id: int
    post_id: int
    unit_id: int
    author_id: int
    channel_id: int


@dataclass(frozen=True)
class PubSnapshot:
    info: PubInfo
    status: str
    job_id: int | None
    pending_state: dict[str, Any] | None
    scheduled_at: datetime
    submitted_at: datetime | None
    attempts: int
    post_status: str
    approval_hash: str | None
    body: str
    link: str | None
    overrides: dict[str, Any]
    post_scheduled_at: datetime | None
    channel_ids: list[int]
    media: list[MediaRow]
    platform: str
    channel_status: str
    channel_unit_id: int
    credentials_encrypted: bytes
    channel_state: dict[str, Any]
    paused_until: datetime | None
    #: Until when a platform's own wait held this publication back (see ``decide``).
    held_until: datetime | None = None
    #: A recurring post's rule as the hash covers it (``None`` for a one-off post).
    recurrence: dict[str, Any] | None = None
    #: The post's review stages fixed at submit (``None``: one stage, before stages existed).
    review_stages: list[str] | None = None
    #: Its stage approvals not voided: (stage index, kind, approver id, content hash).
    stage_approvals: tuple[tuple[int, str, int, str], ...] = ()
    #: Set for a post of an emergency broadcast (``publisher/worker/emergency.py``): the
    #: emergency's id, status, confirmed hash and chosen units (``None``: every unit).
    emergency_id: int | None = None
    emergency_status: str | None = None
    emergency_hash: str | None = None
    emergency_units: list[int] | None = None

    def current_hash(self) -> str:
        return content_hash_of(body=self.body, link=self.link, overrides=self.overrides,
                               media_hashes=[m.sha256 for m in self.media],
                               channel_ids=self.channel_ids, scheduled_at=self.post_scheduled_at,
                               alt_texts=[m.alt_text for m in self.media],
                               recurrence=self.recurrence)


def load_snapshot(session: Session, pub_id: int) -> PubSnapshot | None:
    return load_snapshots(session, [pub_id]).get(pub_id)


def load_snapshots(session: Session, pub_ids: Sequence[int]) -> dict[int, PubSnapshot]:
    """Snapshots of many publications in three queries (a burst is read as one batch)."""
    rows = session.execute(
        select(Publication.id, Publication.status, Publication.job_id,
               Publication.pending_state, Publication.scheduled_at, Publication.submitted_at,
               Publication.attempts, Publication.held_until, Publication.post_id,
               Publication.channel_id,
               Post.status.label("post_status"), Post.approval_hash, Post.body, Post.link,
               Post.overrides, Post.scheduled_at.label("post_scheduled_at"), Post.unit_id,
               Post.author_id, Channel.platform, Channel.status.label("channel_status"),
               Channel.unit_id.label("channel_unit_id"), Channel.credentials_encrypted,
               Channel.state, Channel.paused_until, PostReview.stages.label("review_stages"),
               Emergency.id.label("emergency_id"), Emergency.status.label("emergency_status"),
               Emergency.confirmed_hash, Emergency.unit_ids.label("emergency_units"))
        .join(Post, Post.id == Publication.post_id)
        .join(Channel, Channel.id == Publication.channel_id)
        .outerjoin(PostReview, PostReview.post_id == Post.id)
        .outerjoin(EmergencyPost, EmergencyPost.post_id == Post.id)
        .outerjoin(Emergency, Emergency.id == EmergencyPost.emergency_id)
        .where(Publication.id.in_(list(pub_ids)))).all()
    if not rows:
        return {}
    post_ids = sorted({r.post_id for r in rows})
    channels: dict[int, list[int]] = {p: [] for p in post_ids}
    for post_id, channel_id in session.execute(
            select(PostChannel.post_id, PostChannel.channel_id)
            .where(PostChannel.post_id.in_(post_ids))):
        channels[post_id].append(channel_id)
    media: dict[int, list[MediaRow]] = {p: [] for p in post_ids}
    for post_id, *m in session.execute(
            select(PostMedia.post_id, MediaAsset.id, MediaAsset.path, MediaAsset.kind,
                   MediaAsset.mime, MediaAsset.size, MediaAsset.sha256, MediaAsset.width,
                   MediaAsset.height, MediaAsset.duration, PostMedia.alt_text)
            .join(MediaAsset, PostMedia.media_id == MediaAsset.id)
            .where(PostMedia.post_id.in_(post_ids))
            .order_by(PostMedia.post_id, PostMedia.position)):
        (mid, path, kind, mime, size, sha, width, height, duration, alt) = m
        media[post_id].append(MediaRow(mid, path, kind, mime, size, sha, width, height,
                                       duration, alt_text=alt or ""))
    rules = {r.post_id: r.rule().canonical() for r in session.execute(
        select(PostRecurrence).where(PostRecurrence.post_id.in_(post_ids))).scalars()}
    # The stage approvals, only for posts of several stages (the worker's backstop of
    # ``review_stages.stages_complete``); none read for the usual one-stage post.
    staged = sorted({r.post_id for r in rows if r.review_stages and len(r.review_stages) > 1})
    stage_rows: dict[int, list[tuple[int, str, int, str]]] = {p: [] for p in staged}
    if staged:
        for post_id, index, kind, approver, digest in session.execute(
                select(StageApproval.post_id, StageApproval.stage_index, StageApproval.kind,
                       StageApproval.approver_id, StageApproval.content_hash)
                .where(StageApproval.post_id.in_(staged), StageApproval.voided_at.is_(None))
                # oldest first: "the first approval of a stage counts", as the services read
                # it (``review_stages.valid_approvals``); unordered, a second approval of the
                # same stage could come first and fail a rightly approved post
                .order_by(StageApproval.id)):
            stage_rows[post_id].append((index, kind, approver, digest))
    out: dict[int, PubSnapshot] = {}
    for row in rows:
        info = PubInfo(row.id, row.post_id, row.unit_id, row.author_id, row.channel_id)
        out[row.id] = PubSnapshot(
            info=info, status=row.status, job_id=row.job_id, pending_state=row.pending_state,
            scheduled_at=row.scheduled_at, submitted_at=row.submitted_at, attempts=row.attempts,
            post_status=row.post_status, approval_hash=row.approval_hash, body=row.body,
            link=row.link, overrides=row.overrides or {},
            post_scheduled_at=row.post_scheduled_at, channel_ids=channels[row.post_id],
            media=media[row.post_id], platform=row.platform,
            channel_status=row.channel_status, channel_unit_id=row.channel_unit_id,
            credentials_encrypted=row.credentials_encrypted,
            channel_state=dict(row.state or {}), paused_until=row.paused_until,
            held_until=row.held_until, recurrence=rules.get(row.post_id),
            review_stages=row.review_stages,
            stage_approvals=tuple(stage_rows.get(row.post_id, ())),
            emergency_id=row.emergency_id,
            emergency_status=row.emergency_status, emergency_hash=row.confirmed_hash,
            emergency_units=row.emergency_units)
    return out


def load_info(session: Session, pub_id: int) -> PubInfo | None:
    row = session.execute(
        select(Publication.post_id, Post.unit_id, Post.author_id, Publication.channel_id)
        .join(Post, Post.id == Publication.post_id).where(Publication.id == pub_id)).first()
    return None if row is None else PubInfo(pub_id, *row)
