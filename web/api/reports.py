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
from publisher.services.errors import ServiceError
from web.api import bp


class EngagementFigures(BaseModel):
    """Sums over published publications; null means the platform does not report it."""

    posts: int
    publications: int
    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    impressions: int | None
    reach: int | None
    saves: int | None
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


def _api_user():  # type: ignore[no-untyped-def]
    """Bearer-token user. TEMPORARY: replaced by the lead's auth decorator at merge."""
    from publisher.services import org
    from web.app import db, get_core

    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return org.user_for_token(get_core(), db(), header[7:].strip())


def _error(exc: ServiceError):  # type: ignore[no-untyped-def]
    return jsonify(error={"code": exc.code, "message": exc.message,
                          "message_en": exc.message_en, "fields": exc.fields}), exc.status


@bp.get("/reports/engagement")
def reports_engagement():  # type: ignore[no-untyped-def]
    from web.app import db, get_core

    user = _api_user()
    if user is None:
        return jsonify(error={"code": "unauthorized", "message": "Token tidak sah.",
                              "message_en": "Invalid or missing token.", "fields": {}}), 401
    core = get_core()
    try:
        data = engagement_report(db(), user, request.args, core.now(), core.settings.timezone)
    except ServiceError as exc:
        return _error(exc)
    return jsonify(EngagementReport.model_validate(data).model_dump(mode="json", by_alias=True))
