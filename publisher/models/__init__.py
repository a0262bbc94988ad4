"""The domain model, one module per aggregate; this module only re-exports them."""

from publisher.db import Base
from publisher.models.audit import AuditEvent, Pause, WorkerHeartbeat
from publisher.models.campaign import Campaign, CampaignUnit
from publisher.models.channel import Channel
from publisher.models.emergency import Emergency, EmergencyPost, EmergencyStatus
from publisher.models.enums import (
    ATTENTION_STATES,
    OPEN_PUBLICATION_STATES,
    ChannelStatus,
    PauseScope,
    PostStatus,
    PublicationStatus,
    Role,
)
from publisher.models.fanout import CampaignFanout, CampaignFanoutUnit
from publisher.models.first_comment import FirstComment, FirstCommentStatus
from publisher.models.inbox import (
    OPEN_COMMENT_STATES,
    CitizenComment,
    CommentCategory,
    CommentEvent,
    CommentKeyword,
    CommentSource,
    CommentStatus,
    DayOff,
)
from publisher.models.inbox_reply import EDITABLE_REPLY_STATES, CommentReply, ReplyStatus
from publisher.models.media import MediaAsset
from publisher.models.metrics import MetricSnapshot
from publisher.models.notify import (
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
    NotifyPreference,
    NotifyProfile,
    NotifyWebhook,
    ReportRecipient,
    TelegramPoll,
    TelegramUpdate,
)
from publisher.models.org import ApiToken, LoginThrottle, Unit, User
from publisher.models.policy import PolicyAck, PolicyRule
from publisher.models.post import Post, PostChannel, PostMedia, PostVersion
from publisher.models.publication import Publication, PublishAttempt
from publisher.models.recurrence import PostRecurrence, RecurrenceException
from publisher.models.review import PostReview, StageApproval
from publisher.models.template import HashtagSet, PostTemplate

__all__ = ["ATTENTION_STATES", "EDITABLE_REPLY_STATES", "CommentReply", "ReplyStatus",
           "OPEN_COMMENT_STATES", "OPEN_PUBLICATION_STATES", "ApiToken",
           "AuditEvent", "Base", "Campaign", "CampaignFanout", "CampaignFanoutUnit",
           "CampaignUnit", "Channel", "ChannelStatus",
           "CitizenComment", "CommentCategory", "CommentEvent", "CommentKeyword",
           "CommentSource", "CommentStatus", "DayOff", "DeliveryStatus",
           "Emergency", "EmergencyPost", "EmergencyStatus", "HashtagSet",
           "LoginThrottle", "MediaAsset", "MetricSnapshot", "NotifyChannel", "NotifyDelivery",
           "NotifyPreference", "NotifyProfile", "NotifyWebhook", "Pause", "PauseScope",
           "PolicyAck", "PolicyRule", "Post", "PostChannel", "PostMedia", "PostStatus",
           "PostRecurrence", "PostReview", "PostTemplate", "StageApproval",
           "PostVersion", "Publication", "PublicationStatus", "PublishAttempt",
           "RecurrenceException",
           "ReportRecipient", "Role", "TelegramPoll", "TelegramUpdate", "Unit", "User",
           "WorkerHeartbeat", "FirstComment", "FirstCommentStatus"]
