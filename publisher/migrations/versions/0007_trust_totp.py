"""trust: the optional TOTP second factor (sealed secret, when it was turned on, hashed
recovery codes, the last accepted time step)

Revision ID: 0006_trust_totp
Revises: 0005_trust
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0006_trust_totp"
down_revision = "0005_trust"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("totp_secret_encrypted", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("totp_enabled_at", publisher.db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("totp_recovery", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_recovery")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret_encrypted")
