"""Review stages (issue 20): a post approved in order by several people, e.g. the unit's
approver, then the region's verifier (Diskominfo).

The rules, in one place for the services, the pages, the API and the worker:

- A unit (or a campaign, which overrides its units) has an ordered list of stage kinds
  (``STAGE_KINDS``); none set is one stage, the unit's approver: today's behaviour.
- The list is fixed on the post when it is submitted (``PostReview``): a configuration changed
  later never moves a post already waiting.
- Each stage is approved by a different person, never by one of the post's writers, and each
  approval is bound to the content hash its approver saw (``StageApproval``). The stage a post
  waits at is the first one without such an approval *for the current hash*: content changed
  by any path sends it back to the first stage, even one that forgot to void the approvals.
- An edit, a rejection, a resubmission void every approval (kept, with ``voided_at``, for the
  history). Publications are released only by the last stage (``posts.approve_post``); the
  worker checks the same rule before publishing (``stages_complete``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Campaign, Post, PostStatus, Role, Unit, User
from publisher.models.review import PostReview, StageApproval
from publisher.services import audit
from publisher.services.access import can_see_unit, lock_row
from publisher.services.approval import content_hash
from publisher.services.errors import Forbidden, Invalid, NotFound
from publisher.services.query_args import MAX_ID

UNIT_APPROVER = "unit_approver"
REGION_VERIFIER = "region_verifier"
#: The stage kinds an admin may configure, in the order the forms offer them.
STAGE_KINDS: tuple[str, ...] = (UNIT_APPROVER, REGION_VERIFIER)
#: A unit without configuration: one stage, its approver (what Warta always did).
DEFAULT_STAGES: tuple[str, ...] = (UNIT_APPROVER,)
MAX_STAGES = 3
#: The most hours a reminder or a deadline may be set to (a year).
MAX_HOURS = 24 * 366


# -- configuration ----------------------------------------------------------------------------
def check_stages(stages: Sequence[str] | None, *, campaign: bool) -> list[str] | None:
    """A stage list as stored: kinds from ``STAGE_KINDS``, at most ``MAX_STAGES``. ``None``
    for none chosen (a unit: the default; a campaign: its units' own) and, for a unit, for
    the default itself (so "one stage" reads the same however it was set)."""
    kinds = [str(k).strip() for k in (stages or []) if str(k).strip()]
    if not kinds:
        return None
    if len(kinds) > MAX_STAGES or any(k not in STAGE_KINDS for k in kinds):
        raise Invalid(f"Tahap persetujuan: paling banyak {MAX_STAGES}, dari "
                      f"{', '.join(STAGE_KINDS)}.",
                      f"Approval stages: at most {MAX_STAGES}, each one of "
                      f"{', '.join(STAGE_KINDS)}.", fields={"stages": "invalid"})
    return None if kinds == list(DEFAULT_STAGES) and not campaign else kinds


def _hours(value: int | None, field: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or not 0 < value <= MAX_HOURS:
        raise Invalid(f"Isi jam antara 1 dan {MAX_HOURS}, atau kosongkan.",
                      f"Enter hours between 1 and {MAX_HOURS}, or leave it empty.",
                      fields={field: f"1..{MAX_HOURS}"})
    return value


def _require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN:
        raise Forbidden("Hanya admin yang dapat mengatur tahap persetujuan.",
                        "Only an admin can set approval stages.", code="wrong_role")


def set_unit_stages(session: Session, actor: User, unit_id: int, stages: Sequence[str] | None,
                    *, remind_hours: int | None = None,
                    deadline_hours: int | None = None) -> Unit:
    """An admin sets a unit's stages, reminder and deadline (audited ``unit.review_stages``).
    Posts already waiting keep the stages they were submitted with."""
    _require_admin(actor)
    unit = session.get(Unit, unit_id) if 0 < unit_id <= MAX_ID else None
    if unit is None:
        raise NotFound(f"Unit #{unit_id} tidak ditemukan.", f"Unit #{unit_id} was not found.")
    kinds = check_stages(stages, campaign=False)
    remind = _hours(remind_hours, "remind_hours")
    deadline = _hours(deadline_hours, "deadline_hours")
    unit.review_stages = kinds
    unit.review_remind_hours = remind
    unit.review_deadline_hours = deadline
    audit.record(session, "unit.review_stages", "unit", unit.id, actor=actor, unit_id=unit.id,
                 data={"stages": kinds or list(DEFAULT_STAGES), "remind_hours": remind,
                       "deadline_hours": deadline})
    return unit


def set_campaign_stages(session: Session, actor: User, campaign_id: int,
                        stages: Sequence[str] | None) -> Campaign:
    """An admin sets a campaign's stages (empty: its units' own), audited
    ``campaign.review_stages``."""
    _require_admin(actor)
    camp = session.get(Campaign, campaign_id) if 0 < campaign_id <= MAX_ID else None
    if camp is None:
        raise NotFound(f"Kampanye #{campaign_id} tidak ditemukan.",
                       f"Campaign #{campaign_id} was not found.")
    camp.review_stages = check_stages(stages, campaign=True)
    audit.record(session, "campaign.review_stages", "campaign", camp.id, actor=actor,
                 unit_id=camp.unit_id, data={"stages": camp.review_stages})
    return camp


def set_verifier(session: Session, actor: User, user_id: int, on: bool) -> User:
    """An admin makes a user the region's verifier, or stops it (audited ``user.verifier``)."""
    _require_admin(actor)
    user = session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        raise NotFound(f"Pengguna #{user_id} tidak ditemukan.", f"User #{user_id} was not found.")
    if bool(user.region_verifier) != on:
        user.region_verifier = on
        audit.record(session, "user.verifier", "user", user.id, actor=actor,
                     unit_id=user.unit_id, data={"verifier": on})
    return user


