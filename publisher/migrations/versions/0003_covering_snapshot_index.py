"""covering index for the latest-snapshot lookup of reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

METRICS = ["likes", "comments", "shares", "views", "impressions", "reach", "saves"]


def upgrade() -> None:
    with op.batch_alter_table("metric_snapshots") as batch_op:
        batch_op.drop_index("ix_snapshot_pub_time")
        batch_op.create_index("ix_snapshot_pub_time", ["publication_id", "collected_at", "id"],
                              postgresql_include=METRICS)


def downgrade() -> None:
    with op.batch_alter_table("metric_snapshots") as batch_op:
        batch_op.drop_index("ix_snapshot_pub_time")
        batch_op.create_index("ix_snapshot_pub_time", ["publication_id", "collected_at"])
