"""emergency broadcast: emergencies (started by one admin, confirmed by another), the posts
each unit received from one (``emergency_posts``), and a queue priority so their publish jobs
are claimed ahead of other due work (``jobs.priority``, ``ix_jobs_urgent``)

Revision ID: 0022_emergency_broadcast
Revises: 0020_review_stages
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0022_emergency_broadcast"
down_revision = "0020_review_stages"
branch_labels = None
depends_on = None

_URGENT = "status = 'queued' AND priority > 0"


def upgrade() -> None:
    op.create_table(
        "emergencies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=2000), nullable=True),
        sa.Column("media_ids", sa.JSON(), nullable=False),
        sa.Column("unit_ids", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("started_by", sa.Integer(), nullable=False),
        sa.Column("started_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("edited_by", sa.Integer(), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_hash", sa.String(length=64), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["started_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["edited_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["confirmed_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["cancelled_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_emergencies_status"), "emergencies", ["status"])
    op.create_table(
        "emergency_posts",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("emergency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.ForeignKeyConstraint(["emergency_id"], ["emergencies.id"]),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index(op.f("ix_emergency_posts_emergency_id"), "emergency_posts",
                    ["emergency_id"])
    op.add_column("jobs", sa.Column("priority", sa.Integer(), nullable=False,
                                    server_default="0"))
    op.create_index("ix_jobs_urgent", "jobs", ["run_at"],
                    postgresql_where=sa.text(_URGENT), sqlite_where=sa.text(_URGENT))


def downgrade() -> None:
    op.drop_index("ix_jobs_urgent", table_name="jobs")
    with op.batch_alter_table("jobs") as batch_op:
        batch_op.drop_column("priority")
    op.drop_index(op.f("ix_emergency_posts_emergency_id"), table_name="emergency_posts")
    op.drop_table("emergency_posts")
    op.drop_index(op.f("ix_emergencies_status"), table_name="emergencies")
    op.drop_table("emergencies")
