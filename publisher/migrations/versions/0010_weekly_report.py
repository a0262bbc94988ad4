"""weekly report: addresses that receive it without being Warta users
(``notify_report_recipients``), and deliveries without a user (``notify_deliveries.user_id``
nullable, unique per event, channel and address among those)

Revision ID: 0010_weekly_report
Revises: 0009_notify
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0010_weekly_report"
down_revision = "0009_notify"
branch_labels = None
depends_on = None

_NO_USER = "user_id IS NULL"
_OPEN = "status IN ('pending', 'sending')"


def upgrade() -> None:
    op.create_table(
        "notify_report_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("created_at", publisher.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_report_recipient_unit", "notify_report_recipients", ["unit_id"])
    # SQLite rebuilds the table for the nullable column; its partial index is dropped and
    # made again around the rebuild, so its WHERE clause cannot be lost on the way.
    op.drop_index("ix_notify_delivery_open", table_name="notify_deliveries")
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
    op.create_index("ix_notify_delivery_open", "notify_deliveries", ["status"],
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
    op.create_index("uq_notify_delivery_address", "notify_deliveries",
                    ["event_id", "channel", "address"], unique=True,
                    postgresql_where=sa.text(_NO_USER), sqlite_where=sa.text(_NO_USER))


def downgrade() -> None:
    op.drop_index("uq_notify_delivery_address", table_name="notify_deliveries")
    op.execute("DELETE FROM notify_deliveries WHERE user_id IS NULL")
    op.drop_index("ix_notify_delivery_open", table_name="notify_deliveries")
    with op.batch_alter_table("notify_deliveries", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("ix_notify_delivery_open", "notify_deliveries", ["status"],
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
    op.drop_index("ix_report_recipient_unit", table_name="notify_report_recipients")
    op.drop_table("notify_report_recipients")
