"""notify webhooks: an office's outgoing webhooks for notifications (``notify_webhooks``);
their deliveries are ``notify_deliveries`` rows without a user (channel ``webhook``)

Revision ID: 0011_notify_webhooks
Revises: 0010_weekly_report
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0011_notify_webhooks"
down_revision = "0010_weekly_report"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notify_webhooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notify_webhook_unit", "notify_webhooks", ["unit_id"])


def downgrade() -> None:
    op.execute("DELETE FROM notify_deliveries WHERE channel = 'webhook'")
    op.drop_index("ix_notify_webhook_unit", table_name="notify_webhooks")
    op.drop_table("notify_webhooks")
