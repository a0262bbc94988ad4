"""Reading the citizens' inbox: the newest comments a user may see, filtered, one bounded
page at a time; and one comment's thread (its parent, its replies, its post, its history)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import Channel, CitizenComment, CommentEvent, Post, Publication, User
from publisher.services.inbox import get_comment, history, visible
from publisher.services.inbox_overdue import overdue_clause
from publisher.services.post_search import LIKE_ESCAPE, contains_pattern

PER_PAGE = 50
MAX_PAGE = 200
THREAD_LIMIT = 200


@dataclass(frozen=True)
class InboxFilter:
    platform: str | None = None
    publication_id: int | None = None
    status: str | None = None
    category: str | None = None
    #: "none": not categorised yet.
    unit_id: int | None = None
    #: The campaign of the post commented on.
    campaign_id: int | None = None
    text: str | None = None
    #: Only the open comments whose deadline passed before this instant (``?overdue=1``:
    #: the request's now), oldest deadline first.
    overdue_at: datetime | None = None


@dataclass
class InboxPage:
    rows: list[tuple[CitizenComment, Post, Channel]]
    page: int
    has_next: bool


def search(session: Session, user: User, f: InboxFilter, page: int = 1,
           per_page: int = PER_PAGE) -> InboxPage:
    """Newest first (by the platform's time, then id; overdue: oldest deadline first),
    ``per_page`` + 1 rows read to know whether another page follows; never more than
    ``MAX_PAGE`` pages deep."""
    page = min(max(1, page), MAX_PAGE)
    per_page = min(max(1, per_page), 100)
    q = (select(CitizenComment, Post, Channel)
         .join(Publication, Publication.id == CitizenComment.publication_id)
         .join(Post, Post.id == Publication.post_id)
         .join(Channel, Channel.id == CitizenComment.channel_id))
    q = visible(q, user)
    if f.platform:
        q = q.where(CitizenComment.platform == f.platform)
    if f.publication_id:
        q = q.where(CitizenComment.publication_id == f.publication_id)
    if f.status:
        q = q.where(CitizenComment.status == f.status)
    if f.category == "none":
        q = q.where(CitizenComment.category.is_(None))
    elif f.category:
        q = q.where(CitizenComment.category == f.category)
    if f.unit_id:
        q = q.where(CitizenComment.unit_id == f.unit_id)
    if f.campaign_id:
        q = q.where(Post.campaign_id == f.campaign_id)
    if f.text:
        q = q.where(CitizenComment.text.ilike(contains_pattern(f.text[:200]),
                                              escape=LIKE_ESCAPE))
    if f.overdue_at is not None:
        q = overdue_clause(q, f.overdue_at).order_by(CitizenComment.due_at, CitizenComment.id)
    else:
        q = q.order_by(CitizenComment.posted_at.desc(), CitizenComment.id.desc())
    q = (q.offset((page - 1) * per_page).limit(per_page + 1))
    rows = [(c, p, ch) for c, p, ch in session.execute(q).all()]
    return InboxPage(rows[:per_page], page, len(rows) > per_page)


@dataclass
class Thread:
    comment: CitizenComment
    post: Post
    publication: Publication
    channel: Channel
    parent: CitizenComment | None
    replies: list[CitizenComment]
    events: list[CommentEvent]
    extra: dict[str, Any] = field(default_factory=dict)


def thread(session: Session, user: User, comment_id: int) -> Thread:
    """The comment (404 if the user may not see it) with its conversation on the platform.

    A unit that may see a comment sees its conversation too (the comment it answers and the
    replies under it, all public under the office's post), so that it answers in context;
    the rest of the post's comments stay with the units concerned."""
    c = get_comment(session, user, comment_id)
    pub = session.get(Publication, c.publication_id)
    assert pub is not None
    parent = None
    if c.parent_external_id:
        parent = session.execute(select(CitizenComment).where(
            CitizenComment.channel_id == c.channel_id,
            CitizenComment.external_id == c.parent_external_id)).scalar_one_or_none()
    replies = list(session.execute(select(CitizenComment).where(
        CitizenComment.channel_id == c.channel_id,
        CitizenComment.parent_external_id == c.external_id)
        .order_by(CitizenComment.posted_at, CitizenComment.id).limit(THREAD_LIMIT)).scalars())
    return Thread(c, pub.post, pub, pub.channel, parent, replies, history(session, c.id))
