"""Storing what a collection pass read: one row per platform comment (edits update it,
reappearances unmark it), the pass's position saved in the same transaction as the page's
comments, and the end of a pass (what a complete listing no longer shows was deleted).

Why the position commits with the comments: a worker killed between two pages restarts from
the saved cursor — the pages it stored are not read again, the one it did not store is — so
the inbox has no gap, and the unique (channel, platform id) makes any re-read a no-op.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.base import CommentPage, IncomingComment
from publisher.models import (
    CitizenComment,
    CommentReply,
    CommentSource,
    Publication,
    PublicationStatus,
    Unit,
)
from publisher.services.working_days import due_at

MAX_TEXT = 20_000


def begin_pass(source: CommentSource, now: datetime) -> datetime:
    """The start of the pass under way (a new one when the last one ended)."""
    if source.pass_started_at is None or source.cursor is None:
        source.pass_started_at = now
    return _aware(source.pass_started_at)


def store_page(session: Session, source: CommentSource, pub: Publication, platform: str,
               page: CommentPage, *, now: datetime, newest_first: bool) -> bool:
    """Store one page and move the source on; True when the pass is complete.

    ``newest_first`` (YouTube): the pass ends at the first comment stored before it began —
    everything after it is older and already here."""
    pass_start = begin_pass(source, now)
    ids = [c.id for c in page.comments]
    known = {c.external_id: c for c in session.execute(select(CitizenComment).where(
        CitizenComment.channel_id == pub.channel_id,
        CitizenComment.external_id.in_(ids))).scalars()} if ids else {}
    unit = session.get(Unit, pub.post.unit_id)
    zone = unit.timezone if unit else "Asia/Jakarta"
    reached_known = False
    for c in page.comments:
        row = known.get(c.id)
        if row is None:
            row = _new(session, c, pub, platform, zone, now)
            known[c.id] = row
        else:
            if _aware(row.collected_at) < pass_start:
                reached_known = True
            _update(row, c, now)
        row.seen_at = pass_start
    complete = page.next_cursor is None or (newest_first and reached_known)
    if not complete:
        source.cursor = dict(page.next_cursor or {})
        return False
    if not newest_first:
        # A full listing ended: what it did not show is gone from the platform.
        session.execute(update(CitizenComment).where(
            CitizenComment.publication_id == pub.id, CitizenComment.seen_at < pass_start,
            CitizenComment.deleted_at.is_(None)).values(deleted_at=now, updated_at=now))
    source.cursor = None
    source.pass_started_at = None
    source.last_complete_at = now
    source.last_error = None
    return True


def store_updates(session: Session, channels_by_scope: Mapping[str, list[int]],
                  own_by_scope: Mapping[str, set[str]], platform: str,
                  items: tuple[tuple[str | None, IncomingComment], ...], *,
                  now: datetime) -> int:
    """Store what a stream read brought (``comments_by_updates``) under the channels of the
    comment's scope (``<scope>:<id>``: one bot's stream may serve several channels, each with
    its own discussion group); how many comments were new or changed. A comment from a
    scope no channel has is skipped, and so is one by the office's own speakers there
    (``own_by_scope``: author ids, e.g. the channel posting as itself).

    There is no "complete listing" here, so nothing is marked deleted. A comment is filed
    under the channel's publication whose platform id it names, or, for a reply to another
    comment or to the office's own reply, under the publication of what it answers (stored
    earlier in this read or before). A comment under a post Warta did not publish is not
    the office's to answer, and is skipped."""
    zones: dict[int, str] = {}
    pubs: dict[tuple[str, str], Publication | None] = {}
    changed = 0
    for post_id, c in items:
        scope = c.id.rpartition(":")[0]
        channel_ids = channels_by_scope.get(scope)
        if not channel_ids or (c.author_id is not None
                               and c.author_id in own_by_scope.get(scope, set())):
            continue
        row = _known(session, channel_ids, c.id)
        if row is not None:
            _update(row, c, now)
            row.seen_at = now
            changed += 1
            continue
        pub = _publication_for(session, channel_ids, post_id, c.parent_id, pubs, scope)
        if pub is None:
            continue
        unit_id = pub.post.unit_id
        if unit_id not in zones:
            unit = session.get(Unit, unit_id)
            zones[unit_id] = unit.timezone if unit else "Asia/Jakarta"
        _new(session, c, pub, platform, zones[unit_id], now)
        session.flush()  # a reply to it later in the same read finds it
        changed += 1
    return changed


