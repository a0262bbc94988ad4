"""``GET /api/v1/reports/engagement``: the reports page's figures as JSON.

The route only authenticates and serialises; ``publisher.reports.report.engagement_report`` does
the work, so the page and the API give the same numbers. ``EngagementReport`` is the response
schema for the OpenAPI document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import jsonify, request
from pydantic import BaseModel, Field

from publisher.reports.report import engagement_report
from web.api.auth import current_user, require_token
from web.api.schemas import MetricValues
from web.api.spec import endpoint


class EngagementFigures(MetricValues):
    """Sums over published publications; null means the platform does not report it."""

    posts: int
    publications: int
    engagements: int | None = Field(description="likes + comments + shares + saves")
    engagement_rate: float | None = Field(
        description="engagements / reach (or / views where reach is absent), a fraction")


class EngagementRow(EngagementFigures):
    key: str | None = Field(description="platform, channel id, unit id, campaign id or day")
    label: str | None


class EngagementReport(BaseModel):
    """Engagement of publications published in [from, to] (local days), each publication at
    its latest snapshot as of the end of the period."""

    from_: str = Field(alias="from")
    to: str
    timezone: str
    group_by: Literal["platform", "channel", "unit", "campaign", "day"]
    as_of: datetime
    totals: EngagementFigures
    previous_totals: EngagementFigures
    rows: list[EngagementRow]


@endpoint("GET", "/reports/engagement", "Engagement report (same figures as the reports page)",
          response=EngagementReport,
          query={"from": "first local day (YYYY-MM-DD)", "to": "last local day (YYYY-MM-DD)",
                 "group_by": "platform | channel | unit | campaign | day",
                 "unit": "unit id filter", "platform": "platform filter",
                 "channel": "channel id filter", "campaign": "campaign id filter"})
@require_token
def reports_engagement():  # type: ignore[no-untyped-def]
    from web.app import db, get_core

    core = get_core()
    data = engagement_report(db(), current_user(), request.args, core.now(),
                             core.settings.timezone)
    return jsonify(EngagementReport.model_validate(data).model_dump(mode="json", by_alias=True))
