"""recurring posts: a post's series rule, the occurrences skipped or moved, and the
publication's occurrence instant, the key that makes each occurrence one publication per
channel (the one-off "one live publication per post and channel" no longer covers them)

Revision ID: 0018_recurring_posts
Revises: 0017_media_library
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0018_recurring_posts"
down_revision = "0017_media_library"
branch_labels = None
depends_on = None

_OLD_LIVE = "status <> 'cancelled'"
_LIVE_ONE_OFF = "status <> 'cancelled' AND occurrence_at IS NULL"
_LIVE_OCCURRENCE = "status <> 'cancelled' AND occurrence_at IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "post_recurrences",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("freq", sa.String(length=12), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("month_day", sa.Integer(), nullable=True),
        sa.Column("nth", sa.Integer(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=True),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_table(
        "recurrence_exceptions",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("occurrence_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("moved_to", publisher.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("post_id", "occurrence_at"),
    )
    op.add_column("publications", sa.Column(
        "occurrence_at", publisher.db.UTCDateTime(timezone=True), nullable=True))
    op.drop_index("uq_publication_live", table_name="publications",
                  postgresql_where=sa.text(_OLD_LIVE), sqlite_where=sa.text(_OLD_LIVE))
    op.create_index("uq_publication_live", "publications", ["post_id", "channel_id"],
                    unique=True, postgresql_where=sa.text(_LIVE_ONE_OFF),
                    sqlite_where=sa.text(_LIVE_ONE_OFF))
    op.create_index("uq_publication_occurrence", "publications",
                    ["post_id", "channel_id", "occurrence_at"], unique=True,
                    postgresql_where=sa.text(_LIVE_OCCURRENCE),
                    sqlite_where=sa.text(_LIVE_OCCURRENCE))


def downgrade() -> None:
    op.drop_index("uq_publication_occurrence", table_name="publications",
                  postgresql_where=sa.text(_LIVE_OCCURRENCE),
                  sqlite_where=sa.text(_LIVE_OCCURRENCE))
    op.drop_index("uq_publication_live", table_name="publications",
                  postgresql_where=sa.text(_LIVE_ONE_OFF), sqlite_where=sa.text(_LIVE_ONE_OFF))
    op.create_index("uq_publication_live", "publications", ["post_id", "channel_id"],
                    unique=True, postgresql_where=sa.text(_OLD_LIVE),
                    sqlite_where=sa.text(_OLD_LIVE))
    with op.batch_alter_table("publications") as batch_op:
        batch_op.drop_column("occurrence_at")
    op.drop_table("recurrence_exceptions")
    op.drop_table("post_recurrences")
