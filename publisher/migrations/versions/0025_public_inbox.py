"""public transparency page (issue 19): a unit's second opt-in to show its citizen-inbox
figures there (``units.public_inbox``); every existing unit starts out of it

Revision ID: 0025_public_inbox
Revises: 0022_emergency_broadcast
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_public_inbox"
down_revision = "0022_emergency_broadcast"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("units") as batch_op:
        batch_op.add_column(sa.Column("public_inbox", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("units") as batch_op:
        batch_op.drop_column("public_inbox")
