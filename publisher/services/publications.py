"""What a person can do to one publication: retry it, resolve an unconfirmed one, reschedule."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

import postqueue
from publisher import permalinks
from publisher.core import Core
from publisher.jobs import enqueue_publish
from publisher.models import PostStatus, Publication, PublicationStatus, User
from publisher.services import audit
from publisher.services.access import get_scoped
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden, Invalid, NotFound

RETRYABLE = (PublicationStatus.FAILED, PublicationStatus.UNCONFIRMED, PublicationStatus.MISSED,
             PublicationStatus.NEEDS_REAUTH)


def get_publication(session: Session, actor: User, publication_id: int) -> Publication:
    pub = session.get(Publication, publication_id)
    if pub is None:
        raise NotFound(f"Penayangan #{publication_id} tidak ditemukan.",
                       f"Publication #{publication_id} was not found.")
    get_scoped(session, type(pub.post), pub.post_id, actor)
    return pub


def _require_status(pub: Publication, allowed: tuple[str, ...], action_id: str,
                    action_en: str) -> None:
    if pub.status not in allowed:
        raise Conflict(f"Penayangan berstatus '{pub.status}' tidak dapat {action_id}.",
                       f"A publication in status '{pub.status}' cannot be {action_en}.",
                       code="bad_status")


def _requeue(core: Core, session: Session, pub: Publication, when: datetime) -> None:
    post = pub.post
    if post.status != PostStatus.APPROVED or post.approval_hash != content_hash(post):
        raise Conflict("Unggahan ini tidak lagi disetujui; ajukan dan setujui ulang.",
                       "This post is no longer approved; submit and approve it again.",
                       code="not_approved")
    pub.status = PublicationStatus.QUEUED
    pub.submitted_at = None
    pub.pending_state = None
    pub.attempts = 0
    pub.updated_at = core.now()
    pub.job_id = enqueue_publish(session, pub.id, pub.channel_id, run_at=when, now=core.now())


def retry_publication(core: Core, session: Session, actor: User,
                      publication_id: int) -> Publication:
    """Publish again. For an *unconfirmed* one the person confirms they checked the account.

    A retry is a person's decision to publish now: past the missed window (a missed
    publication, or one that failed hours ago) its time becomes now, otherwise the worker would
    find it late and mark it missed again at once, and "Retry" could never work.
    """
    pub = get_publication(session, actor, publication_id)
    _require_status(pub, RETRYABLE, "dicoba lagi", "retried")
    previous = pub.status
    if core.now() - pub.scheduled_at > core.settings.missed_after:
        pub.scheduled_at = core.now()
    _requeue(core, session, pub, core.now())
    audit.record(session, "publication.retry", "publication", pub.id, actor=actor,
                 unit_id=pub.post.unit_id, data={"previous_status": previous})
    return pub


def reschedule_publication(core: Core, session: Session, actor: User, publication_id: int,
                           when: datetime) -> Publication:
    """Move one publication in time. The time is part of what was approved: someone who may
    approve the post moves it and the approval stands; anyone else sends the post back for
    approval at the new time (this publication is cancelled and approving creates it again)."""
    from publisher.services import fanout_window, review_stages
    from publisher.services import posts as post_svc

    pub = get_publication(session, actor, publication_id)
    _require_status(pub, (PublicationStatus.MISSED, PublicationStatus.QUEUED,
                          PublicationStatus.FAILED), "dijadwalkan ulang", "rescheduled")
    post_svc.refuse_past_time(core, when)
    previous = pub.scheduled_at
    post = pub.post
    post_svc.refuse_if_emergency(session, post)
    fanout_window.refuse_outside_window(session, post.id, when)
    # A post of several stages: each stage approved the old time, so no one person keeps it.
    may_keep = post_svc.may_approve(core, session, actor, post) \
        and not review_stages.is_multi(session, post)
    if pub.occurrence_at is not None and not may_keep:
        # one occurrence of a series: moving it must not move the series' start
        raise Forbidden("Hanya penyetuju yang dapat memindahkan satu jadwal unggahan berulang.",
                        "Only an approver can move one occurrence of a recurring post.",
                        code="occurrence_move")
    if post.status == PostStatus.APPROVED and not may_keep:
        if pub.job_id:
            postqueue.queue.cancel(session, [pub.job_id], now=core.now())
        pub.status = PublicationStatus.CANCELLED
        pub.updated_at = core.now()
        post.scheduled_at = when
        post.updated_at = core.now()
        post_svc.send_back_for_approval(core, session, post, actor, reason="rescheduled")
        audit.record(session, "publication.reschedule", "publication", pub.id, actor=actor,
                     unit_id=post.unit_id,
                     data={"from": previous.isoformat() if previous else None,
                           "scheduled_at": when.isoformat(), "kept_approval": False,
                           "back_to_approval": True})
        return pub
    if pub.job_id:
        postqueue.queue.cancel(session, [pub.job_id], now=core.now())
    pub.scheduled_at = when
    _requeue(core, session, pub, max(when, core.now()))
    audit.record(session, "publication.reschedule", "publication", pub.id, actor=actor,
                 unit_id=pub.post.unit_id,
                 data={"from": previous.isoformat() if previous else None,
                       "scheduled_at": when.isoformat(), "kept_approval": True})
    return pub


def mark_published(core: Core, session: Session, actor: User, publication_id: int,
                   permalink: str, external_id: str | None = None) -> Publication:
    """A person checked the account and found the post there: record it, with its link."""
    pub = get_publication(session, actor, publication_id)
    _require_status(pub, (PublicationStatus.UNCONFIRMED, PublicationStatus.FAILED,
                          PublicationStatus.MISSED), "ditandai terbit", "marked published")
    previous = pub.status
    if not permalink or not permalink.strip():
        raise Invalid("Tautan unggahan di platform wajib diisi (https://…).",
                      "The post's link on the platform is required (https://…).",
                      fields={"permalink": "required"})
    permalink = permalink.strip()
    platform = pub.channel.platform
    if not permalinks.belongs_to(platform, permalink):
        hosts = permalinks.hosts_of(platform)
        raise Invalid(f"Tautan ini bukan tautan unggahan {platform} (harus https:// di {hosts}).",
                      f"This is not a link to a {platform} post (it must be https:// on "
                      f"{hosts}).", fields={"permalink": f"not a {platform} link"},
                      code="wrong_permalink")
    now = core.now()
    pub.status = PublicationStatus.PUBLISHED
    pub.permalink = permalink
    pub.external_id = external_id or pub.external_id or permalink.rstrip("/").rsplit("/", 1)[-1]
    pub.published_at = pub.published_at or now
    pub.error = pub.error_en = pub.error_code = None
    pub.next_metrics_at = now
    pub.updated_at = now
    audit.record(session, "publication.mark_published", "publication", pub.id, actor=actor,
                 unit_id=pub.post.unit_id,
                 data={"permalink": permalink, "previous_status": previous,
                       "external_id": pub.external_id})
    return pub
