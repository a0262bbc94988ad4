"""Deciding on a submitted post: approve the stage it waits at (the last stage releases its
publications and a series' occurrences), approve a later stage ahead of its turn, or reject it
with a reason. Every decision is bound to the content hash the deciding person saw.

Split from ``posts.py`` (the post's life as an author sees it); ``posts`` re-exports these
three, so callers import them from either.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.jobs import enqueue_publish
from publisher.models import Post, PostStatus, Publication, PublicationStatus, Role, User
from publisher.services import audit, policy_gate, recurrence, review_stages
from publisher.services.access import get_scoped, lock_row, require_role
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Forbidden, Invalid
from publisher.services.posts import (
    PAST_GRACE,
    _is_id,
    _publications,
    cancel_open_publications,
    writers,
)


def approve_post(core: Core, session: Session, actor: User, post_id: int,
                 seen_hash: str | None = None, *, publish_now: bool = False,
                 via: str | None = None) -> Post:
    """Approve the stage the post waits at (one stage, the unit's approver, unless its unit or
    campaign set more: ``review_stages``). ``seen_hash`` is the content hash of the version
    the approver read (the approval page sends it): if the post changed since, nothing is
    approved, so an approval always means the version that person saw. Only the last stage
    releases the publications.

    A post whose set time passed while it waited is not approved silently (it would go out
    late, or be missed): the last stage's approver chooses ``publish_now`` or reschedules it
    first."""
    if not actor.region_verifier:
        require_role(actor, Role.APPROVER, Role.ADMIN)
    post = review_stages.get_for_review(session, actor, post_id)
    if post.status != PostStatus.SUBMITTED:
        raise Conflict("Hanya unggahan yang menunggu persetujuan yang dapat disetujui.",
                       "Only a post awaiting approval can be approved.", code="bad_status")
    stages = review_stages.stages_of(session, post)
    digest = content_hash(post)
    approvals = review_stages.valid_approvals(session, post.id, digest, stages)
    index = review_stages.current_stage(stages, approvals)
    if index >= len(stages):
        raise Conflict("Semua tahap unggahan ini sudah disetujui.",
                       "Every stage of this post is already approved.", code="bad_status")
    kind = stages[index]
    if kind == review_stages.UNIT_APPROVER:
        require_role(actor, Role.APPROVER, Role.ADMIN)
    _refuse_stage_actor(core, session, actor, post, kind,
                        {a.approver_id for i, a in approvals.items() if i != index})
    if seen_hash is not None and seen_hash != digest:
        raise Conflict("Unggahan berubah sejak Anda membukanya; periksa lagi sebelum menyetujui.",
                       "The post changed since you opened it; check it again before approving.",
                       code="changed")
    policy_gate.enforce_on_approve(core, session, post)
    following = review_stages.current_stage(stages, {*approvals, index})
    now = core.now()
    if following < len(stages):
        review_stages.record_approval(core, session, actor, post, index, kind, digest)
        review_stages.move_to(core, session, post, stages, following)
        audit.record(session, "post.stage_approve", "post", post.id, actor=actor,
                     unit_id=post.unit_id,
                     data={"stage": index + 1, "stage_kind": kind, "hash": digest,
                           "waiting_stage": following + 1, "waiting_kind": stages[following]}
                     | ({"via": via} if via else {}))
        return post
    if post.scheduled_at and post.scheduled_at < now - PAST_GRACE and not publish_now:
        raise Conflict("Waktu terbit unggahan ini sudah lewat. Pilih \"Setujui dan terbitkan "
                       "sekarang\", atau jadwalkan ulang dulu.",
                       "This post's time has already passed. Choose \"Approve and publish "
                       "now\", or reschedule it first.", code="time_passed")
    review_stages.record_approval(core, session, actor, post, index, kind, digest)
    review_stages.move_to(core, session, post, stages, len(stages))
    _close_former_shape(core, session, actor, post)
    existing = {p.channel_id for p in _publications(session, post.id)
                if p.status != PublicationStatus.CANCELLED}
    when = post.scheduled_at if post.scheduled_at and post.scheduled_at > now else now
    for link in post.channel_links if post.recurrence is None else []:
        if link.channel_id in existing:
            continue  # already published there before an edit; never twice
        pub = Publication(post_id=post.id, channel_id=link.channel_id,
                          status=PublicationStatus.QUEUED, scheduled_at=post.scheduled_at or now,
                          created_at=now, updated_at=now)
        session.add(pub)
        session.flush()
        pub.job_id = enqueue_publish(session, pub.id, link.channel_id, run_at=when, now=now)
        audit.record(session, "publication.queued", "publication", pub.id, actor=actor,
                     unit_id=post.unit_id, data={"scheduled_at": when.isoformat()})
    post.status = PostStatus.APPROVED
    post.approved_by = actor.id
    post.approved_at = now
    post.approval_hash = digest
    audit.record(session, "post.approve", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"hash": post.approval_hash, "approver": actor.id}
                 | ({"via": via} if via else {})
                 | ({"stage": index + 1, "stages": stages} if len(stages) > 1 else {}))
    recurrence.materialise(core, session, post, actor=actor, now=now)
    return post


def _close_former_shape(core: Core, session: Session, actor: User, post: Post) -> None:
    """Cancel the failed publications of the shape the post had before an edit switched it
    between one-off and recurring (an occurrence of a series that is now one post, or the
    one-off beside what is now a series).

    Approved again in its new shape, the post gets that shape's publications; a failed one of
    the old shape would otherwise stay retriable, putting out an occurrence of a series that no
    longer exists or a copy beside the new series, and a failed occurrence counted as "already
    there" kept the new one-off from being made at all, so the approved post never went out.
    Only *failed* ones: voiding the approval already cancelled the open ones (queued, missed,
    waiting for a reconnect), and an *unconfirmed* one may have gone out, so it stays for a
    person to settle and still counts as there."""
    recurring = post.recurrence is not None
    cancel_open_publications(core, session, post, actor, reason="shape_changed",
                             states=(PublicationStatus.FAILED,),
                             which=lambda p: (p.occurrence_at is None) == recurring)


def _refuse_stage_actor(core: Core, session: Session, actor: User, post: Post, kind: str,
                        other_approvers: set[int]) -> None:
    """Say why ``actor`` may not approve this stage, if they may not: they wrote it (the
    four-eyes rule), approved another stage, or the stage is another person's."""
    mine = writers(session, post)
    if review_stages.may_act(core, actor, post, kind, mine, other_approvers):
        return
    if actor.id in other_approvers:
        raise Forbidden("Anda sudah menyetujui tahap lain unggahan ini; tiap tahap disetujui "
                        "orang yang berbeda.",
                        "You already approved another stage of this post; each stage is "
                        "approved by a different person.", code="same_approver")
    if actor.id in mine and not core.settings.allow_self_approval:
        raise Forbidden("Anda tidak dapat menyetujui unggahan yang Anda tulis atau ubah "
                        "sendiri; persetujuan harus dari orang kedua.",
                        "You cannot approve a post you wrote or changed yourself; a second "
                        "person must approve it.", code="self_approval")
    raise Forbidden("Unggahan ini menunggu tahap persetujuan orang lain.",
                    "This post waits at a stage for someone else to approve.",
                    code="wrong_stage")


