"""The one fact table every report aggregates: published publications with their latest
snapshot as of the period's end, restricted to what the viewer may see.

The latest-snapshot lookup is the expensive part. It is an index seek per publication on
``ix_snapshot_pub_time (publication_id, collected_at)``: a LATERAL subquery on PostgreSQL, a
correlated scalar subquery on the snapshot's rowid on SQLite (which has no LATERAL). Publications
are found through ``ix_publication_published_at`` (or the unit/campaign indexes when filtered).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Column, MetaData, Select, Table, case, func, insert, select, true
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from publisher.models import (
    Campaign,
    Channel,
    MetricSnapshot,
    Post,
    Publication,
    PublicationStatus,
    Unit,
    User,
)
from publisher.reports import metrics as m
from publisher.services.access import scope


@dataclass(frozen=True)
class ReportFilter:
    """What one report looks at. ``start``/``end`` bound ``published_at`` (half-open, UTC)."""

    start: datetime
    end: datetime
    unit_id: int | None = None
    platform: str | None = None
    channel_id: int | None = None
    campaign_id: int | None = None
    post_id: int | None = None
    #: The public page: only units that opted in (``Unit.public_report``).
    public_only: bool = False

    def shifted(self, start: datetime, end: datetime) -> ReportFilter:
        return replace(self, start=start, end=end)


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def facts(session: Session, user: User | None, flt: ReportFilter,
          as_of: datetime | None = None) -> Any:
    """A subquery with one row per published publication in the filter, with its metrics.

    ``user`` None is only allowed together with ``public_only`` (the public page).
    Columns: publication_id, post_id, channel_id, unit_id, campaign_id, platform,
    channel_name, unit_name, unit_timezone, campaign_name, published_at, permalink,
    collected_at, the seven metrics, engagements, denominator.
    """
    if user is None and not flt.public_only:
        raise ValueError("a report without a user must be the public one")
    as_of = as_of or flt.end
    cached = session.info.get(_CACHE, {}).get(_key(user, flt, as_of))
    if cached is not None:
        return cached
    camp = aliased(Campaign)
    base = (select(Publication.id.label("publication_id"), Publication.post_id,
                   Publication.channel_id, Post.unit_id, Post.campaign_id, Channel.platform,
                   Channel.name.label("channel_name"), Unit.name.label("unit_name"),
                   Unit.timezone.label("unit_timezone"), camp.name.label("campaign_name"),
                   Publication.published_at, Publication.permalink)
            .select_from(Publication)
            .join(Post, Post.id == Publication.post_id)
            .join(Channel, Channel.id == Publication.channel_id)
            .join(Unit, Unit.id == Post.unit_id)
            .outerjoin(camp, camp.id == Post.campaign_id)
            .where(Publication.status == PublicationStatus.PUBLISHED,
                   Publication.published_at >= flt.start, Publication.published_at < flt.end))
    base = _restrict(base, user, flt)

    snap = MetricSnapshot
    if dialect(session) == "postgresql":
        latest = (select(*[getattr(snap, c) for c in m.METRICS], snap.collected_at)
                  .where(snap.publication_id == Publication.id, snap.collected_at < as_of)
                  .order_by(snap.collected_at.desc(), snap.id.desc()).limit(1)
                  .lateral("ms"))
        q = base.outerjoin(latest, true())
        cols = latest.c
    else:
        ms = aliased(snap, name="ms")
        newest = (select(snap.id).where(snap.publication_id == Publication.id,
                                        snap.collected_at < as_of)
                  .order_by(snap.collected_at.desc(), snap.id.desc()).limit(1)
                  .scalar_subquery())
        q = base.outerjoin(ms, ms.id == newest)
        cols = ms
    metric_cols = [getattr(cols, c).label(c) for c in m.METRICS]
    eng = m.engagements_expr(cols)
    q = q.add_columns(*metric_cols, cols.collected_at.label("collected_at"),
                      eng.label("engagements"), m.denominator_expr(cols).label("denominator"))
    return q.subquery("facts")


def _restrict(q: Select, user: User | None, flt: ReportFilter) -> Select:
    if flt.public_only:
        q = q.where(Unit.public_report.is_(True))
    if user is not None:
        q = scope(q, user, Post.unit_id)
    if flt.unit_id is not None:
        q = q.where(Post.unit_id == flt.unit_id)
    if flt.platform:
        q = q.where(Channel.platform == flt.platform)
    if flt.channel_id is not None:
        q = q.where(Publication.channel_id == flt.channel_id)
    if flt.campaign_id is not None:
        q = q.where(Post.campaign_id == flt.campaign_id)
    if flt.post_id is not None:
        q = q.where(Publication.post_id == flt.post_id)
    return q


def sums(f: Any) -> list[ColumnElement[Any]]:
    """The aggregate columns shared by totals and every breakdown."""
    # A row counts towards the rate only when it has both engagements and a denominator.
    both = f.c.denominator.is_not(None) & f.c.engagements.is_not(None)
    with_den = case((both, f.c.engagements), else_=None)
    den = case((both, f.c.denominator), else_=None)
    return ([func.count(f.c.post_id.distinct()).label("posts"),
             func.count().label("publications")]
            + [func.sum(f.c[c]).label(c) for c in m.METRICS]
            + [func.sum(f.c.engagements).label("engagements"),
               func.sum(with_den).label("rate_num"),
               func.sum(den).label("rate_den")])


_CACHE = "warta.report_facts"
#: The temporary tables' definitions, one per nesting depth, built once: reusing the same
#: ``Table`` lets SQLAlchemy reuse the compiled form of every report statement over it.
_TEMP = MetaData()
_TEMP_LOCK = threading.Lock()


def _key(user: User | None, flt: ReportFilter, as_of: datetime) -> tuple[Any, ...]:
    return (user.id if user else None, user.role if user else None,
            user.unit_id if user else None, flt, as_of)


def _temp_table(sub: Any, depth: int) -> Table:
    """The temporary table for the ``depth``-th fact table open on one connection (temporary
    tables are private to their connection, so concurrent requests don't meet)."""
    name = f"report_facts_{depth}"
    with _TEMP_LOCK:
        table = _TEMP.tables.get(name)
        if table is None:
            table = Table(name, _TEMP, *[Column(c.name, c.type) for c in sub.c],
                          prefixes=["TEMPORARY"])
    return table


@contextmanager
def materialized(session: Session, user: User | None, flt: ReportFilter) -> Iterator[None]:
    """Compute the fact rows once into a temporary table for the duration of the block.

    A page shows about ten aggregates of the same facts; without this, each one repeats the
    latest-snapshot lookup for every publication of the period (the expensive part). Inside
    the block ``facts()`` returns the temporary table for the same user and filter.
    """
    sub = facts(session, user, flt)
    cache = session.info.setdefault(_CACHE, {})
    table = _temp_table(sub, len(cache))
    conn = session.connection()
    table.create(conn)
    conn.execute(insert(table).from_select([c.name for c in sub.c], select(sub)))
    key = _key(user, flt, flt.end)
    cache[key] = table
    done = False
    try:
        yield
        done = True
    finally:
        cache.pop(key, None)
        try:
            table.drop(conn)
        except DBAPIError:
            if done:
                raise
            # The block failed and so did its transaction (PostgreSQL refuses further
            # statements); the rollback that follows removes the table with it.
