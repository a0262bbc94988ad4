"""media library: per-asset alt text and tags, region-wide assets shared by admins, and the
index the library's newest-first list reads

Revision ID: 0017_media_library
Revises: 0021_campaign_fanout
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_media_library"
down_revision = "0021_campaign_fanout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("media_assets") as batch:
        batch.add_column(sa.Column("alt_text", sa.String(length=1000), server_default="",
                                   nullable=False))
        batch.add_column(sa.Column("tags", sa.String(length=500), server_default="",
                                   nullable=False))
        batch.add_column(sa.Column("region_wide", sa.Boolean(), server_default=sa.false(),
                                   nullable=False))
    op.create_index("ix_media_assets_region_wide", "media_assets", ["region_wide"])
    op.create_index("ix_media_unit_created", "media_assets", ["unit_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_media_unit_created", table_name="media_assets")
    op.drop_index("ix_media_assets_region_wide", table_name="media_assets")
    with op.batch_alter_table("media_assets") as batch:
        batch.drop_column("region_wide")
        batch.drop_column("tags")
        batch.drop_column("alt_text")
