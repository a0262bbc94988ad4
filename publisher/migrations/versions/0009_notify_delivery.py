"""notify: notifications that leave Warta — per-user preferences per event kind
(``notify_preferences``), quiet hours (``notify_profiles``) and one delivery record per
(recipient, event, channel) with its unique dedup key (``notify_deliveries``); the Telegram
link of a user and the bot's ``getUpdates`` offset (``notify_telegram_poll``)

Revision ID: 0009_notify
Revises: 0005_reconcile
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0009_notify"
down_revision = "0005_reconcile"
branch_labels = None
depends_on = None

_OPEN = "status IN ('pending', 'sending')"


def upgrade() -> None:
    op.create_table(
        "notify_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id", "kind"),
    )
    op.create_table(
        "notify_profiles",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quiet_start", sa.Integer(), nullable=True),
        sa.Column("quiet_end", sa.Integer(), nullable=True),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("telegram_linked_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("telegram_link_hash", sa.String(length=64), nullable=True),
        sa.Column("telegram_link_expires_at", publisher.db.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column("telegram_reject_post_id", sa.Integer(), nullable=True),
        sa.Column("telegram_reject_hash", sa.String(length=16), nullable=True),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("user_id"),
        sa.UniqueConstraint("telegram_link_hash"),
    )
    op.create_table(
        "notify_telegram_poll",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("update_offset", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "notify_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("not_before", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=True),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sending_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["audit_events.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "event_id", "channel", name="uq_notify_delivery"),
    )
    op.create_index("ix_notify_delivery_user", "notify_deliveries", ["user_id", "created_at"])
    op.create_index("ix_notify_delivery_open", "notify_deliveries", ["status"],
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))


def downgrade() -> None:
    op.drop_index("ix_notify_delivery_open", table_name="notify_deliveries")
    op.drop_index("ix_notify_delivery_user", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_table("notify_telegram_poll")
    op.drop_table("notify_profiles")
    op.drop_table("notify_preferences")
