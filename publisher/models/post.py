"""Posts: the content an operator writes once, with its channels, media and approval."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from publisher.db import Base, utcnow
from publisher.models.campaign import Campaign
from publisher.models.channel import Channel
from publisher.models.enums import PostStatus
from publisher.models.media import MediaAsset
from publisher.models.org import Unit, User

if TYPE_CHECKING:
    from publisher.models.publication import Publication
    from publisher.models.recurrence import PostRecurrence


class PostChannel(Base):
    __tablename__ = "post_channels"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)


class PostMedia(Base):
    __tablename__ = "post_media"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"),
                                         primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media_assets.id"))
    #: What the image shows, for people who cannot see it (the policy "alt text required"
    #: reads it). Per post, not per asset: one photo says different things in two posts.
    alt_text: Mapped[str] = mapped_column(String(1000), default="")

    media: Mapped[MediaAsset] = relationship(lazy="joined")


class PostVersion(Base):
    """Who produced each content version of a post (the author's first, every edit after).

    Approval reads it: nobody may approve a post whose content they changed, so an approver
    who edits an operator's text cannot then approve their own words."""

    __tablename__ = "post_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        # The posts list (``services/post_search.py``): a unit's posts, newest first.
        Index("ix_posts_unit_created", "unit_id", "created_at", "id"),
        Index("ix_posts_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(2000))
    status: Mapped[str] = mapped_column(String(12), default=PostStatus.DRAFT, index=True)
    #: ``None`` means "as soon as approved".
    scheduled_at: Mapped[datetime | None] = mapped_column(index=True)
    #: {"<channel id>": {"body": ..., "title": ..., "options": {...}}}
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column()
    #: SHA-256 of exactly what was approved; any edit voids it (see services/approval.py).
    approval_hash: Mapped[str | None] = mapped_column(String(64))
    rejection_comment: Mapped[str | None] = mapped_column(Text)
    submitted_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    unit: Mapped[Unit] = relationship(lazy="joined")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    campaign: Mapped[Campaign | None] = relationship(lazy="joined")
    channel_links: Mapped[list[PostChannel]] = relationship(cascade="all, delete-orphan",
                                                            lazy="selectin")
    media_links: Mapped[list[PostMedia]] = relationship(cascade="all, delete-orphan",
                                                        order_by=PostMedia.position,
                                                        lazy="selectin")
    #: Read-only, for lists that show each post's publications (load it with ``selectinload``
    #: so a page costs one query, not one per post). View-only because services create and
    #: change publications through their own queries: a collection loaded earlier in the
    #: same session does not see publications added after it was loaded.
    publications: Mapped[list[Publication]] = relationship(
        "Publication", viewonly=True, order_by="Publication.id", lazy="select")
    #: How the post repeats (``models/recurrence.py``), or ``None`` for a one-off post.
    recurrence: Mapped[PostRecurrence | None] = relationship(
        "PostRecurrence", cascade="all, delete-orphan", uselist=False, lazy="selectin")

    @property
    def channel_ids(self) -> list[int]:
        return sorted(link.channel_id for link in self.channel_links)

    @property
    def overall_status(self) -> str:
        """The post's status as its publications make it: an approved post whose channels all
        published is "published", not forever "approved" (load ``publications`` with the list)."""
        return rollup_status(self.status, [p.status for p in self.publications])

    @property
    def media(self) -> list[MediaAsset]:
        return [link.media for link in self.media_links]


#: Publication states that ended without the post going out there.
ROLLUP_FAILED = frozenset({"failed", "missed", "unconfirmed", "needs_reauth"})
#: What ``Post.overall_status`` can be, in the order a list offers them: the post's own
#: statuses, with "approved" split by how far its publications got.
OVERALL_STATUSES = ("draft", "submitted", "approved", "partly_published", "published",
                    "partly_failed", "failed", "rejected", "cancelled")


def rollup_status(post_status: str, publication_statuses: list[str]) -> str:
    """Roll an approved post's publications up into what a person asks: did it go out?
    ``published`` (every channel), ``partly_published`` (some, the rest still to come),
    ``partly_failed`` (some went out, some did not), ``failed`` (none went out and none will
    without help); otherwise the post's own status. ``post_search.overall_status_is`` is the
    same rule as SQL (a test runs both over every mix of states)."""
    states = [s for s in publication_statuses if s != "cancelled"]
    if post_status != "approved" or not states:
        return post_status
    published = sum(s == "published" for s in states)
    failed = sum(s in ROLLUP_FAILED for s in states)
    if published == len(states):
        return "published"
    if published and failed:
        return "partly_failed"
    if published:
        return "partly_published"
    if failed == len(states):
        return "failed"
    if failed:
        return "partly_failed"
    return post_status


__all__ = ["OVERALL_STATUSES", "ROLLUP_FAILED", "Channel", "Post", "PostChannel", "PostMedia",
           "PostVersion", "rollup_status"]
