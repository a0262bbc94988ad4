"""The normalised metrics model and how engagements and the engagement rate are derived.

Every platform's numbers are stored in the same ``MetricSnapshot`` columns; a column is NULL when
the platform does not report that number (never 0 for "unknown"). From them:

* ``engagements`` = likes + comments + shares + saves, counting the ones the platform gives;
  NULL when it gives none of the four (a post with no interaction data is not "0 interactions").
* ``engagement rate`` = engagements / reach, or engagements / views where reach is absent.
  Aggregated rates are sum(engagements) / sum(denominator) over the publications that have
  both, so a post without one of them neither inflates nor dilutes the rate.

``RATE_BASIS`` says, per platform, which denominator its adapter provides.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, case, cast, func
from sqlalchemy.sql import ColumnElement

#: The counted columns, in display order.
METRICS = ("likes", "comments", "shares", "views", "impressions", "reach", "saves")
#: The columns that add up to ``engagements``.
ENGAGEMENT_PARTS = ("likes", "comments", "shares", "saves")

#: Per platform: the denominator of the engagement rate (documented in the UI and the API).
RATE_BASIS: dict[str, str] = {
    "facebook": "reach",        # Page post insights give reach (post_impressions_unique)
    "instagram": "reach",       # media insights give reach
    "x": "views",               # X gives impression_count, stored as views; no reach
    "youtube": "views",         # YouTube gives views; no reach
    "telegram": "views",        # channel messages give views only
    "sandbox": "reach",
}


def engagements_expr(row: Any) -> ColumnElement[Any]:
    """SQL for one snapshot's engagements: the sum of the parts it has, NULL if none."""
    parts = [getattr(row, name) for name in ENGAGEMENT_PARTS]
    all_null = parts[0].is_(None)
    for p in parts[1:]:
        all_null = all_null & p.is_(None)
    total = func.coalesce(parts[0], 0)
    for p in parts[1:]:
        total = total + func.coalesce(p, 0)
    return case((all_null, None), else_=total)


def denominator_expr(row: Any) -> ColumnElement[Any]:
    """SQL for the rate's denominator: reach, else views (NULL when neither is known)."""
    return func.coalesce(row.reach, row.views)


def rate_expr(engagements: Any, denominator: Any) -> ColumnElement[Any]:
    """SQL for one row's engagement rate (a fraction), NULL without a positive denominator."""
    return case((denominator > 0, cast(engagements, Float) / denominator), else_=None)


def rate(num: float | int | None, den: float | int | None) -> float | None:
    """An aggregated rate from the two sums the SQL returns."""
    if num is None or not den:
        return None
    return float(num) / float(den)