def approve_stage(core: Core, session: Session, actor: User, post_id: int, kind: str, *,
                  seen_hash: str | None = None, via: str | None = None) -> Post:
    """Approve stage ``kind`` of a post as ``actor`` ahead of its turn (a campaign's fan-out
    pre-approving a unit's copy at the region's stage). The same rules as ``approve_post``
    (the right person, not a writer, not the approver of another stage, bound to the content
    hash); the first stage cannot be approved ahead (a unit's copy is decided by its unit), and
    nothing is released here: the post goes on from its first stage when it is submitted, and
    skips this one while its content stays the same. A post waiting at ``kind`` now is simply
    approved (``approve_post``)."""
    # the region's verifier acts on every unit's post at the verifier stage, drafts included
    region = kind == review_stages.REGION_VERIFIER and actor.region_verifier and _is_id(post_id)
    post = lock_row(session, Post, post_id) if region else None
    if post is None:
        post = get_scoped(session, Post, post_id, actor, lock=True)
    if review_stages.waiting_kind(session, post) == kind:
        return approve_post(core, session, actor, post_id, seen_hash, via=via)
    if post.status not in (PostStatus.DRAFT, PostStatus.SUBMITTED):
        raise Conflict("Unggahan ini tidak sedang menunggu persetujuan.",
                       "This post is not waiting for approval.", code="bad_status")
    stages = review_stages.stages_of(session, post)
    if kind not in stages[1:]:
        raise Invalid("Unggahan ini tidak memiliki tahap itu (selain tahap pertama).",
                      "This post has no such stage (after its first).",
                      fields={"stage": "unknown"})
    index = stages.index(kind, 1)
    digest = content_hash(post)
    approvals = review_stages.valid_approvals(session, post.id, digest, stages)
    if index in approvals:
        return post
    _refuse_stage_actor(core, session, actor, post, kind,
                        {a.approver_id for a in approvals.values()})
    if seen_hash is not None and seen_hash != digest:
        raise Conflict("Unggahan berubah sejak Anda membukanya; periksa lagi sebelum menyetujui.",
                       "The post changed since you opened it; check it again before approving.",
                       code="changed")
    review_stages.record_approval(core, session, actor, post, index, kind, digest)
    audit.record(session, "post.stage_approve", "post", post.id, actor=actor,
                 unit_id=post.unit_id,
                 data={"stage": index + 1, "stage_kind": kind, "hash": digest, "ahead": True}
                 | ({"via": via} if via else {}))
    return post


