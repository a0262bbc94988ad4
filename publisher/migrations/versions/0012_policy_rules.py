"""policy rules: the region's and campaigns' rules checked before approval
(``policy_rules``), the soft violations acknowledged at submit (``policy_acks``), and the alt
text of a post's images (``post_media.alt_text``)

Revision ID: 0012_policy_rules
Revises: 0011_notify_webhooks
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0012_policy_rules"
down_revision = "0011_notify_webhooks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_policy_rules_campaign_id"), "policy_rules", ["campaign_id"])
    op.create_table(
        "policy_acks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["rule_id"], ["policy_rules.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_policy_acks_post_id"), "policy_acks", ["post_id"])
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alt_text", sa.String(length=1000), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_column("alt_text")
    op.drop_index(op.f("ix_policy_acks_post_id"), table_name="policy_acks")
    op.drop_table("policy_acks")
    op.drop_index(op.f("ix_policy_rules_campaign_id"), table_name="policy_rules")
    op.drop_table("policy_rules")
