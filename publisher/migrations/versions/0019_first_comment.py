"""first comment: a publication's optional first comment (the account's own comment on the
post, X's reply), tracked as its own crash-safe step (``first_comments``)

Revision ID: 0019_first_comment
Revises: 0018_recurring_posts
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0019_first_comment"
down_revision = "0018_recurring_posts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "first_comments",
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("submitted_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("absent_looks", sa.Integer(), nullable=False),
        sa.Column("resent", sa.Boolean(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_en", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=40), nullable=True),
        sa.Column("posted_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("publication_id"),
    )


def downgrade() -> None:
    op.drop_table("first_comments")
