"""Request and response models of the JSON API (also the OpenAPI document's schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from publisher.services.query_args import MAX_ID

#: A row id: the database's columns are 64-bit, so a bigger number is refused by name here
#: rather than by the database (PostgreSQL answers such a comparison with an error).
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ChannelCreate(Strict):
    platform: str = Field(description="sandbox, facebook, instagram, instagram_graph, x, …")
    name: str = Field(max_length=200)
    unit: Id | None = Field(None, description="unit id; defaults to the caller's unit")
    credentials: dict[str, Any] = Field(description="write-only; never returned")


class ChannelOut(BaseModel):
    id: int
    platform: str
    name: str
    unit: int
    external_id: str | None
    username: str | None
    status: str
    paused_until: str | None
    last_published_at: str | None
    last_error: str | None


class ChannelList(BaseModel):
    channels: list[ChannelOut]


class Override(Strict):
    body: str | None = None
    title: str | None = None
    options: dict[str, Any] | None = None
    #: The post's media this channel gets (ids, a subset of the post's); absent: all of them.
    media: list[Id] | None = None
    #: Posted by the account right after the post (X: a reply); platforms that take one only.
    first_comment: str | None = Field(None, max_length=10_000)


class Recurrence(Strict):
    """How a post repeats, at its ``scheduled_at``'s wall-clock time in the unit's zone."""

    freq: str = Field(description="none | daily | weekly | monthly_day | monthly_nth")
    weekdays: list[int] | None = Field(None, description="weekly: days, 0 = Monday … 6 = Sunday")
    month_day: int | None = Field(None, description="monthly_day: 1–31 (months without that "
                                  "day are skipped, as RFC 5545 says)")
    nth: int | None = Field(None, description="monthly_nth: 1–4, or -1 for the last")
    weekday: int | None = Field(None, description="monthly_nth: the day, 0 = Monday")
    until: str | None = Field(None, description="last local date (YYYY-MM-DD), at most 2 years "
                              "ahead; or count")
    count: int | None = Field(None, description="number of occurrences, at most 366")


class RecurrenceOut(Recurrence):
    timezone: str


class PostCreate(Strict):
    body: str
    channels: list[Id] = Field(default_factory=list)
    media: list[Id] = Field(default_factory=list)
    scheduled_at: str | None = Field(None, description="ISO 8601; no offset = the caller's unit's "
                                        "zone (WARTA_TIMEZONE for users without a unit)")
    link: str | None = Field(None, max_length=2000)
    campaign: Id | None = None
    overrides: dict[str, Override] = Field(default_factory=dict)
    media_alt: dict[Id, str] | None = Field(None, description="alt text per media id (what an "
                                            "image shows; a policy rule may require it)")
    recurrence: Recurrence | None = Field(None, description="repeat the post (its approval "
                                          "covers the whole series)")


class PostPatch(Strict):
    body: str | None = None
    channels: list[Id] | None = None
    media: list[Id] | None = None
    scheduled_at: str | None = None
    link: str | None = Field(None, max_length=2000)
    campaign: Id | None = None
    overrides: dict[str, Override] | None = None
    media_alt: dict[Id, str] | None = None
    recurrence: Recurrence | None = Field(None, description="null or freq none: no longer "
                                          "repeats; absent: unchanged")


class RejectBody(Strict):
    comment: str


class MarkPublishedBody(Strict):
    permalink: str = Field(max_length=1000)
    external_id: str | None = Field(None, max_length=200)


class PublicationOut(BaseModel):
    id: int
    channel: int
    platform: str
    status: str
    scheduled_at: datetime | None
    external_id: str | None
    permalink: str | None
    error: str | None
    error_en: str | None
    attempts: int
    published_at: datetime | None
    progress: dict[str, int | None] | None = None
    next_metrics_at: datetime | None = None


class StageOut(BaseModel):
    number: int
    kind: str = Field(description="unit_approver | region_verifier")
    approved_by: int | None
    approved_at: datetime | None
    current: bool = Field(description="the stage the post waits at")


class PostOut(BaseModel):
    id: int
    unit: int
    author: int
    status: str
    body: str
    link: str | None
    campaign: int | None
    channels: list[int]
    media: list[int]
    media_alt: dict[str, str] = Field(default_factory=dict,
                                      description="alt text per media id, where set")
    scheduled_at: datetime | None
    overrides: dict[str, Any]
    recurrence: RecurrenceOut | None = None
    rejection_comment: str | None
    approved_by: int | None
    approved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    overall_status: str = Field(description="rolled up from the publications: published | "
                                "partly_published | partly_failed | failed, else the status")
    content_hash: str = Field(description="hash of everything that will be published; send it "
                              "with approve so the approval binds to the version you read")
    publications: list[PublicationOut]
    stages: list[StageOut] = Field(default_factory=list,
                                   description="the approval stages, in order (issue 20)")
    waiting_stage: int | None = Field(None, description="the stage number the post waits at")


class PostList(BaseModel):
    posts: list[PostOut]
    total: int
    page: int
    per_page: int


class MediaOut(BaseModel):
    id: int
    kind: str
    mime: str
    size: int
    width: int | None
    height: int | None
    sha256: str


class AttemptOut(BaseModel):
    id: int
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    http_status: int | None
    detail: str | None
    worker: str | None


class AttemptList(BaseModel):
    attempts: list[AttemptOut]


class MetricValues(BaseModel):
    """The seven engagement numbers; null means the platform gives no such number."""

    likes: int | None
    comments: int | None
    shares: int | None
    views: int | None
    impressions: int | None
    reach: int | None
    saves: int | None


class SnapshotOut(MetricValues):
    collected_at: datetime


class MetricsOut(BaseModel):
    publication: int
    available: list[str] = Field(description="metrics this platform can report at all")
    snapshots: list[SnapshotOut]
