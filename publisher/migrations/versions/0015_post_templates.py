"""post templates and hashtag sets: a unit's (or the region's) named post templates with
placeholders (``post_templates``) and named hashtag sets (``hashtag_sets``)

Revision ID: 0015_post_templates
Revises: 0014_inbox_overdue
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0015_post_templates"
down_revision = "0014_inbox_overdue"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [sa.Column("created_by", sa.Integer(), nullable=True),
            sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
            sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["created_by"], ["users.id"])]


def upgrade() -> None:
    op.create_table(
        "post_templates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("channel_ids", sa.JSON(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        *_stamps(),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_post_templates_unit_id"), "post_templates", ["unit_id"])
    op.create_table(
        "hashtag_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tags", sa.String(length=1000), nullable=False),
        *_stamps(),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_hashtag_sets_unit_id"), "hashtag_sets", ["unit_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_hashtag_sets_unit_id"), table_name="hashtag_sets")
    op.drop_table("hashtag_sets")
    op.drop_index(op.f("ix_post_templates_unit_id"), table_name="post_templates")
    op.drop_table("post_templates")
