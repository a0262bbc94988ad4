"""reconcile: one publication per platform post (partial unique index on published
(channel_id, external_id)), and the reconcile bookkeeping of a publication: how long a platform
held it back (``held_until``), how many lookups found nothing since the last call
(``absent_looks``), whether it was already published again once (``republished_at``), and a
poll call in flight (``polling_since``)

Revision ID: 0005_reconcile
Revises: 0006_trust_totp
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0005_reconcile"
down_revision = "0006_trust_totp"
branch_labels = None
depends_on = None

_PUBLISHED = "status = 'published' AND external_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("publications") as batch_op:
        batch_op.add_column(sa.Column("held_until", publisher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("absent_looks", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("republished_at", publisher.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("polling_since", publisher.db.UTCDateTime(timezone=True), nullable=True))
    op.create_index("uq_publication_external", "publications", ["channel_id", "external_id"],
                    unique=True, postgresql_where=sa.text(_PUBLISHED),
                    sqlite_where=sa.text(_PUBLISHED))


def downgrade() -> None:
    op.drop_index("uq_publication_external", table_name="publications")
    with op.batch_alter_table("publications") as batch_op:
        batch_op.drop_column("polling_since")
        batch_op.drop_column("republished_at")
        batch_op.drop_column("absent_looks")
        batch_op.drop_column("held_until")
