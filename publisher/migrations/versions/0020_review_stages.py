"""review stages: a unit's (or campaign's) ordered approval stages, the region verifier flag,
each submitted post's stage and each stage's approval bound to a content hash (issue 20)

Revision ID: 0020_review_stages
Revises: 0023_inbox_reply
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0020_review_stages"
down_revision = "0023_inbox_reply"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("review_stages", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("review_remind_hours", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("review_deadline_hours", sa.Integer(), nullable=True))
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("review_stages", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("region_verifier", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "post_reviews",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("stage_kind", sa.String(length=32), nullable=True),
        sa.Column("stage_since", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_post_reviews_kind_since", "post_reviews", ["stage_kind", "stage_since"])
    op.create_table(
        "post_stage_approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("stage_index", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("approver_id", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("approved_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("voided_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["approver_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_post_stage_approvals_post_id", "post_stage_approvals", ["post_id"])


def downgrade() -> None:
    op.drop_index("ix_post_stage_approvals_post_id", table_name="post_stage_approvals")
    op.drop_table("post_stage_approvals")
    op.drop_index("ix_post_reviews_kind_since", table_name="post_reviews")
    op.drop_table("post_reviews")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("region_verifier")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("review_stages")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("review_deadline_hours")
        batch.drop_column("review_remind_hours")
        batch.drop_column("review_stages")
