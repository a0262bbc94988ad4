"""Working the citizens' inbox (issue 19): who sees a comment, the one transition table of
its status, triage (a category by hand, a keyword suggestion that names its keyword), and
forwarding to the unit that must answer, with a history row for every step.

A unit sees the comments on its own posts and those forwarded to it (now or earlier); any
other comment is *not found* (404), exactly like another unit's post. Only the unit that holds
a comment now (and admins) may change it: a unit that forwarded it, or whose post it is, reads
its history but can no longer close, re-route or recategorise what another unit must answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from publisher.models import (
    CitizenComment,
    CommentCategory,
    CommentEvent,
    CommentKeyword,
    CommentStatus,
    Role,
    Unit,
    User,
)
from publisher.services import audit
from publisher.services.errors import Forbidden, Invalid, NotFound, Text

S = CommentStatus
#: The one transition table (a test walks all of it). "diteruskan" is reached only by
#: forwarding, which has its own rule (``FORWARDABLE``).
TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset({S.RESPONDED, S.DONE, S.NO_ACTION}),
    S.FORWARDED: frozenset({S.RESPONDED, S.DONE, S.NO_ACTION}),
    S.RESPONDED: frozenset({S.DONE}),
    S.DONE: frozenset({S.RESPONDED}),
    S.NO_ACTION: frozenset({S.NEW}),
}
FORWARDABLE = frozenset({S.NEW, S.FORWARDED, S.RESPONDED})
#: The order a suggestion is looked for in: spam first (a link-bait "aduan" is still spam).
SUGGEST_ORDER = (CommentCategory.SPAM, CommentCategory.COMPLAINT, CommentCategory.QUESTION,
                 CommentCategory.SUGGESTION, CommentCategory.APPRECIATION)
MAX_NOTE = 2000


def visible(query: Select, user: User) -> Select:
    """Restrict a query of comments to what ``user`` may see."""
    if user.role == Role.ADMIN:
        return query
    forwarded = select(CommentEvent.comment_id).where(CommentEvent.kind == "forward",
                                                      CommentEvent.to_unit_id == user.unit_id)
    return query.where(or_(CitizenComment.origin_unit_id == user.unit_id,
                           CitizenComment.unit_id == user.unit_id,
                           CitizenComment.id.in_(forwarded)))


def get_comment(session: Session, user: User, comment_id: int) -> CitizenComment:
    row = session.execute(visible(select(CitizenComment).where(
        CitizenComment.id == comment_id), user)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"Komentar #{comment_id} tidak ditemukan.",
                       f"Comment #{comment_id} was not found.")
    return row


def comment_to_act_on(session: Session, user: User, comment_id: int) -> CitizenComment:
    """The comment, for a change: 404 when ``user`` may not see it, 403 when another unit
    holds it now."""
    row = get_comment(session, user, comment_id)
    if user.role != Role.ADMIN and row.unit_id != user.unit_id:
        holder = session.get(Unit, row.unit_id)
        name = holder.name if holder else "?"
        raise Forbidden(f"Komentar ini sekarang ditangani oleh {name}; hanya unit itu yang "
                        "dapat mengubahnya.",
                        f"{name} handles this comment now; only that unit can change it.",
                        code="not_holder")
    return row


# -- triage ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    category: str
    keyword: str


def keywords(session: Session) -> dict[str, list[str]]:
    """The admins' keywords per category (bounded: a few hundred at most in practice)."""
    out: dict[str, list[str]] = {c.value: [] for c in CommentCategory}
    for cat, word in session.execute(select(CommentKeyword.category, CommentKeyword.keyword)
                                     .order_by(CommentKeyword.keyword).limit(5000)):
        out.setdefault(cat, []).append(word)
    return out


def suggest(text: str, words: dict[str, list[str]]) -> Suggestion | None:
    """The first category (``SUGGEST_ORDER``) with a keyword found in ``text`` as a whole word
    or phrase, case-insensitively; the keyword is the reason shown. Never a score."""
    lowered = text.casefold()
    for cat in SUGGEST_ORDER:
        for word in sorted(words.get(cat, []), key=len, reverse=True):
            w = word.casefold().strip()
            if w and re.search(rf"(?<!\w){re.escape(w)}(?!\w)", lowered):
                return Suggestion(cat, word)
    return None


