"""Saving a job's changes to ``Channel.state`` without erasing another job's.

Publish, metrics and comment jobs run side by side on one channel (only publishing holds
the channel), each with its own copy of the state taken when it started. Writing that copy
back whole would undo whatever the others saved meanwhile: a Reel's ``fb_uploads`` record
(the crash lookup depends on it, so losing it can publish twice), its ``reels_log`` (the
30-a-day count) or YouTube quota spent by comment reads. So a writer saves only the
difference between its snapshot and its result, applied to the row re-read under a lock.

Granularity: a top-level key, and one level deeper when both sides are dicts (two
publications of one channel each add their own ``fb_uploads`` entry). A day counter
``{"day", "used"}`` (YouTube's quota, spent by publish AND comment reads) adds this job's
spending to what is stored, instead of replacing it.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from adapters.base import API_USAGE
from publisher.models import Channel

_GONE = object()


def save_changes(session: Session, channel_id: int, before: dict[str, Any],
                 after: dict[str, Any]) -> dict[str, Any] | None:
    """Apply ``after``'s changes since ``before`` to the channel's stored state (locked
    row on PostgreSQL; SQLite's write transaction is already exclusive). Returns the
    merged state, or None when the channel is gone."""
    stored = session.execute(select(Channel.state).where(Channel.id == channel_id)
                             .with_for_update()).first()
    if stored is None:
        return None
    merged = merge(dict(stored[0] or {}), before, after)
    session.execute(update(Channel).where(Channel.id == channel_id).values(state=merged))
    return merged


def merge(fresh: dict[str, Any], before: dict[str, Any], after: dict[str, Any],
          depth: int = 1) -> dict[str, Any]:
    """``fresh`` with the keys ``after`` changed or removed relative to ``before``; dicts
    ``depth`` levels down are merged the same way, deeper a changed value replaces."""
    out = dict(fresh)
    for key in set(before) | set(after):
        old, new = before.get(key, _GONE), after.get(key, _GONE)
        if old == new:
            continue
        if new is _GONE:
            out.pop(key, None)
        elif key == API_USAGE:
            out[key] = _newer_reading(out.get(key), new)
        elif _is_day_counter(new) and _is_day_counter(out.get(key)):
            out[key] = _add_spending(out[key], old, new)
        elif depth > 0 and isinstance(new, dict) and isinstance(old, dict) \
                and isinstance(out.get(key), dict):
            out[key] = merge(dict(out[key]), old, new, depth - 1)
        else:
            out[key] = new
    return out


def _newer_reading(stored: Any, new: Any) -> Any:
    """A usage reading is one value, whole: of the stored one and this job's, the later wins
    (mixing the fields of two readings would make a figure nobody read)."""
    if not isinstance(stored, dict) or not isinstance(new, dict):
        return new
    return new if str(new.get("at") or "") >= str(stored.get("at") or "") else stored


def _is_day_counter(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"day", "used"}


def _add_spending(stored: dict[str, Any], old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """This job's units on top of the stored count of the same day; a newer day wins."""
    if str(new["day"]) != str(stored["day"]):
        return new if str(new["day"]) > str(stored["day"]) else stored
    spent_before = int(old["used"]) if _is_day_counter(old) and old["day"] == new["day"] else 0
    return {"day": new["day"], "used": int(stored["used"]) + int(new["used"]) - spent_before}
