"""SQLite plumbing the rest relies on: autocommit really commits, a read-only connection reads
beside a writer without waiting, and migrations leave complete planner statistics."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from publisher.db import make_engine, read_only_connection
from publisher.migrate import alembic_config, upgrade


@pytest.fixture
def engine(tmp_path):  # type: ignore[no-untyped-def]
    e = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    upgrade(e)
    yield e
    e.dispose()


def test_autocommit_statements_are_committed(engine):  # type: ignore[no-untyped-def]
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("INSERT INTO units (name, slug, timezone, public_report, created_at) "
                       "VALUES ('U', 'u', 'Asia/Jakarta', 0, '2026-01-01 00:00:00')"))
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM units")).scalar() == 1


def test_read_only_connection_reads_beside_a_writer(engine):  # type: ignore[no-untyped-def]
    with engine.connect() as writer:
        writer.execute(text("INSERT INTO units (name, slug, timezone, public_report, created_at)"
                            " VALUES ('U', 'u', 'Asia/Jakarta', 0, '2026-01-01 00:00:00')"))
        # the writer holds SQLite's write lock until it commits
        t = time.monotonic()
        with read_only_connection(engine) as reader:
            assert reader.execute(text("SELECT count(*) FROM units")).scalar() == 0
        assert time.monotonic() - t < 5  # a BEGIN IMMEDIATE would wait 30 s, then fail
        writer.commit()


def test_a_migration_refreshes_the_statistics(engine):  # type: ignore[no-untyped-def]
    """An index without statistics beside analysed ones made SQLite scan every post: an
    upgrade that ran a migration (which may add indexes) refreshes them all."""
    with engine.begin() as c:
        c.execute(text("INSERT INTO units (name, slug, timezone, public_report, created_at) "
                       "VALUES ('U', 'u', 'Asia/Jakarta', 0, '2026-01-01 00:00:00')"))
        c.exec_driver_sql("ANALYZE")
        indexed = [r[0] for r in c.execute(text("SELECT idx FROM sqlite_stat1 "
                                                "WHERE tbl = 'units' AND idx IS NOT NULL"))]
        assert indexed
        # as if the last migration had just added this index to an analysed database
        c.execute(text("DELETE FROM sqlite_stat1 WHERE idx = :i"), {"i": indexed[0]})
    downgrade(engine, "-1")
    upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM sqlite_stat1 WHERE idx = :i"),
                         {"i": indexed[0]}).scalar() == 1


def downgrade(engine, target: str) -> None:  # type: ignore[no-untyped-def]
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, target)


def test_twenty_requests_get_a_connection_at_once(tmp_path: Path) -> None:
    """Pages read side by side (a GET begins deferred); ``warta serve`` runs a thread per
    request: twenty at once must not queue for the pool (the default 5 + 10 made the
    sixteenth wait 30 s)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_timeout=1)
    held = []
    try:
        for _ in range(20):
            held.append(engine.connect())
    finally:
        for conn in held:
            conn.close()
        engine.dispose()
    assert len(held) == 20
