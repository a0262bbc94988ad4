"""The weekly unit activity score (issue 20): one number per unit per ISO week, from Warta's
own data, with the components it is made of.

**Week**: Monday 00.00 to the next Monday 00.00 in the *unit's* zone (``period.week_of``); a
week is named by its Monday (``Period.iso_week``, e.g. ``2026-W23``).

**Components**, each 0..100, or None when it cannot be computed (never a made-up 0):

- ``plan`` — published ÷ planned × 100, with the weekly report's own *planned* and *published*
  (``reports.plan.plan_rows``). None when the unit planned nothing that week.
- ``on_time`` — of those published, the share published no later than
  ``ON_TIME_MINUTES`` after their scheduled time (earlier counts as on time). None when
  nothing planned that week was published.
- ``channels`` — the share of the unit's channels that are not switched off and are healthy
  now: status ``active`` (not needing a reconnect) and not paused. Warta keeps no history of
  channel health, so this is only known for the current and the last complete week (the
  weeks ending at most ``CHANNEL_WEEKS`` weeks before ``now``); earlier weeks: None. None also
  for a unit without channels.
- ``engagement`` — the unit's engagement rate in the week (the reports' own
  ``engagement.breakdown`` by unit) against the median of its rates in the ``PAST_WEEKS``
  weeks before: ``min(100, 50 × rate ÷ median)`` — 50 is "as usual", 100 is twice the usual
  or more. None when the week has no rate, fewer than ``MIN_PAST_WEEKS`` past weeks have one,
  or the median is 0.
- ``complaints`` — of the complaints (citizen comments of category ``aduan``) the unit had to
  answer that fell due in the week, the share answered (status ``ditanggapi`` or ``selesai``
  with a first response at or before ``due_at``). None when none fell due.

**Score** = the weighted mean of the available components (``WEIGHTS``); the row names the
missing ones. No component at all: no score (None), ranked last.

**Ranking**: by score, highest first; units without a score last; ties by name.

Queries: per distinct unit zone, one grouped query per component (and one engagement query per
week read), never one per unit.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from publisher.models import Channel, ChannelStatus, Post, Publication, PublicationStatus, Unit
from publisher.models.inbox import CitizenComment, CommentCategory, CommentStatus
from publisher.reports import engagement as e
from publisher.reports.period import Period, week_of
from publisher.reports.plan import plan_rows, reader, request

COMPONENTS = ("plan", "on_time", "channels", "engagement", "complaints")
#: Weights of the components in the score (only the available ones count).
WEIGHTS = {"plan": 30, "on_time": 20, "channels": 15, "engagement": 20, "complaints": 15}
ON_TIME_MINUTES = 15
PAST_WEEKS = 8
MIN_PAST_WEEKS = 2
#: Channel health is current state: known only for weeks ending this recently.
CHANNEL_WEEKS = 1
TREND_WEEKS = 8


@dataclass
class UnitScore:
    unit_id: int
    unit: str
    week: Period
    components: dict[str, float | None] = field(default_factory=dict)
    rank: int | None = None

    @property
    def missing(self) -> list[str]:
        return [c for c in COMPONENTS if self.components.get(c) is None]

    @property
    def score(self) -> float | None:
        have = {c: v for c, v in self.components.items() if v is not None}
        if not have:
            return None
        return sum(WEIGHTS[c] * v for c, v in have.items()) / sum(WEIGHTS[c] for c in have)


def _aware(dt: datetime | None) -> datetime | None:
    return None if dt is None else (dt if dt.tzinfo else dt.replace(tzinfo=UTC))


def _pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _units_by_zone(session: Session) -> dict[str, dict[int, str]]:
    zones: dict[str, dict[int, str]] = defaultdict(dict)
    for uid, name, zone in session.execute(select(Unit.id, Unit.name, Unit.timezone)):
        zones[zone or "Asia/Jakarta"][uid] = name
    return zones


def _on_time(session: Session, week: Period, ids: set[int]) -> dict[int, float | None]:
    """One query: the week's planned publications that are published, per unit."""
    q = (select(Post.unit_id, Publication.scheduled_at, Publication.published_at)
         .select_from(Publication).join(Post, Post.id == Publication.post_id)
         .where(Publication.scheduled_at >= week.start, Publication.scheduled_at < week.end,
                Publication.status == PublicationStatus.PUBLISHED, Post.unit_id.in_(ids)))
    late = timedelta(minutes=ON_TIME_MINUTES)
    done: dict[int, int] = defaultdict(int)
    ok: dict[int, int] = defaultdict(int)
    for uid, sched, pub in session.execute(q):
        done[uid] += 1
        s, p = _aware(sched), _aware(pub)
        if s is not None and p is not None and p <= s + late:
            ok[uid] += 1
    return {uid: _pct(ok[uid], n) for uid, n in done.items()}


