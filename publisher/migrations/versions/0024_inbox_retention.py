"""citizen inbox retention (issue 19): when a comment's author and text were removed

Revision ID: 0024_inbox_retention
Revises: 0016_telegram_webhook
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0024_inbox_retention"
down_revision = "0016_telegram_webhook"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("citizen_comments") as batch_op:
        batch_op.add_column(sa.Column("redacted_at", publisher.db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("citizen_comments") as batch_op:
        batch_op.drop_column("redacted_at")