def _known(session: Session, channel_ids: list[int], external_id: str) -> CitizenComment | None:
    return session.execute(select(CitizenComment).where(
        CitizenComment.channel_id.in_(channel_ids),
        CitizenComment.external_id == _storable(external_id)[:200])).scalars().first()


def _publication_for(session: Session, channel_ids: list[int], post_id: str | None,
                     parent_id: str | None, cache: dict[tuple[str, str], Publication | None],
                     scope: str) -> Publication | None:
    if post_id is not None:
        if (scope, post_id) not in cache:
            cache[scope, post_id] = session.execute(select(Publication).where(
                Publication.channel_id.in_(channel_ids), Publication.external_id == post_id,
                Publication.status == PublicationStatus.PUBLISHED)
                .order_by(Publication.id)).scalars().first()
        return cache[scope, post_id]
    if parent_id is None:
        return None
    parent = _known(session, channel_ids, parent_id)
    if parent is not None:
        return session.get(Publication, parent.publication_id)
    reply = session.execute(select(CommentReply).where(
        CommentReply.channel_id.in_(channel_ids),
        CommentReply.external_id == parent_id)).scalars().first()
    if reply is None:
        return None
    answered = session.get(CitizenComment, reply.comment_id)
    return session.get(Publication, answered.publication_id) if answered else None


def _new(session: Session, c: IncomingComment, pub: Publication, platform: str, zone: str,
         now: datetime) -> CitizenComment:
    posted = c.created_at or now
    unit_id = pub.post.unit_id
    row = CitizenComment(
        channel_id=pub.channel_id, publication_id=pub.id, platform=platform,
        external_id=_storable(c.id)[:200], parent_external_id=_cut(c.parent_id, 200),
        author_name=_cut(c.author_name, 300), author_handle=_cut(c.author_handle, 300),
        text=_storable(c.text)[:MAX_TEXT], posted_at=posted, edited_at=c.updated_at,
        hidden=bool(c.hidden), origin_unit_id=unit_id, unit_id=unit_id,
        due_at=due_at(session, unit_id, zone, posted), collected_at=now, seen_at=now,
        updated_at=now)
    session.add(row)
    return row


def _update(row: CitizenComment, c: IncomingComment, now: datetime) -> None:
    if row.redacted_at is not None:
        # Retention removed who wrote it and what it said: a later read must not bring
        # either back (services/inbox_retention.py). Hidden and deleted marks still follow.
        if c.hidden is not None and c.hidden != row.hidden:
            row.hidden, row.updated_at = c.hidden, now
        if row.deleted_at is not None:
            row.deleted_at, row.updated_at = None, now
        return
    text = _storable(c.text)[:MAX_TEXT]
    if text != row.text:
        row.text = text
        row.edited_at = c.updated_at or now
        row.updated_at = now
    if c.author_name and _cut(c.author_name, 300) != row.author_name:
        row.author_name = _cut(c.author_name, 300)
    if c.author_handle and _cut(c.author_handle, 300) != row.author_handle:
        row.author_handle = _cut(c.author_handle, 300)
    if c.hidden is not None and c.hidden != row.hidden:
        row.hidden = c.hidden
        row.updated_at = now
    if row.deleted_at is not None:  # listed again: it was only out of reach for a while
        row.deleted_at = None
        row.updated_at = now


def _cut(value: str | None, limit: int) -> str | None:
    return _storable(value)[:limit] if value else None


def _storable(value: str) -> str:
    """A citizen's text as every backend stores it: PostgreSQL refuses NUL in text, and no
    driver encodes a lone surrogate; one such comment must not stop a channel's collection."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _aware(at: datetime) -> datetime:
    """SQLite hands datetimes back naive; they are stored UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)