def reject_post(core: Core, session: Session, actor: User, post_id: int, comment: str, *,
                seen_hash: str | None = None, via: str | None = None) -> Post:
    """Reject with a reason. ``seen_hash``, as for approving: a post that changed since the
    approver read it is not rejected blindly. ``via`` names where it came from (Telegram)."""
    if not actor.region_verifier:
        require_role(actor, Role.APPROVER, Role.ADMIN)
    post = review_stages.get_for_review(session, actor, post_id)
    kind = review_stages.waiting_kind(session, post)
    if kind == review_stages.REGION_VERIFIER and not actor.region_verifier:
        raise Forbidden("Unggahan ini menunggu verifikasi wilayah; hanya verifikator yang dapat "
                        "menolaknya di tahap ini.",
                        "This post waits for the region's verification; only a verifier can "
                        "reject it at this stage.", code="wrong_stage")
    if kind != review_stages.REGION_VERIFIER:
        require_role(actor, Role.APPROVER, Role.ADMIN)
        post = get_scoped(session, Post, post_id, actor, lock=True)
    if not comment or not comment.strip():
        raise Invalid("Alasan penolakan wajib diisi.", "A reason for rejection is required.",
                      fields={"comment": "required"})
    if post.status != PostStatus.SUBMITTED:
        raise Conflict("Hanya unggahan yang menunggu persetujuan yang dapat ditolak.",
                       "Only a post awaiting approval can be rejected.", code="bad_status")
    if seen_hash is not None and seen_hash != content_hash(post):
        raise Conflict("Unggahan berubah sejak Anda membukanya; periksa lagi sebelum menolak.",
                       "The post changed since you opened it; check it again before "
                       "rejecting.", code="changed")
    post.status = PostStatus.REJECTED
    post.rejection_comment = comment.strip()
    review_stages.void_all(core, session, post, actor, reason="rejected")
    audit.record(session, "post.reject", "post", post.id, actor=actor, unit_id=post.unit_id,
                 data={"comment": post.rejection_comment} | ({"via": via} if via else {}))
    return post
