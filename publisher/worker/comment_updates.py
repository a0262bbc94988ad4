"""Comments that arrive as a stream per account (``caps.comments_by_updates``: Telegram's
discussion group, read through the bot's updates) rather than as a listing per post.

Why a stream needs its own loop: the platform keeps unread updates for a short time only
(Telegram: about 24 hours), so the account is read every ``POLL_EVERY`` while it has any
published post, not on the decaying per-post schedule; and one read serves every post.
The position (Telegram's ``offset``) is saved in the channel's state in the same
transaction as the comments it brought: a worker killed before that commit reads the same
updates again (Telegram forgets an update only when asked with a later offset), one killed
after it never asks for them again, so nothing is lost and nothing is stored twice (the
unique platform id per channel backs this up).

One bot may serve several channels (an office's one bot in every unit's channel): the
updates it brings are filed under whichever of those channels' groups they came from, and
their jobs share one queue lock key (``updates_lock``), so two reads of one bot never run
at once. The notification bot's updates are Warta's notifications' own
(``publisher/notify/telegram_updates.py``): a channel using that same bot is not read.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import postqueue
from adapters import get_adapter_class
from adapters._telegram_comments import NOTIFY_BOT, SHARED, bot_id, parse_stamp
from adapters.base import COMMENT_UPDATES, BaseAdapter
from adapters.errors import AdapterError
from publisher.core import Core
from publisher.jobs import COLLECT_COMMENTS
from publisher.models import Channel, ChannelStatus, CommentSource, Publication
from publisher.runtime import build_adapter, channel_credentials
from publisher.services.channel_state import save_changes
from publisher.services.inbox_collect import store_updates
from publisher.worker.outcome import next_metrics_time
from publisher.worker.results import DONE, JobResult

log = logging.getLogger(__name__)
#: How often an account's stream is read while it has published posts (Telegram keeps an
#: unread update about 24 hours: a worker down for a few hours still loses nothing).
POLL_EVERY = timedelta(minutes=5)
#: Reads per job (100 updates each); the rest waits for the next sweep.
MAX_READS_PER_JOB = 20
#: Channels of the same bot whose group one job looks at before reading (new channels).
MAX_SIBLING_CHECKS = 20


def stream_platforms(platforms: list[str]) -> list[str]:
    return [p for p in platforms if get_adapter_class(p).caps.comments_by_updates]


def updates_lock(bot: str) -> str:
    return f"comment-updates:{bot}"


def sweep_updates(session: Session, platforms: list[str], now: datetime) -> int:
    """Queue a read of every stream account that has published posts and was not read in
    the last ``POLL_EVERY`` (or has a post whose "read now" or schedule is due)."""
    if not platforms:
        return 0
    with_posts = select(CommentSource.channel_id).distinct()
    due_now = set(session.execute(select(CommentSource.channel_id).where(
        CommentSource.next_collect_at <= now).distinct()).scalars())
    n = 0
    for cid, state in session.execute(
            select(Channel.id, Channel.state).where(
                Channel.platform.in_(platforms), Channel.status == ChannelStatus.ACTIVE,
                Channel.id.in_(with_posts)).order_by(Channel.id)):
        position = (state or {}).get(COMMENT_UPDATES) or {}
        polled = parse_stamp(position.get("polled_at"))
        if cid not in due_now and polled is not None and now - polled < POLL_EVERY:
            continue
        bot = (state or {}).get("bot_id") or position.get("bot")
        if postqueue.enqueue(session, COLLECT_COMMENTS, {"channel_id": cid}, run_at=now,
                             dedupe_key=f"comments:{cid}", now=now,
                             lock_key=updates_lock(str(bot)) if bot else None) is not None:
            n += 1
    return n


def handle_updates(core: Core, channel_id: int, adapter: BaseAdapter, token: str,
                   before: dict[str, Any], state: dict[str, Any]) -> JobResult:
    """Read the bot's stream until it is empty (or the job's bound), storing each read with
    its position, filing each group's comments under that group's channel, and keeping the
    bot's part of the position the same on all its channels. ``before``/``state``: the
    channel's state as read, and the adapter's copy."""
    now = core.now()
    platform = adapter.platform
    bot = bot_id(token)
    position: dict[str, Any] = dict(state.get(COMMENT_UPDATES) or {})
    notify = core.settings.notify_telegram_token
    if bot and notify and bot == bot_id(notify):
        position.update(problem=NOTIFY_BOT, polled_at=now.isoformat())
        state[COMMENT_UPDATES] = position
        _save(core, channel_id, before, state)
        _schedule_sources(core, [channel_id], now)
        return DONE
    if position.get("problem") == NOTIFY_BOT:
        position.pop("problem")
    _check_siblings(core, platform, channel_id, bot)
    with core.sessions() as s:
        position.update(_freshest_shared(_siblings(s, platform, channel_id, bot), position,
                                         bot))
    served: set[int] = {channel_id}
    for _ in range(MAX_READS_PER_JOB):
        read = adapter.comment_updates(position)  # RetryLater goes to the caller
        position = dict(read.position)
        position["polled_at"] = core.now().isoformat()
        state[COMMENT_UPDATES] = position
        with core.sessions.begin() as s:
            siblings = _siblings(s, platform, channel_id, bot)
            scopes, own = _scopes(channel_id, position, siblings)
            store_updates(s, scopes, own, platform, read.comments, now=core.now())
            save_changes(s, channel_id, before, state)
            _replicate(s, position, siblings)
        served.update(cid for ids in scopes.values() for cid in ids)
        before = copy.deepcopy(state)
        if not read.more:
            break
    _schedule_sources(core, sorted(served), now)
    return DONE


def _siblings(session: Session, platform: str, channel_id: int,
              bot: str) -> list[tuple[int, dict[str, Any]]]:
    """The other channels of the same bot (whatever their status: a disabled or paused
    channel's comments are still its own), with their stored state."""
    if not bot:
        return []
    out = []
    for cid, state in session.execute(select(Channel.id, Channel.state).where(
            Channel.platform == platform, Channel.id != channel_id).order_by(Channel.id)):
        state = dict(state or {})
        position = state.get(COMMENT_UPDATES) or {}
        if str(state.get("bot_id") or position.get("bot") or "") == bot:
            out.append((cid, state))
    return out


def _check_siblings(core: Core, platform: str, channel_id: int, bot: str) -> None:
    """A channel of this bot whose group is not known yet would lose the comments this read
    takes from its group: look at its group first (no update is taken)."""
    with core.sessions() as s:
        todo = [cid for cid, state in _siblings(s, platform, channel_id, bot)
                if not (state.get(COMMENT_UPDATES) or {}).get("checked_at")
                or str((state.get(COMMENT_UPDATES) or {}).get("bot")) != bot][:MAX_SIBLING_CHECKS]
    for cid in todo:
        try:
            with core.sessions() as s:
                channel = s.get_one(Channel, cid)
                before = copy.deepcopy(dict(channel.state or {}))
                state = copy.deepcopy(before)
                other = build_adapter(core, platform, channel_credentials(core, channel),
                                      state=state)
            read = other.comment_updates(state.get(COMMENT_UPDATES), consume=False)
        except AdapterError as exc:
            log.warning("group of channel %s could not be checked: %s", cid, exc.message_en)
            continue
        state[COMMENT_UPDATES] = {**dict(read.position),
                                  **{k: v for k, v in (before.get(COMMENT_UPDATES) or {})
                                     .items() if k in SHARED}}
        _save(core, cid, before, state)


def _freshest_shared(siblings: list[tuple[int, dict[str, Any]]], position: dict[str, Any],
                     bot: str) -> dict[str, Any]:
    """The bot's part of the position as far as any of its channels got (the offsets are
    kept equal; the furthest one is the truth if a write was ever missed)."""
    best = {k: position[k] for k in SHARED if k in position}
    for _cid, state in siblings:
        other = state.get(COMMENT_UPDATES) or {}
        if str(other.get("bot")) == bot and int(other.get("offset") or 0) > int(
                best.get("offset") or 0):
            best = {k: other[k] for k in SHARED if k in other}
    return best


def _scopes(channel_id: int, position: dict[str, Any],
            siblings: list[tuple[int, dict[str, Any]]],
            ) -> tuple[dict[str, list[int]], dict[str, set[str]]]:
    """By group: the channels whose comments it holds, and the office's own speakers there
    (the channel posting as itself, the group's anonymous admins)."""
    scopes: dict[str, list[int]] = {}
    own: dict[str, set[str]] = {}
    for cid, pos in [(channel_id, position)] + [
            (cid, state.get(COMMENT_UPDATES) or {}) for cid, state in siblings]:
        group = pos.get("group")
        if group is None:
            continue
        scopes.setdefault(str(group), []).append(cid)
        own.setdefault(str(group), {str(group)}).update(
            {str(pos["channel_chat"])} if pos.get("channel_chat") is not None else set())
    return scopes, own


def _replicate(session: Session, position: dict[str, Any],
               siblings: list[tuple[int, dict[str, Any]]]) -> None:
    """The bot's part of the position onto its other channels (in the read's transaction)."""
    for cid, state in siblings:
        theirs = dict(state.get(COMMENT_UPDATES) or {})
        if str(theirs.get("bot")) != str(position.get("bot")):
            continue  # not looked at yet: its own first read starts it
        after = {**state, COMMENT_UPDATES: {**theirs, **{k: position[k] for k in SHARED
                                                         if k in position}}}
        save_changes(session, cid, state, after)


def _schedule_sources(core: Core, channel_ids: list[int], now: datetime) -> None:
    """The due posts of these channels were served by this read: their schedule moves on
    (what "read now" and the inbox's "last read" show)."""
    with core.sessions.begin() as s:
        due = s.execute(select(CommentSource, Publication.published_at)
                        .join(Publication, Publication.id == CommentSource.publication_id)
                        .where(CommentSource.channel_id.in_(channel_ids),
                               CommentSource.next_collect_at <= now)).all()
        for src, published_at in due:
            src.next_collect_at, src.stage = next_metrics_time(_aware(published_at or now), now)
            src.last_complete_at = now
            src.last_error = None


def _save(core: Core, channel_id: int, before: dict[str, Any], after: dict[str, Any]) -> None:
    with core.sessions.begin() as s:
        save_changes(s, channel_id, before, after)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)