def configured_stages(post: Post) -> list[str]:
    """The stages a post would get if submitted now: its campaign's, else its unit's."""
    if post.campaign is not None and post.campaign.review_stages:
        return list(post.campaign.review_stages)
    if post.unit is not None and post.unit.review_stages:
        return list(post.unit.review_stages)
    return list(DEFAULT_STAGES)


def stages_of(session: Session, post: Post) -> list[str]:
    """The post's stages: fixed at submit; before that (a draft), its configuration's. A post
    submitted without a review row (before stages existed) has the one default stage."""
    review = session.get(PostReview, post.id)
    if review is not None and post.status in (PostStatus.SUBMITTED, PostStatus.APPROVED):
        return list(review.stages)
    if post.status in (PostStatus.SUBMITTED, PostStatus.APPROVED):
        return list(DEFAULT_STAGES)
    return configured_stages(post)


# -- state ------------------------------------------------------------------------------------
def valid_approvals(session: Session, post_id: int, digest: str,
                    stages: Sequence[str]) -> dict[int, StageApproval]:
    """The stage approvals that count: not voided, for this content hash, of the stage kind
    the post has at that index; the first per stage."""
    out: dict[int, StageApproval] = {}
    for a in session.execute(select(StageApproval).where(
            StageApproval.post_id == post_id, StageApproval.voided_at.is_(None),
            StageApproval.content_hash == digest).order_by(StageApproval.id)).scalars():
        if a.stage_index < len(stages) and stages[a.stage_index] == a.kind:
            out.setdefault(a.stage_index, a)
    return out


def current_stage(stages: Sequence[str], approved: Iterable[int]) -> int:
    """The first stage without an approval (``len(stages)``: all approved)."""
    done = set(approved)
    return next((i for i in range(len(stages)) if i not in done), len(stages))


def stages_complete(stages: Sequence[str] | None,
                    approvals: Iterable[tuple[int, str, int, str]], digest: str) -> bool:
    """The worker's backstop: every stage of a multi-stage post approved for ``digest``, each
    by a different person. ``approvals`` are (index, kind, approver id, hash) of the rows not
    voided. A post of one stage (or none recorded) is covered by its approval hash alone."""
    if not stages or len(stages) <= 1:
        return True
    by_stage: dict[int, int] = {}
    for index, kind, approver, h in approvals:
        if h == digest and 0 <= index < len(stages) and stages[index] == kind:
            by_stage.setdefault(index, approver)
    return len(by_stage) == len(stages) and len(set(by_stage.values())) == len(stages)


