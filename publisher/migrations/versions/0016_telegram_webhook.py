"""telegram webhook: the notification bot's updates already taken (``notify_telegram_updates``),
so an update re-sent by Telegram's webhook, or read by two processes, is acted on once

Revision ID: 0016_telegram_webhook
Revises: 0015_post_templates
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0016_telegram_webhook"
down_revision = "0015_post_templates"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_telegram_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("received_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("update_id"),
    )
    op.create_index("ix_notify_telegram_updates_received_at", "notify_telegram_updates",
                    ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_notify_telegram_updates_received_at", table_name="notify_telegram_updates")
    op.drop_table("notify_telegram_updates")