def _channels(session: Session, ids: set[int], now: datetime) -> dict[int, float | None]:
    """One query: the units' channels that are not switched off, healthy or not."""
    q = (select(Channel.unit_id, Channel.status, Channel.paused_until)
         .where(Channel.status != ChannelStatus.DISABLED, Channel.unit_id.in_(ids)))
    total: dict[int, int] = defaultdict(int)
    ok: dict[int, int] = defaultdict(int)
    for uid, status, paused in session.execute(q):
        total[uid] += 1
        p = _aware(paused)
        if status == ChannelStatus.ACTIVE and (p is None or p <= now):
            ok[uid] += 1
    return {uid: _pct(ok[uid], n) for uid, n in total.items()}


def _complaints(session: Session, week: Period, ids: set[int]) -> dict[int, float | None]:
    """One grouped query: complaints falling due in the week, and those answered in time."""
    c = CitizenComment
    answered = case((c.status.in_((CommentStatus.RESPONDED, CommentStatus.DONE))
                     & c.responded_at.is_not(None) & (c.responded_at <= c.due_at), 1), else_=0)
    q = (select(c.unit_id, func.count().label("due"), func.sum(answered).label("ok"))
         .where(c.category == CommentCategory.COMPLAINT, c.due_at >= week.start,
                c.due_at < week.end, c.unit_id.in_(ids))
         .group_by(c.unit_id))
    return {r.unit_id: _pct(int(r.ok or 0), int(r.due)) for r in session.execute(q)}


def _rates(session: Session, mondays: list[date], zone: str) -> dict[date, dict[int, float]]:
    """The engagement rate per unit for each week (one grouped query per week)."""
    admin = reader(None)
    out: dict[date, dict[int, float]] = {}
    for monday in mondays:
        req = request(week_of(monday, zone), None)
        rows = e.breakdown(session, admin, req.filter, "unit", zone)
        out[monday] = {r["key"]: r["engagement_rate"] for r in rows
                       if r["engagement_rate"] is not None}
    return out


def engagement_component(rate: float | None, past: list[float]) -> float | None:
    """``min(100, 50 × rate ÷ median(past))``, or None (see the module docstring)."""
    if rate is None or len(past) < MIN_PAST_WEEKS:
        return None
    median = statistics.median(past)
    if median <= 0:
        return None
    return min(100.0, 50.0 * rate / median)


def scores(session: Session, mondays: list[date], now: datetime) -> dict[date, list[UnitScore]]:
    """Every unit's score for each week (named by its Monday), ranked. Callers decide what a
    viewer may see (``visible``): the ranking itself needs every unit."""
    now = _aware(now) or now
    out: dict[date, list[UnitScore]] = {m: [] for m in mondays}
    admin = reader(None)
    for zone, names in _units_by_zone(session).items():
        ids = set(names)
        need = sorted({m - timedelta(weeks=k) for m in mondays for k in range(PAST_WEEKS + 1)})
        rates = _rates(session, need, zone)
        health = _channels(session, ids, now)
        for monday in mondays:
            week = week_of(monday, zone)
            plan = {r.unit_id: _pct(r.published, r.planned)
                    for r in plan_rows(session, admin, request(week, None), {})}
            on_time = _on_time(session, week, ids)
            complaints = _complaints(session, week, ids)
            recent = week.end >= now - timedelta(weeks=CHANNEL_WEEKS)
            for uid, name in names.items():
                past = [rates[monday - timedelta(weeks=k)][uid]
                        for k in range(1, PAST_WEEKS + 1)
                        if uid in rates[monday - timedelta(weeks=k)]]
                out[monday].append(UnitScore(uid, name, week, {
                    "plan": plan.get(uid), "on_time": on_time.get(uid),
                    "channels": health.get(uid) if recent else None,
                    "engagement": engagement_component(rates[monday].get(uid), past),
                    "complaints": complaints.get(uid)}))
    for rows in out.values():
        rank(rows)
    return out


def rank(rows: list[UnitScore]) -> list[UnitScore]:
    """Sort in place, highest score first, no score last, ties by name; set ``rank``
    (1-based; units without a score get no rank)."""
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0.0), r.unit.lower()))
    for i, r in enumerate(rows, 1):
        r.rank = i if r.score is not None else None
    return rows


def trend_mondays(last: date, weeks: int = TREND_WEEKS) -> list[date]:
    """The ``weeks`` Mondays ending with ``last``, oldest first."""
    return [last - timedelta(weeks=k) for k in range(weeks - 1, -1, -1)]
