"""Policy checks against the database: submit and approval enforce them, the composer and the
approval page show them.

What the pure checks (``services/policy.py``) need is read here with bounded queries: the
active rules, the draft's local day's posts on its channels, and the other units' posts of
that day (capped at ``MAX_OTHERS``; never any other day's).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import Channel, Post, PostChannel, PostStatus, Unit, User
from publisher.models.policy import PolicyAck, PolicyRule
from publisher.services import audit
from publisher.services import policy as P
from publisher.services.approval import content_hash
from publisher.services.errors import Conflict, Invalid, Text
from publisher.timeutil import zone_label

#: Posts that count as scheduled: waiting for approval or approved.
_SCHEDULED = (PostStatus.SUBMITTED, PostStatus.APPROVED)
#: The most posts of other units one near-duplicate check reads (a region's busiest day).
MAX_OTHERS = 500


def active_rules(session: Session) -> list[P.Rule]:
    rows = session.execute(select(PolicyRule).where(PolicyRule.active.is_(True))
                           .order_by(PolicyRule.id)).scalars()
    return [P.Rule(r.id, r.kind, r.severity, r.value, r.reason, r.campaign_id) for r in rows]


def day_bounds(when: datetime, zone: str) -> tuple[datetime, datetime]:
    """The local day around ``when`` in the unit's zone, as UTC-aware bounds [start, end)."""
    tz = ZoneInfo(zone)
    local = when.astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    return start, start + timedelta(days=1)


