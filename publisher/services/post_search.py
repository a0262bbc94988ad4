"""Finding posts: the one query behind the posts page and ``GET /api/v1/posts``.

The UI and the API each used to build their own. The copies drifted: the API's let ``%`` and
``_`` in the search text act as wildcards ("50%" found every post starting with 50) and loaded
each post's publications with one query per row. One function now decides what a search
means, who may see what (``access.scope``) and what is loaded with the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, not_, or_, select, tuple_
from sqlalchemy.orm import Session, lazyload, selectinload

from publisher.models import Post, PostChannel, PostStatus, Publication, PublicationStatus, User
from publisher.models.post import OVERALL_STATUSES, ROLLUP_FAILED
from publisher.services.access import scope

#: The last page number: an offset past it would overflow PostgreSQL's BIGINT.
MAX_PAGE = 10**6
#: The largest page anyone may ask for; a bigger request gets this many.
MAX_PER_PAGE = 100
#: The escape character of the LIKE patterns built here.
LIKE_ESCAPE = "\\"


@dataclass(frozen=True)
class PostFilter:
    """What a person filters the list by; ``None`` (or empty text) means "any"."""

    status: str | None = None
    #: ``Post.overall_status`` (one of ``OVERALL_STATUSES``), decided in SQL.
    overall_status: str | None = None
    #: Found anywhere in the body, case-insensitively, taken literally (no wildcards).
    text: str | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    author_id: int | None = None
    #: Creation time bounds in UTC: ``created_from <= created_at < created_before``.
    created_from: datetime | None = None
    created_before: datetime | None = None


@dataclass(frozen=True)
class PostPage:
    """One page of a search, newest first, and how many posts match in all."""

    items: list[Post]
    total: int
    page: int
    per_page: int


def contains_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, literally: the escape character, ``%`` and
    ``_`` are escaped (the escape first, or it would escape the escapes added after it).
    Use with ``escape=LIKE_ESCAPE``, which SQLite and PostgreSQL both honour."""
    escaped = (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
               .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))
    return f"%{escaped}%"


#: Publication states that count for the rollup as "not out yet, may still go out".
_OPEN = frozenset(PublicationStatus) - ROLLUP_FAILED - {PublicationStatus.PUBLISHED,
                                                         PublicationStatus.CANCELLED}


def _has_publication(states: frozenset[str] | set[str]) -> ColumnElement[bool]:
    """Whether the post has a publication in one of ``states`` (a semi-join on the
    publications' ``post_id`` index, evaluated by the database)."""
    return exists().where(Publication.post_id == Post.id,
                          Publication.status.in_(sorted(states)))


def overall_status_is(value: str) -> ColumnElement[bool]:
    """``Post.overall_status == value`` as SQL: ``rollup_status`` decides from which kinds of
    (non-cancelled) publications an approved post has — published, failed, still open — so
    three EXISTS tests say the same, and a list of 100 000 posts is filtered by the database
    instead of loading every post's publications into Python."""
    if value not in OVERALL_STATUSES:
        return false()
    out = _has_publication({PublicationStatus.PUBLISHED})
    failed = _has_publication(set(ROLLUP_FAILED))
    still = _has_publication(set(_OPEN))
    approved = Post.status == PostStatus.APPROVED
    rule = {
        "approved": and_(not_(out), not_(failed)),
        "published": and_(out, not_(failed), not_(still)),
        "partly_published": and_(out, not_(failed), still),
        "partly_failed": and_(failed, or_(out, still)),
        "failed": and_(failed, not_(out), not_(still)),
    }.get(value)
    if rule is None:  # draft, submitted, rejected, cancelled: the post's own status
        return Post.status == value
    # The rare states first, from the publications' status index: without it a filter that
    # matches nothing ("failed" on a good day) tested all three EXISTS on every post (0.4 s).
    needs = {"failed": ROLLUP_FAILED, "partly_failed": ROLLUP_FAILED,
             "partly_published": _OPEN}.get(value)
    if needs is not None:
        rule = and_(Post.id.in_(select(Publication.post_id)
                                .where(Publication.status.in_(sorted(needs)))), rule)
    return and_(approved, rule)


def _filtered(query: Select[Any], user: User, f: PostFilter) -> Select[Any]:
    query = scope(query, user, Post.unit_id)
    if f.status:
        query = query.where(Post.status == f.status)
    if f.overall_status:
        query = query.where(overall_status_is(f.overall_status))
    if f.text:
        query = query.where(Post.body.ilike(contains_pattern(f.text), escape=LIKE_ESCAPE))
    if f.channel_id is not None:
        query = query.where(Post.id.in_(
            select(PostChannel.post_id).where(PostChannel.channel_id == f.channel_id)))
    if f.campaign_id is not None:
        query = query.where(Post.campaign_id == f.campaign_id)
    if f.author_id is not None:
        query = query.where(Post.author_id == f.author_id)
    if f.created_from is not None:
        query = query.where(Post.created_at >= f.created_from)
    if f.created_before is not None:
        query = query.where(Post.created_at < f.created_before)
    return query


