"""inbox reply: the office's replies to citizens' comments sent from Warta
(``citizen_comment_replies``) and the unit setting that they need a second person's approval

Revision ID: 0023_inbox_reply
Revises: 0019_first_comment
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0023_inbox_reply"
down_revision = "0019_first_comment"
branch_labels = None
depends_on = None


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, publisher.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("units") as batch:
        batch.add_column(sa.Column("replies_need_approval", sa.Boolean(),
                                   server_default=sa.true(), nullable=False))
    op.create_table(
        "citizen_comment_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("parent_external_id", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("written_by", sa.Integer(), nullable=True),
        sa.Column("edited_by", sa.Integer(), nullable=True),
        sa.Column("approved_by", sa.Integer(), nullable=True),
        _at("approved_at"),
        sa.Column("approval_hash", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=True),
        _at("submitted_at"),
        _at("sent_at"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_en", sa.Text(), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        _at("created_at", False),
        _at("updated_at", False),
        sa.ForeignKeyConstraint(["comment_id"], ["citizen_comments.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"]),
        sa.ForeignKeyConstraint(["written_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["edited_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["approved_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_citizen_comment_replies_comment_id", "citizen_comment_replies",
                    ["comment_id"])
    op.create_index("ix_citizen_comment_replies_unit_id", "citizen_comment_replies",
                    ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_citizen_comment_replies_unit_id", table_name="citizen_comment_replies")
    op.drop_index("ix_citizen_comment_replies_comment_id", table_name="citizen_comment_replies")
    op.drop_table("citizen_comment_replies")
    with op.batch_alter_table("units") as batch:
        batch.drop_column("replies_need_approval")
