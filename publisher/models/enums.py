"""Statuses as string enums: what is stored, compared and shown is one spelling."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    APPROVER = "approver"
    ADMIN = "admin"


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class PostStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class PublicationStatus(StrEnum):
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    FAILED = "failed"
    NEEDS_REAUTH = "needs_reauth"
    CANCELLED = "cancelled"
    MISSED = "missed"
    UNCONFIRMED = "unconfirmed"


#: Publications that have not gone out and still may (cancel / reschedule apply to these).
OPEN_PUBLICATION_STATES = (PublicationStatus.QUEUED, PublicationStatus.NEEDS_REAUTH,
                           PublicationStatus.MISSED)
#: Publications a person must look at.
ATTENTION_STATES = (PublicationStatus.FAILED, PublicationStatus.UNCONFIRMED,
                    PublicationStatus.MISSED, PublicationStatus.NEEDS_REAUTH)


class PauseScope(StrEnum):
    GLOBAL = "global"
    UNIT = "unit"
    CHANNEL = "channel"