def search_posts(session: Session, user: User, f: PostFilter, page: int = 1,
                 per_page: int = 20) -> PostPage:
    """The posts ``user`` may see that match ``f``, one page of them, newest first.

    Everything a list shows is loaded with the page in a fixed number of queries, whatever
    the page size: unit, author and campaign are joined (the model's defaults), channel and
    media links and the publications (each with its channel, joined) come by ``selectinload``.
    A publication's ``post`` is not joined again: it is the post already loaded.
    """
    page = min(MAX_PAGE, max(1, page))
    per_page = min(MAX_PER_PAGE, max(1, per_page))
    total = session.execute(_filtered(select(func.count(Post.id)), user, f)).scalar_one()
    rows = session.execute(
        _filtered(select(Post), user, f)
        .options(selectinload(Post.channel_links), selectinload(Post.media_links),
                 selectinload(Post.publications).options(lazyload(Publication.post)))
        .order_by(Post.created_at.desc(), Post.id.desc())
        .limit(per_page).offset((page - 1) * per_page)
    ).unique().scalars().all()
    return PostPage(items=list(rows), total=total, page=page, per_page=per_page)


#: Beyond this many matches the list says "more than …" instead of counting them all: a
#: count of 100,000 posts under a rolled-up status filter cost ~0.3 s on SQLite.
COUNT_CAP = 1000


@dataclass(frozen=True)
class KeysetPage:
    """One page of a search and the posts to continue from, either way.

    ``older``/``newer`` are the ids of the last/first post shown when there is more that
    way (``None`` when not); ``total`` is exact up to ``COUNT_CAP``, else ``COUNT_CAP + 1``."""

    items: list[Post]
    total: int
    older: int | None
    newer: int | None
    per_page: int

    @property
    def total_capped(self) -> bool:
        return self.total > COUNT_CAP


def search_posts_keyset(session: Session, user: User, f: PostFilter, *,
                        before: int | None = None, after: int | None = None,
                        per_page: int = 20) -> KeysetPage:
    """Like ``search_posts``, paged by position instead of by offset: the page older than post
    ``before`` (or newer than post ``after``), newest first. An offset makes the database
    walk every earlier row (page 2,000 of a province's year read 40,000 posts); a position
    starts from the (created_at, id) index. A cursor post the user may not see, or that does
    not exist, is ignored: its time would tell something about another unit's work."""
    per_page = min(MAX_PER_PAGE, max(1, per_page))
    anchor_id = before if before is not None else after
    anchor = None
    if anchor_id is not None:
        anchor = session.execute(scope(select(Post.created_at, Post.id), user, Post.unit_id)
                                 .where(Post.id == anchor_id)).one_or_none()
    key = tuple_(Post.created_at, Post.id)
    query = _filtered(select(Post), user, f).options(
        selectinload(Post.channel_links), selectinload(Post.media_links),
        selectinload(Post.publications).options(lazyload(Publication.post)))
    newer_side = anchor is not None and before is None
    if anchor is None:
        query = query.order_by(Post.created_at.desc(), Post.id.desc())
    elif newer_side:
        query = query.where(key > tuple_(anchor.created_at, anchor.id)).order_by(
            Post.created_at, Post.id)
    else:
        query = query.where(key < tuple_(anchor.created_at, anchor.id)).order_by(
            Post.created_at.desc(), Post.id.desc())
    rows = list(session.execute(query.limit(per_page + 1)).unique().scalars())
    more = len(rows) > per_page
    rows = rows[:per_page]
    if newer_side:
        rows.reverse()
    if anchor is None and not more:
        total = len(rows)  # all of it is on this page: a rare match need not be scanned twice
    else:
        counted = _filtered(select(Post.id), user, f).limit(COUNT_CAP + 1).subquery()
        total = session.execute(select(func.count()).select_from(counted)).scalar_one()
    if not rows:
        if anchor is not None:  # nothing beyond the cursor (the list changed): the first page
            return search_posts_keyset(session, user, f, per_page=per_page)
        return KeysetPage([], total, None, None, per_page)
    older = rows[-1].id if (more if not newer_side else True) else None
    newer = rows[0].id if (anchor is not None and (more if newer_side else True)) else None
    return KeysetPage(rows, total, older, newer, per_page)
