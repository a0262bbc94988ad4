"""Which audit events concern a user.

Authors hear about their posts (approved, rejected, published, failed, unconfirmed);
approvers (and admins) hear about submissions and problems in the units they look after;
everybody in a unit hears that one of its channels needs reconnecting; a person hears that a
message by e-mail could not reach them. A person is never notified of their own action. The
rule itself is ``publisher.notify.kinds.concerns``, shared with the e-mails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.models import AuditEvent, Channel, Post, Publication, Role, User
from publisher.notify.kinds import (
    ADMIN_ACTIONS,
    COMMENT_ACTIONS,
    FANOUT_ACTIONS,
    POST_ACTIONS,
    PUBLICATION_ACTIONS,
    STAGE_ACTIONS,
    UNDELIVERABLE,
    concerns,
)

ACTIONS = POST_ACTIONS + PUBLICATION_ACTIONS + ("channel.needs_reauth", UNDELIVERABLE) \
    + ADMIN_ACTIONS + COMMENT_ACTIONS + FANOUT_ACTIONS
WINDOW = 200


@dataclass
class Notification:
    event: AuditEvent
    post_id: int | None
    unread: bool
    #: The social account a publication event is about ("missed on Dinsos FB").
    channel: str | None = None


def _candidates(session: Session, user: User, since: datetime | None = None):  # type: ignore[no-untyped-def]
    q = select(AuditEvent).where(AuditEvent.action.in_(ACTIONS))
    if user.role != Role.ADMIN and user.region_verifier:
        # the region's verifier hears of every unit's posts waiting at the verifier stage
        q = q.where((AuditEvent.unit_id == user.unit_id)
                    | AuditEvent.action.in_(STAGE_ACTIONS))
    elif user.role != Role.ADMIN:
        q = q.where(AuditEvent.unit_id == user.unit_id)
    if since is not None:
        q = q.where(AuditEvent.at > since)
    return session.execute(q.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                           .limit(WINDOW)).scalars().all()


def _concerned(session: Session, user: User,
               events: list[AuditEvent]) -> list[tuple[AuditEvent, int | None]]:
    post_ids = {e.object_id for e in events if e.action in POST_ACTIONS and e.object_id}
    pub_ids = {e.object_id for e in events if e.action in PUBLICATION_ACTIONS and e.object_id}
    pub_post: dict[int, int] = {}
    if pub_ids:
        pub_post = dict(session.execute(select(Publication.id, Publication.post_id)
                                        .where(Publication.id.in_(pub_ids))).all())
    post_ids |= set(pub_post.values())
    authors: dict[int, int] = {}
    if post_ids:
        authors = dict(session.execute(select(Post.id, Post.author_id)
                                       .where(Post.id.in_(post_ids))).all())
    out = []
    for e in events:
        post_id = e.object_id if e.action in POST_ACTIONS + FANOUT_ACTIONS \
            else pub_post.get(e.object_id or 0)
        if e.action in ("channel.needs_reauth", UNDELIVERABLE) + ADMIN_ACTIONS:
            post_id = None
        if concerns(user, e, authors.get(post_id) if post_id is not None else None):
            out.append((e, post_id))
    return out


def notifications_for(session: Session, user: User, limit: int = 50) -> list[Notification]:
    seen = user.notifications_seen_at
    rows = _concerned(session, user, list(_candidates(session, user)))[:limit]
    pub_ids = {e.object_id for e, _pid in rows if e.action in PUBLICATION_ACTIONS and e.object_id}
    names: dict[int, str] = {}
    if pub_ids:
        names = {pid: name for pid, name in session.execute(
            select(Publication.id, Channel.name).join(Channel, Channel.id == Publication.channel_id)
            .where(Publication.id.in_(pub_ids)))}
    return [Notification(e, pid, seen is None or _aware(e.at) > _aware(seen),
                         names.get(e.object_id or 0) if e.action in PUBLICATION_ACTIONS
                         else None) for e, pid in rows]


def unread_count(session: Session, user: User) -> int:
    return len(_concerned(session, user, list(_candidates(session, user,
                                                          user.notifications_seen_at))))


def _aware(dt: datetime) -> datetime:
    from datetime import UTC

    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


__all__ = ["ACTIONS", "Notification", "func", "notifications_for", "unread_count"]
