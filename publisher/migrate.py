"""Apply the Alembic migrations programmatically (``warta init``, tests, the demo)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


#: Rows SQLite samples per index when it refreshes its statistics: enough for the planner,
#: milliseconds even on millions of snapshots.
SQLITE_ANALYSIS_LIMIT = 1000


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema; safe to run again."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    if engine.dialect.name == "sqlite":
        refresh_sqlite_statistics(engine)


def refresh_sqlite_statistics(engine: Engine) -> None:
    """Give every index planner statistics, new ones included.

    SQLite plans with ``sqlite_stat1`` when it exists and assumes an index without an entry
    there is very selective: after a migration adds an index to an analysed database, the
    report's fact query switched to scanning every post through the new index (four times
    slower, ``bench/reports.py``). With no statistics at all, or complete ones, it plans well.
    """
    with engine.begin() as conn:
        conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        conn.exec_driver_sql("ANALYZE")
