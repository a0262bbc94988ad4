"""The report queries: totals, breakdowns, time series, top posts, the best-time heatmap and
per-publication rows. Each is one SQL statement over ``facts``; Python only shapes the result."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Select, cast, func, select
from sqlalchemy.orm import Session

from publisher.models import MediaAsset, MetricSnapshot, Post, PostMedia, Publication, User
from publisher.reports import metrics as m
from publisher.reports.facts import ReportFilter, facts, sums
from publisher.reports.zones import LocalTime

GROUPS = ("platform", "channel", "unit", "campaign", "day")
#: A heatmap cell with fewer publications than this is hidden: a median of one or two posts
#: says more about those posts than about the hour.
HEATMAP_MIN_POSTS = 3


def figures(row: Any) -> dict[str, Any]:
    """The figures of one aggregate row of ``sums`` (counts as ints, unknown as None)."""
    out: dict[str, Any] = {"posts": int(row.posts or 0),
                           "publications": int(row.publications or 0)}
    for c in (*m.METRICS, "engagements"):
        v = getattr(row, c)
        out[c] = None if v is None else int(v)
    out["engagement_rate"] = m.rate(row.rate_num, row.rate_den)
    return out


def totals_statement(session: Session, user: User | None, flt: ReportFilter) -> Select:
    """The one-row statement of ``totals``, for callers that run it elsewhere
    (``alongside``) and read it with ``figures``."""
    f = facts(session, user, flt)
    return select(*sums(f))


def totals(session: Session, user: User | None, flt: ReportFilter) -> dict[str, Any]:
    return figures(session.execute(totals_statement(session, user, flt)).one())


def _group_columns(session: Session, f: Any, group_by: str, zone: str) -> tuple[list, Any, Any]:
    """(group-by columns, key column, label column) for one dimension."""
    if group_by == "platform":
        return [f.c.platform], f.c.platform, f.c.platform
    if group_by == "channel":
        return [f.c.channel_id, f.c.channel_name, f.c.platform], f.c.channel_id, f.c.channel_name
    if group_by == "unit":
        return [f.c.unit_id, f.c.unit_name], f.c.unit_id, f.c.unit_name
    if group_by == "campaign":
        return [f.c.campaign_id, f.c.campaign_name], f.c.campaign_id, f.c.campaign_name
    if group_by == "day":
        day = LocalTime(session, f.c.published_at, zone).day()
        return [day], day, day
    raise ValueError(group_by)


def breakdown(session: Session, user: User | None, flt: ReportFilter, group_by: str,
              zone: str) -> list[dict[str, Any]]:
    """One row per value of ``group_by``, largest engagement first (days in date order)."""
    f = facts(session, user, flt)
    cols, key, label = _group_columns(session, f, group_by, zone)
    q = select(key.label("key"), label.label("label"), *sums(f)).group_by(*cols)
    if group_by == "channel":
        q = q.add_columns(f.c.platform.label("platform"))
    if group_by == "day":
        q = q.order_by(key)
    else:
        q = q.order_by(func.sum(f.c.engagements).desc().nulls_last(), key)
    rows = []
    for r in session.execute(q):
        d = {"key": r.key, "label": r.label, **figures(r)}
        if group_by == "channel":
            d["platform"] = r.platform
        rows.append(d)
    return rows


def over_time(session: Session, user: User | None, flt: ReportFilter,
              zone: str) -> list[dict[str, Any]]:
    """Engagements per local publishing day and platform (the line chart)."""
    f = facts(session, user, flt)
    day = LocalTime(session, f.c.published_at, zone).day()
    q = (select(day.label("day"), f.c.platform, *sums(f))
         .group_by(day, f.c.platform).order_by(day, f.c.platform))
    return [{"day": r.day, "platform": r.platform, **figures(r)} for r in session.execute(q)]


def top_posts(session: Session, user: User | None, flt: ReportFilter,
              limit: int = 10) -> list[dict[str, Any]]:
    """The posts with the most engagements, each with its per-platform figures.

    Ranked on the engagement sum alone, then the full figures only for the ten winners: the
    full aggregate of every post of the period was most of this query's time.
    """
    f = facts(session, user, flt)
    eng = func.sum(f.c.engagements)
    best = (select(f.c.post_id).group_by(f.c.post_id).having(eng.is_not(None))
            .order_by(eng.desc(), f.c.post_id).limit(limit))
    ids = list(session.execute(best).scalars())
    if not ids:
        return []
    q = (select(f.c.post_id, f.c.unit_name, *sums(f)).where(f.c.post_id.in_(ids))
         .group_by(f.c.post_id, f.c.unit_name))
    by_id = {r.post_id: r for r in session.execute(q)}
    ranked = [by_id[i] for i in ids]
    per: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    detail = facts(session, user, flt)
    dq = (select(detail).where(detail.c.post_id.in_(ids))
          .order_by(detail.c.post_id, detail.c.platform, detail.c.channel_name))
    for r in session.execute(dq):
        row = {c: getattr(r, c) for c in (*m.METRICS, "engagements")}
        row.update(platform=r.platform, channel=r.channel_name, permalink=r.permalink,
                   publication_id=r.publication_id, published_at=r.published_at,
                   engagement_rate=m.rate(r.engagements if r.denominator is not None else None,
                                          r.denominator))
        per[r.post_id].append(row)
    bodies = dict(session.execute(select(Post.id, Post.body).where(Post.id.in_(ids))).all())
    thumbs = first_images(session, ids)
    return [{"post_id": r.post_id, "unit": r.unit_name, "excerpt": _excerpt(bodies.get(r.post_id)),
             "media_id": thumbs.get(r.post_id), **figures(r), "channels": per[r.post_id]}
            for r in ranked]


def first_images(session: Session, post_ids: list[int]) -> dict[int, int]:
    """Each post's first *image* (its thumbnail): a post that starts with a video shows its
    first photo, and one without any photo none (a video's id made a broken image)."""
    q = (select(PostMedia.post_id, PostMedia.media_id)
         .join(MediaAsset, MediaAsset.id == PostMedia.media_id)
         .where(PostMedia.post_id.in_(post_ids), MediaAsset.kind == "image")
         .order_by(PostMedia.post_id, PostMedia.position))
    out: dict[int, int] = {}
    for post_id, media_id in session.execute(q):
        out.setdefault(post_id, media_id)
    return out


def _excerpt(body: str | None, n: int = 120) -> str:
    text = " ".join((body or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def heatmap(session: Session, user: User | None, flt: ReportFilter) -> dict[str, Any]:
    """Median engagement rate by weekday (0 = Monday) × hour, in each post's unit zone.

    The median is computed in SQL with window functions (row_number/count per cell, the
    average of the one or two middle rows), which PostgreSQL and SQLite both run.
    """
    f = facts(session, user, flt)
    lt = LocalTime(session, f.c.published_at, f.c.unit_timezone)
    rate = m.rate_expr(f.c.engagements, f.c.denominator)
    has_rate = (f.c.denominator > 0) & f.c.engagements.is_not(None)
    rated = (select(lt.weekday().label("dow"), lt.hour().label("hour"), rate.label("rate"))
             .where(has_rate).subquery("rated"))
    part = [rated.c.dow, rated.c.hour]
    # Both windows have the same partition and order, so the rows are sorted once.
    ranked = select(rated.c.dow, rated.c.hour, rated.c.rate,
                    func.row_number().over(partition_by=part, order_by=rated.c.rate).label("rn"),
                    func.count().over(partition_by=part, order_by=rated.c.rate,
                                      rows=(None, None)).label("n")).subquery("ranked")
    q = (select(ranked.c.dow, ranked.c.hour, func.avg(cast(ranked.c.rate, Float)).label("median"),
                func.max(ranked.c.n).label("n"))
         .where(ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2]))
         .group_by(ranked.c.dow, ranked.c.hour))
    cells = []
    for r in session.execute(q):
        shown = r.n >= HEATMAP_MIN_POSTS
        cells.append({"weekday": int(r.dow), "hour": int(r.hour), "posts": int(r.n),
                      "median_rate": float(r.median) if shown else None, "hidden": not shown})
    cells.sort(key=lambda c: (c["weekday"], c["hour"]))
    return {"min_posts": HEATMAP_MIN_POSTS, "cells": cells}


def publication_rows(session: Session, user: User | None, flt: ReportFilter) -> Any:
    """Every publication of the report with its figures, oldest first (for exports).

    Returns a result to iterate (streamed), not a list.
    """
    f = facts(session, user, flt)
    q = select(f).order_by(f.c.published_at, f.c.publication_id)
    return session.execute(q.execution_options(yield_per=1000))


def snapshot_history(session: Session, publication_ids: list[int]) -> dict[int, list[dict]]:
    """Every snapshot of the given publications (the growth chart); callers scope the ids."""
    out: dict[int, list[dict]] = {i: [] for i in publication_ids}
    if not publication_ids:
        return out
    s = MetricSnapshot
    q = (select(s).where(s.publication_id.in_(publication_ids))
         .order_by(s.publication_id, s.collected_at, s.id))
    for snap in session.execute(q).scalars():
        row = {c: getattr(snap, c) for c in m.METRICS}
        parts = [row[c] for c in m.ENGAGEMENT_PARTS]
        row["engagements"] = (None if all(v is None for v in parts)
                              else sum(v or 0 for v in parts))
        row["collected_at"] = snap.collected_at
        out[snap.publication_id].append(row)
    return out


def published_publications(session: Session, post_id: int) -> list[Publication]:
    return list(session.execute(select(Publication).where(Publication.post_id == post_id)
                                .order_by(Publication.id)).scalars())