def set_keywords(session: Session, user: User, category: str, words: Sequence[str]) -> None:
    """Replace one category's keywords (admins only)."""
    _admin(user)
    if category not in {c.value for c in CommentCategory}:
        raise _bad("category", "Kategori tidak dikenal.", "Unknown category.")
    clean = sorted({w.strip() for w in words if w.strip()})
    long = [w for w in clean if len(w) > 100]
    if long or len(clean) > 200:
        raise _bad("keywords", "Paling banyak 200 kata kunci, masing-masing ≤ 100 karakter.",
                   "At most 200 keywords, each of at most 100 characters.")
    for row in session.execute(select(CommentKeyword).where(
            CommentKeyword.category == category)).scalars():
        session.delete(row)
    session.flush()
    session.add_all(CommentKeyword(category=category, keyword=w) for w in clean)
    audit.record(session, "inbox.keywords", "comment_keywords", None, actor=user,
                 data={"category": category, "count": len(clean)})


def set_category(session: Session, user: User, comment_id: int, category: str | None,
                 *, now: datetime) -> CitizenComment:
    row = comment_to_act_on(session, user, comment_id)
    value = category or None
    if value is not None and value not in {c.value for c in CommentCategory}:
        raise _bad("category", "Kategori tidak dikenal.", "Unknown category.")
    if value != row.category:
        _event(session, row, user, "category", row.category, value, now=now)
        row.category = value
        row.updated_at = now
        audit.record(session, "comment.category", "comment", row.id, actor=user,
                     unit_id=row.unit_id, data={"category": value}, at=now)
    return row


# -- status and routing ---------------------------------------------------------------------
def set_status(session: Session, user: User, comment_id: int, status: str, *,
               now: datetime, note: str | None = None) -> CitizenComment:
    row = comment_to_act_on(session, user, comment_id)
    if status not in TRANSITIONS.get(row.status, frozenset()):
        raise _bad("status", f"Status tidak dapat diubah dari '{row.status}' ke '{status}'.",
                   f"The status cannot change from '{row.status}' to '{status}'.")
    _event(session, row, user, "status", row.status, status, now=now, note=_note(note))
    row.status = status
    if status == S.RESPONDED and row.responded_at is None:
        row.responded_at = now
    row.updated_at = now
    audit.record(session, "comment.status", "comment", row.id, actor=user, unit_id=row.unit_id,
                 data={"status": status}, at=now)
    return row


def forward(session: Session, user: User, comment_id: int, to_unit_id: int, note: str | None,
            *, now: datetime) -> CitizenComment:
    """Hand the comment to the unit that must answer it; the deadline keeps running (the
    citizen has waited since they wrote)."""
    row = comment_to_act_on(session, user, comment_id)
    unit = session.get(Unit, to_unit_id) if to_unit_id else None
    if unit is None:
        raise _bad("unit_id", "Pilih unit tujuan.", "Choose the receiving unit.")
    if unit.id == row.unit_id:
        raise _bad("unit_id", "Komentar ini sudah ditangani unit tersebut.",
                   "That unit already handles this comment.")
    if row.status not in FORWARDABLE:
        raise _bad("status", "Komentar yang sudah selesai tidak dapat diteruskan.",
                   "A closed comment cannot be forwarded.")
    clean = _note(note)
    session.add(CommentEvent(comment_id=row.id, kind="forward", from_unit_id=row.unit_id,
                             to_unit_id=unit.id, from_value=row.status, to_value=S.FORWARDED,
                             note=clean, user_id=user.id, at=now))
    row.unit_id = unit.id
    row.status = S.FORWARDED
    row.updated_at = now
    # The receiving unit's bell (and, when the notification kinds include it, its e-mail).
    audit.record(session, "comment.forward", "comment", row.id, actor=user, unit_id=unit.id,
                 data={"to_unit": unit.name, "note": (clean or "")[:300]}, at=now)
    return row


def history(session: Session, comment_id: int) -> list[CommentEvent]:
    return list(session.execute(select(CommentEvent).where(
        CommentEvent.comment_id == comment_id).order_by(CommentEvent.at, CommentEvent.id)
        .limit(500)).scalars())


def _event(session: Session, row: CitizenComment, user: User, kind: str, old: str | None,
           new: str | None, *, now: datetime, note: str | None = None) -> None:
    session.add(CommentEvent(comment_id=row.id, kind=kind, from_value=old, to_value=new,
                             note=note, user_id=user.id, at=now))


def _note(note: str | None) -> str | None:
    clean = (note or "").strip()
    if len(clean) > MAX_NOTE:
        raise _bad("note", f"Catatan paling banyak {MAX_NOTE} karakter.",
                   f"A note has at most {MAX_NOTE} characters.")
    return clean or None


def _admin(user: User) -> None:
    from publisher.services.access import require_role

    require_role(user, Role.ADMIN)


def _bad(field: str, message: str, en: str) -> Invalid:
    return Invalid(message, en, fields={field: Text(message, en)})
