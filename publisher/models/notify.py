"""Notifications that leave Warta (e-mail; Telegram later): who wants which kind by which
channel, their quiet hours, and one delivery record per (recipient, event, channel).

The in-app bell stays derived from the audit log (``web/ui/notifications/feed.py``); these
tables only exist for what goes out, because a message sent cannot be taken back: its record
must say whether it was sent, so that no crash or second claim sends it again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import Base, utcnow


class NotifyChannel(StrEnum):
    """How a person wants to hear of one kind of event. The bell always shows it too."""

    INAPP = "inapp"
    EMAIL = "email"
    TELEGRAM = "telegram"
    #: An office's outgoing webhook (``NotifyWebhook``): set by admins, never a person's choice.
    WEBHOOK = "webhook"


class DeliveryStatus(StrEnum):
    #: Waiting for its send job (possibly until the end of quiet hours).
    PENDING = "pending"
    #: Committed just before the irreversible step (SMTP ``DATA``): a re-run that finds it
    #: here cannot know whether the server took the message, and does not send it again.
    SENDING = "sending"
    SENT = "sent"
    #: The send was interrupted after the message may have been accepted (at most once).
    UNCONFIRMED = "unconfirmed"
    #: The address or chat is gone, or the server refused the message for good.
    DROPPED = "dropped"
    #: Transient failures until the attempts ran out.
    FAILED = "failed"


class NotifyPreference(Base):
    """One row per user and event kind that is not "in-app only" (the default)."""

    __tablename__ = "notify_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default=NotifyChannel.INAPP)


class NotifyProfile(Base):
    """A user's quiet hours, as minutes after local midnight in their home zone (their unit's,
    or the installation's). ``quiet_start > quiet_end`` means the window crosses midnight."""

    __tablename__ = "notify_profiles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    quiet_start: Mapped[int | None] = mapped_column(Integer)
    quiet_end: Mapped[int | None] = mapped_column(Integer)
    #: The private chat with the office's bot, once linked through a ``/start`` deep link.
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    telegram_linked_at: Mapped[datetime | None] = mapped_column()
    #: SHA-256 of the one-time link token (the token itself is only in the link shown).
    telegram_link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    telegram_link_expires_at: Mapped[datetime | None] = mapped_column()
    #: "Tolak" was pressed: the next text in the chat is the reason for rejecting this post
    #: (at the content hash the message showed, its first 16 hex digits).
    telegram_reject_post_id: Mapped[int | None] = mapped_column(Integer)
    telegram_reject_hash: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramPoll(Base):
    """The ``getUpdates`` offset of the notification bot (one row): advanced with a
    conditional update, so two workers never process one update twice."""

    __tablename__ = "notify_telegram_poll"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    update_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TelegramUpdate(Base):
    """An update of the notification bot already taken (its ``update_id``), by the poller or
    the webhook: the claim is inserted in the transaction that acts on the update, so a
    re-sent update (Telegram retries a slow or failed webhook answer; two web processes may
    each get one) is acted on once. Rows older than a few days are pruned (Telegram keeps
    updates for 24 hours)."""

    __tablename__ = "notify_telegram_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class NotifyDelivery(Base):
    """One message to one person about one audit event by one channel.

    The unique (user, event, channel) is the dedup key: a fan-out run twice inserts nothing
    the second time, so one event can never become two messages to one person. A weekly
    report to an address that is no Warta user (``ReportRecipient``) has no user: its key is
    (event, channel, address), unique among the rows without a user.
    """

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "event_id", "channel", name="uq_notify_delivery"),
        Index("uq_notify_delivery_address", "event_id", "channel", "address", unique=True,
              postgresql_where=text("user_id IS NULL"), sqlite_where=text("user_id IS NULL")),
        # The user's recent deliveries (the profile page; the feed's "could not reach you").
        Index("ix_notify_delivery_user", "user_id", "created_at"),
        # What is still under way (admin view, stuck-send checks).
        Index("ix_notify_delivery_open", "status",
              postgresql_where=text("status IN ('pending', 'sending')"),
              sqlite_where=text("status IN ('pending', 'sending')")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: ``None`` only for a weekly report to a ``ReportRecipient`` (then ``address`` is set at
    #: the fan-out and is part of the key).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"))
    channel: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12), default=DeliveryStatus.PENDING)
    #: Not before this instant (the end of the recipient's quiet hours, or the event).
    not_before: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: Where it went (the e-mail address at send time).
    address: Mapped[str | None] = mapped_column(String(254))
    #: The message's Message-ID, to find it in a mail server's log after an unconfirmed send.
    message_id: Mapped[str | None] = mapped_column(String(250))
    #: The last problem, for a person (never a password or a server's full reply).
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sending_at: Mapped[datetime | None] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportRecipient(Base):
    """An address that receives the weekly report without being a Warta user (the head of an
    agency, the regent's office): one unit's report, or the whole region's when ``unit_id`` is
    ``None``. Kept by admins with ``warta report recipients``; Warta users choose the report
    themselves on their profile (``notify_preferences`` kind ``weekly_report``)."""

    __tablename__ = "notify_report_recipients"
    __table_args__ = (Index("ix_report_recipient_unit", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    #: Lower-case, as typed otherwise.
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    #: The report's language: ``id`` or ``en``.
    locale: Mapped[str] = mapped_column(String(8), default="id")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotifyWebhook(Base):
    """An outgoing webhook of the office: every notification of the chosen kinds, in one
    unit (or the whole region when ``unit_id`` is ``None``), as a signed JSON ``POST``
    (``publisher/notify/webhook.py``). Its deliveries are ``notify_deliveries`` rows without
    a user, channel ``webhook``, address ``webhook:<id>`` (unique per event, like a weekly
    report's address). Kept by admins on the Webhook page."""

    __tablename__ = "notify_webhooks"
    __table_args__ = (Index("ix_notify_webhook_unit", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    name: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    #: Fernet token of ``{"secret": ...}`` (the key signing each request); never shown again.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    #: The notification kinds it receives (``kinds.KINDS``).
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
