"""campaign fan-out: one message Diskominfo sends to many units (``campaign_fanouts``) and
each unit's copy, a post of its own (``campaign_fanout_units``, one row per fan-out and unit)

Revision ID: 0021_campaign_fanout
Revises: 0024_inbox_retention
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0021_campaign_fanout"
down_revision = "0024_inbox_retention"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_fanouts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("platforms", sa.JSON(), nullable=False),
        sa.Column("scheduled_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_hours", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"]),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_campaign_fanouts_campaign_id"), "campaign_fanouts",
                    ["campaign_id"])
    op.create_table(
        "campaign_fanout_units",
        sa.Column("fanout_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("received_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fanout_id"], ["campaign_fanouts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("fanout_id", "unit_id"),
        sa.UniqueConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("campaign_fanout_units")
    op.drop_index(op.f("ix_campaign_fanouts_campaign_id"), table_name="campaign_fanouts")
    op.drop_table("campaign_fanouts")