def may_act(core: Core, actor: User, post: Post, kind: str, writer_ids: set[int],
            other_approvers: set[int]) -> bool:
    """Whether ``actor`` may approve the stage of ``kind``: the right person for the stage,
    none of the post's writers (``WARTA_ALLOW_SELF_APPROVAL`` lifts that, as for one stage),
    and not the approver of another of its stages (never lifted)."""
    if not actor.active or actor.id in other_approvers:
        return False
    if kind == REGION_VERIFIER:
        right = bool(actor.region_verifier)
    else:
        right = actor.role in (Role.APPROVER, Role.ADMIN) and can_see_unit(actor, post.unit_id)
    return right and (core.settings.allow_self_approval or actor.id not in writer_ids)


def waiting_kind(session: Session, post: Post) -> str | None:
    """The kind of the stage a submitted post waits at now (``None``: not waiting)."""
    if post.status != PostStatus.SUBMITTED:
        return None
    stages = stages_of(session, post)
    index = current_stage(stages, valid_approvals(session, post.id, content_hash(post), stages))
    return stages[index] if index < len(stages) else None


def get_for_review(session: Session, actor: User, post_id: int) -> Post:
    """A post the actor may review: one of their units' (``get_scoped``), or — for the region's
    verifier — any unit's post waiting at a verifier stage. Anything else is *not found*.
    Locked for the decision (``access.lock_row``): two approvers at once act in turn."""
    post = lock_row(session, Post, post_id) if 0 < post_id <= MAX_ID else None
    if post is not None and (can_see_unit(actor, post.unit_id) or (
            actor.region_verifier and waiting_kind(session, post) == REGION_VERIFIER)):
        return post
    raise NotFound(f"Unggahan #{post_id} tidak ditemukan.", f"Post #{post_id} was not found.")


def begin(core: Core, session: Session, post: Post) -> list[str]:
    """A submission: fix the post's stages and put it at the first. Approvals of other content
    are voided, and so is any of the first stage (a fresh submission is decided by a person at
    stage 1); a later stage pre-approved for this very content (``pre_approve``) still counts."""
    stages = configured_stages(post)
    now = core.now()
    digest = content_hash(post)
    session.execute(update(StageApproval).where(
        StageApproval.post_id == post.id, StageApproval.voided_at.is_(None),
        (StageApproval.content_hash != digest) | (StageApproval.stage_index == 0))
        .values(voided_at=now, void_reason="resubmitted"))
    review = session.get(PostReview, post.id)
    if review is None:
        review = PostReview(post_id=post.id)
        session.add(review)
    review.stages = stages
    review.stage_index, review.stage_kind, review.stage_since = 0, stages[0], now
    review.reminded_at = review.deadline_at = None
    return stages


def move_to(core: Core, session: Session, post: Post, stages: Sequence[str], index: int) -> None:
    """Record that the post now waits at stage ``index`` (or is through): the cache the
    approvals page and the reminder sweep read."""
    review = session.get(PostReview, post.id)
    if review is None:
        review = PostReview(post_id=post.id, stages=list(stages))
        session.add(review)
    if review.stage_index != index or review.stage_kind is None:
        review.stage_since = core.now()
        review.reminded_at = review.deadline_at = None
    review.stage_index = index
    review.stage_kind = stages[index] if index < len(stages) else None


def record_approval(core: Core, session: Session, actor: User, post: Post, index: int,
                    kind: str, digest: str) -> StageApproval:
    row = StageApproval(post_id=post.id, stage_index=index, kind=kind, approver_id=actor.id,
                        content_hash=digest, approved_at=core.now())
    session.add(row)
    session.flush()
    return row


