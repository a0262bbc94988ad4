"""citizen comments past their deadline (issue 19): an index on (status, due_at) for the
dashboard's overdue list, the inbox's overdue filter and the worker's overdue sweep

Revision ID: 0014_inbox_overdue
Revises: 0013_citizen_inbox
"""
from __future__ import annotations

from alembic import op

revision = "0014_inbox_overdue"
down_revision = "0013_citizen_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_citizen_comment_status_due", "citizen_comments", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_citizen_comment_status_due", table_name="citizen_comments")