def _in_day(start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    """A post's time is its schedule, or its submission for "as soon as approved"."""
    return or_(and_(Post.scheduled_at >= start, Post.scheduled_at < end),
               and_(Post.scheduled_at.is_(None), Post.submitted_at >= start,
                    Post.submitted_at < end))


def context_for(session: Session, *, unit_id: int, zone: str, when: datetime,
                channel_ids: Sequence[int], post_id: int | None,
                rules: Sequence[P.Rule]) -> P.Context:
    """Only what the rules in force need: no query for a kind nobody set."""
    kinds = {r.kind for r in rules}
    start, end = day_bounds(when, zone)
    ctx = P.Context()
    others = Post.id != post_id if post_id is not None else Post.id.is_not(None)
    if P.DAILY_LIMIT in kinds and channel_ids:
        rows = session.execute(
            select(PostChannel.channel_id, func.count())
            .join(Post, Post.id == PostChannel.post_id)
            .where(PostChannel.channel_id.in_(list(channel_ids)), Post.status.in_(_SCHEDULED),
                   others, _in_day(start, end))
            .group_by(PostChannel.channel_id))
        ctx.channel_counts = {cid: n for cid, n in rows}
    if P.NEAR_DUPLICATE in kinds:
        rows2 = session.execute(
            select(Unit.name, Post.scheduled_at, Post.submitted_at, Post.body)
            .join(Unit, Unit.id == Post.unit_id)
            .where(Post.unit_id != unit_id, Post.status.in_(_SCHEDULED), _in_day(start, end))
            .order_by(Post.id).limit(MAX_OTHERS))
        tz, label = ZoneInfo(zone), zone_label(zone)
        # the query's day test means one of the two times is set
        ctx.others = [P.OtherPost(name, (at or sub or start).astimezone(tz), label, body)
                      for name, at, sub, body in rows2]
    return ctx


def draft_of_post(post: Post, session: Session) -> P.Draft:
    names = dict(session.execute(select(Channel.id, Channel.name)
                                 .where(Channel.id.in_(post.channel_ids))).all()) \
        if post.channel_ids else {}
    return P.Draft(body=post.body, overrides=dict(post.overrides or {}), link=post.link,
                   campaign_id=post.campaign_id,
                   media=[P.MediaItem(link.media.kind, link.media.original_name or
                                      f"#{link.media_id}", link.alt_text or "")
                          for link in post.media_links],
                   channels={cid: names.get(cid, f"#{cid}") for cid in post.channel_ids})


def check_draft(core: Core, session: Session, draft: P.Draft, *, unit_id: int,
                when: datetime | None, post_id: int | None = None) -> list[P.Violation]:
    """The violations of a draft that goes out at ``when`` (``None``: as soon as approved,
    which is today)."""
    rules = active_rules(session)
    if not rules:
        return []
    unit = session.get(Unit, unit_id)
    zone = unit.timezone if unit else core.settings.timezone
    moment = when or core.now()
    draft.day = moment.astimezone(ZoneInfo(zone)).date()
    ctx = context_for(session, unit_id=unit_id, zone=zone, when=moment,
                      channel_ids=list(draft.channels), post_id=post_id, rules=rules)
    return P.check(draft, rules, ctx)


def check_post(core: Core, session: Session, post: Post) -> list[P.Violation]:
    return check_draft(core, session, draft_of_post(post, session), unit_id=post.unit_id,
                       when=post.scheduled_at, post_id=post.id)


def _fields(violations: Sequence[P.Violation]) -> dict[str, str]:
    out: dict[str, Text] = {}
    for v in violations:
        if v.field in out:
            prev = out[v.field]
            out[v.field] = Text(f"{prev} {v.message}", f"{prev.en} {v.message.en}")
        else:
            out[v.field] = v.message
    return dict(out)


def enforce_on_submit(core: Core, session: Session, actor: User, post: Post,
                      acknowledged: set[int]) -> None:
    """Refuse a submit that breaks a hard rule, or a soft one not acknowledged; record the
    acknowledged soft violations, bound to the content hash being submitted."""
    violations = check_post(core, session, post)
    hard = [v for v in violations if v.hard]
    pending = [v for v in violations if not v.hard and v.rule_id not in acknowledged]
    if hard:
        raise Invalid("Unggahan melanggar aturan wajib; perbaiki dulu sebelum mengajukan.",
                      "The post breaks a hard rule; fix it before submitting.",
                      fields=_fields(hard + pending), code="policy")
    if pending:
        raise Invalid("Unggahan melanggar aturan anjuran; perbaiki, atau centang \"Saya "
                      "mengerti\" pada setiap pelanggaran untuk tetap mengajukan.",
                      "The post breaks a soft rule; fix it, or tick \"I understand\" on each "
                      "violation to submit anyway.", fields=_fields(pending),
                      code="policy_ack_needed")
    soft = [v for v in violations if not v.hard]
    digest = content_hash(post)
    session.execute(delete(PolicyAck).where(PolicyAck.post_id == post.id,
                                            PolicyAck.content_hash == digest))
    for v in soft:
        session.add(PolicyAck(post_id=post.id, rule_id=v.rule_id, content_hash=digest,
                              message=str(v.message), message_en=v.message.en,
                              user_id=actor.id, created_at=core.now()))
    if soft:
        audit.record(session, "policy.acknowledge", "post", post.id, actor=actor,
                     unit_id=post.unit_id,
                     data={"rules": sorted({v.rule_id for v in soft}), "hash": digest})


def enforce_on_approve(core: Core, session: Session, post: Post) -> None:
    """An approval re-checks the hard rules: one added (or tightened) after the submit
    blocks it, with the rule named."""
    hard = [v for v in check_post(core, session, post) if v.hard]
    if hard:
        raise Conflict("Unggahan ini melanggar aturan wajib yang berlaku sekarang, jadi belum "
                       "dapat disetujui; tolak dengan alasan agar penulis memperbaikinya. "
                       + " ".join(str(v.message) for v in hard),
                       "This post breaks a hard rule now in force, so it cannot be approved "
                       "yet; reject it with a reason so its author fixes it. "
                       + " ".join(v.message.en for v in hard),
                       fields=_fields(hard), code="policy")


def acks_for(session: Session, posts: Sequence[Post]) -> dict[int, list[PolicyAck]]:
    """The acknowledged violations of each post's current content (one query for a page)."""
    if not posts:
        return {}
    hashes = {p.id: content_hash(p) for p in posts}
    rows = session.execute(select(PolicyAck).where(PolicyAck.post_id.in_(list(hashes)))
                           .order_by(PolicyAck.id)).scalars()
    out: dict[int, list[PolicyAck]] = {p.id: [] for p in posts}
    for ack in rows:
        if hashes.get(ack.post_id) == ack.content_hash:
            out[ack.post_id].append(ack)
    return out