def void_all(core: Core, session: Session, post: Post, actor: User | None,
             reason: str, *, keep_review: bool = False) -> int:
    """Void every stage approval of the post (an edit, a rejection) and take it out of the
    stages (``keep_review``: the caller puts it back at the first, ``begin``); audited
    ``post.stages_voided`` when there was one to void. Returns how many were voided."""
    rows = list(session.execute(select(StageApproval).where(
        StageApproval.post_id == post.id, StageApproval.voided_at.is_(None))).scalars())
    now = core.now()
    for r in rows:
        r.voided_at, r.void_reason = now, reason[:32]
    review = None if keep_review else session.get(PostReview, post.id)
    if review is not None:
        session.delete(review)
        session.flush()
    if rows:
        audit.record(session, "post.stages_voided", "post", post.id, actor=actor,
                     unit_id=post.unit_id,
                     data={"reason": reason, "stages": sorted(r.stage_index + 1 for r in rows)})
    return len(rows)


def is_multi(session: Session, post: Post) -> bool:
    return len(stages_of(session, post)) > 1


# -- what the pages and the API show ----------------------------------------------------------
@dataclass(frozen=True)
class StageView:
    """One stage of a post as a page or the API shows it."""

    number: int
    kind: str
    approver_id: int | None
    approver_name: str | None
    approved_at: datetime | None
    current: bool


def stage_views(session: Session, post: Post) -> list[StageView]:
    """Each stage of the post: who approved it and when (for its current content), and which
    one it waits at."""
    return stage_views_many(session, [post])[post.id]


def stage_views_many(session: Session, posts: Sequence[Post]) -> dict[int, list[StageView]]:
    """``stage_views`` of a page of posts in two queries (their review rows, their stage
    approvals), not two per post: the API's post list shows every post's stages."""
    ids = [p.id for p in posts]
    if not ids:
        return {}
    reviews = {r.post_id: r for r in session.execute(
        select(PostReview).where(PostReview.post_id.in_(ids))).scalars()}
    rows: dict[int, list[StageApproval]] = {i: [] for i in ids}
    for a in session.execute(select(StageApproval).where(
            StageApproval.post_id.in_(ids), StageApproval.voided_at.is_(None))
            .order_by(StageApproval.id)).scalars():
        rows[a.post_id].append(a)
    out: dict[int, list[StageView]] = {}
    for post in posts:
        review = reviews.get(post.id)
        if post.status in (PostStatus.SUBMITTED, PostStatus.APPROVED):
            stages = list(review.stages) if review is not None else list(DEFAULT_STAGES)
        else:
            stages = configured_stages(post)
        digest = post.approval_hash if post.status == PostStatus.APPROVED and \
            post.approval_hash else content_hash(post)
        approvals: dict[int, StageApproval] = {}
        for a in rows[post.id]:
            if a.content_hash == digest and a.stage_index < len(stages) \
                    and stages[a.stage_index] == a.kind:
                approvals.setdefault(a.stage_index, a)
        at = current_stage(stages, approvals) if post.status == PostStatus.SUBMITTED else None
        out[post.id] = [StageView(i + 1, kind, approvals[i].approver_id if i in approvals
                                  else None,
                                  approvals[i].approver.name if i in approvals else None,
                                  approvals[i].approved_at if i in approvals else None, at == i)
                        for i, kind in enumerate(stages)]
    return out


def stage_since(session: Session, post: Post) -> datetime | None:
    review = session.get(PostReview, post.id)
    return review.stage_since if review is not None else post.submitted_at


@dataclass(frozen=True)
class ReviewState:
    """A submitted post's place in its stages, as the approvals page shows it."""

    stages: list[StageView]
    #: The kind of the stage it waits at (``None``: not waiting).
    kind: str | None
    #: Since when it waits there.
    since: datetime | None
    #: Past its unit's deadline at this stage (flagged; never approved by itself).
    overdue: bool

    @property
    def multi(self) -> bool:
        return len(self.stages) > 1

    @property
    def number(self) -> int | None:
        return next((v.number for v in self.stages if v.current), None)


def review_state(core: Core, session: Session, post: Post) -> ReviewState:
    views = stage_views(session, post)
    current = next((v for v in views if v.current), None)
    since = stage_since(session, post) if current is not None else None
    hours = post.unit.review_deadline_hours if post.unit is not None else None
    overdue = bool(current is not None and since is not None and hours
                   and core.now() - since > timedelta(hours=hours))
    return ReviewState(views, current.kind if current else None, since, overdue)
