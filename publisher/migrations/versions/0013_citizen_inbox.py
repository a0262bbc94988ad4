"""citizen voice (issue 19): citizens' comments on published posts, their history of
hand-overs and status changes, the collection position per post, the triage keywords and the
regional days off

Revision ID: 0013_citizen_inbox
Revises: 0012_policy_rules
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import publisher.db

revision = "0013_citizen_inbox"
down_revision = "0012_policy_rules"
branch_labels = None
depends_on = None

_DUE = "next_collect_at IS NOT NULL"
#: The triage suggestion's starting words (admins edit them on the inbox's keyword page).
DEFAULT_KEYWORDS = {
    "aduan": ["belum cair", "belum terima", "belum menerima", "rusak", "lambat", "pungli",
              "kecewa", "keluhan", "lapor", "macet", "banjir", "tidak dilayani"],
    "pertanyaan": ["kapan", "bagaimana", "di mana", "dimana", "berapa", "apakah", "syarat",
                   "cara daftar", "mohon info"],
    "apresiasi": ["terima kasih", "terimakasih", "mantap", "keren", "hebat", "sukses selalu",
                  "apresiasi"],
    "saran": ["saran", "sebaiknya", "usul", "usulan", "harusnya", "mohon ditambah"],
    "spam": ["slot", "gacor", "judi", "togel", "pinjol", "wa.me"],
}


def _at(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, publisher.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "citizen_comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("parent_external_id", sa.String(length=200), nullable=True),
        sa.Column("author_name", sa.String(length=300), nullable=True),
        sa.Column("author_handle", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        _at("posted_at", False),
        _at("edited_at"),
        _at("deleted_at"),
        sa.Column("hidden", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("origin_unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        _at("due_at"),
        _at("responded_at"),
        _at("collected_at", False),
        _at("seen_at", False),
        _at("updated_at", False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"]),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"]),
        sa.ForeignKeyConstraint(["origin_unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("channel_id", "external_id", name="uq_citizen_comment_external"),
    )
    op.create_index("ix_citizen_comment_origin_posted", "citizen_comments",
                    ["origin_unit_id", "posted_at"])
    op.create_index("ix_citizen_comment_unit_posted", "citizen_comments",
                    ["unit_id", "posted_at"])
    op.create_index("ix_citizen_comment_publication", "citizen_comments",
                    ["publication_id", "posted_at"])
    op.create_index("ix_citizen_comment_posted", "citizen_comments", ["posted_at"])
    op.create_table(
        "citizen_comment_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=True),
        sa.Column("to_unit_id", sa.Integer(), nullable=True),
        sa.Column("from_value", sa.String(length=32), nullable=True),
        sa.Column("to_value", sa.String(length=32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        _at("at", False),
        sa.ForeignKeyConstraint(["comment_id"], ["citizen_comments.id"]),
        sa.ForeignKeyConstraint(["from_unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["to_unit_id"], ["units.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_citizen_comment_events_comment_id", "citizen_comment_events",
                    ["comment_id"])
    op.create_index("ix_citizen_comment_events_to_unit_id", "citizen_comment_events",
                    ["to_unit_id"])
    op.create_table(
        "comment_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        _at("pass_started_at"),
        _at("next_collect_at"),
        sa.Column("stage", sa.Integer(), nullable=False),
        _at("last_complete_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"]),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("publication_id"),
    )
    op.create_index("ix_comment_sources_channel_id", "comment_sources", ["channel_id"])
    op.create_index("ix_comment_source_due", "comment_sources", ["next_collect_at"],
                    postgresql_where=sa.text(_DUE), sqlite_where=sa.text(_DUE))
    op.create_table(
        "comment_keywords",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("keyword", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("category", "keyword", name="uq_comment_keyword"),
    )
    keywords = sa.table("comment_keywords", sa.column("category", sa.String),
                        sa.column("keyword", sa.String))
    op.bulk_insert(keywords, [{"category": c, "keyword": w}
                              for c, words in DEFAULT_KEYWORDS.items() for w in words])
    op.create_table(
        "working_day_exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("unit_id", "day", name="uq_day_off_unit_day"),
    )


def downgrade() -> None:
    op.drop_table("working_day_exceptions")
    op.drop_table("comment_keywords")
    op.drop_index("ix_comment_source_due", table_name="comment_sources")
    op.drop_index("ix_comment_sources_channel_id", table_name="comment_sources")
    op.drop_table("comment_sources")
    op.drop_index("ix_citizen_comment_events_to_unit_id", table_name="citizen_comment_events")
    op.drop_index("ix_citizen_comment_events_comment_id", table_name="citizen_comment_events")
    op.drop_table("citizen_comment_events")
    for name in ("ix_citizen_comment_posted", "ix_citizen_comment_publication",
                 "ix_citizen_comment_unit_posted", "ix_citizen_comment_origin_posted"):
        op.drop_index(name, table_name="citizen_comments")
    op.drop_table("citizen_comments")
