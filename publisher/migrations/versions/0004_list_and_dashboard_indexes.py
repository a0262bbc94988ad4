"""indexes for lists that grow with history: the posts list (a unit's posts, or all for admins,
newest first) and the dashboard (this week's schedule, publications needing attention)

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch_op:
        batch_op.create_index("ix_posts_unit_created", ["unit_id", "created_at", "id"])
        batch_op.create_index("ix_posts_created", ["created_at", "id"])
    with op.batch_alter_table("publications") as batch_op:
        batch_op.create_index("ix_publication_scheduled_at", ["scheduled_at"])
        batch_op.create_index("ix_publication_status_updated", ["status", "updated_at"])


def downgrade() -> None:
    with op.batch_alter_table("publications") as batch_op:
        batch_op.drop_index("ix_publication_status_updated")
        batch_op.drop_index("ix_publication_scheduled_at")
    with op.batch_alter_table("posts") as batch_op:
        batch_op.drop_index("ix_posts_created")
        batch_op.drop_index("ix_posts_unit_created")
