"""The time window of a campaign fan-out's unit copy: a unit may move its copy within the
campaign's time ± the hours the admin set, never outside (``services/posts.py`` asks here
before it stores a new time, so the composer, the calendar and the API obey the same rule).

Kept apart from ``services/fanout.py`` because the posts service imports it, and the fan-out
service imports the posts service.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from publisher.models import CampaignFanout, CampaignFanoutUnit, Post
from publisher.services.errors import Invalid, Text
from publisher.timeutil import to_zone, zone_label


def fanout_of_post(session: Session, post_id: int) -> CampaignFanout | None:
    """The fan-out a post is a unit's copy of, if any."""
    return session.execute(
        select(CampaignFanout).join(CampaignFanoutUnit,
                                    CampaignFanoutUnit.fanout_id == CampaignFanout.id)
        .where(CampaignFanoutUnit.post_id == post_id)).scalar_one_or_none()


def window(fanout: CampaignFanout) -> tuple[datetime, datetime]:
    """The first and last instant a copy may be scheduled at (inclusive)."""
    spread = timedelta(hours=fanout.window_hours)
    return fanout.scheduled_at - spread, fanout.scheduled_at + spread


def refuse_outside_window(session: Session, post_id: int, when: datetime | None,
                          field: str = "scheduled_at") -> None:
    """Refuse a time outside the fan-out's window (``None``, "as soon as approved", is no
    time in any window: a campaign message goes out at the campaign's time or near it).
    A post that is no fan-out copy is left alone."""
    fanout = fanout_of_post(session, post_id)
    if fanout is None:
        return
    start, end = window(fanout)
    if when is not None and start <= when <= end:
        return
    hours = fanout.window_hours
    post = session.get(Post, post_id)
    zone = post.unit.timezone if post is not None else "UTC"
    first, last = (f"{to_zone(t, zone):%Y-%m-%d %H:%M} {zone_label(zone)}" for t in (start, end))
    raise Invalid(
        "Narasi tunggal ini harus terbit pada waktu kampanye"
        + (f" atau dalam {hours} jam sebelum/sesudahnya." if hours else "."),
        "This campaign message must go out at the campaign's time"
        + (f" or within {hours} hours of it." if hours else "."),
        fields={field: Text(
            "Waktu di luar jendela kampanye; pilih waktu di antara "
            f"{first} dan {last}.",
            f"Outside the campaign's window; choose a time between {first} and {last}.")},
        code="outside_window")
