"""Engine and session plumbing shared by the web app, the worker and the CLI.

SQLite is tuned for several processes (WAL, busy timeout, foreign keys) so the one-command
install behaves; PostgreSQL needs nothing special. Nothing here runs at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Connection, Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from postqueue.models import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


#: Execution option of a connection that only reads (``read_only_connection``).
READ_ONLY = "warta_read_only"
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


#: Seconds to wait for PostgreSQL to answer a new connection before giving up.
PG_CONNECT_TIMEOUT = 10


def make_engine(url: str, **kw: Any) -> Engine:
    """Create an engine; for SQLite, make a file-backed database safe for several processes."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Pages read side by side now (a GET begins deferred, see web.app.db), and ``warta
        # serve``'s threaded server has a thread per request: the default pool (5 + 10) made
        # the sixteenth concurrent request wait for a connection. SQLite connections are cheap.
        if "poolclass" not in kw and path and path != ":memory:":
            kw.setdefault("pool_size", 10)
            kw.setdefault("max_overflow", 30)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kw)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin (BEGIN IMMEDIATE
            # below), so a claim's read and write happen under one write lock.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            # Reads through the OS page cache without a copy per page: the report's
            # latest-snapshot lookups touch thousands of scattered pages (bench/reports.py).
            cur.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A read-only connection takes no write lock: it must not wait for, or hold up,
            # the request or worker that has one (see ``read_only``).
            options = conn.get_execution_options()
            if options.get("isolation_level") == "AUTOCOMMIT":
                return  # each statement commits itself; a BEGIN here would never be committed
            conn.exec_driver_sql("BEGIN" if options.get(READ_ONLY, False) else "BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if "connect_timeout=" not in url:
        # libpq waits for an unanswering server (a dropped route, a host that is down behind
        # a firewall) as long as the kernel's TCP retries last, minutes: /readyz, a request
        # and a worker's claim hung with it. ``?connect_timeout=N`` in the URL overrides this.
        kw.setdefault("connect_args", {}).setdefault("connect_timeout", PG_CONNECT_TIMEOUT)
    return create_engine(url, pool_pre_ping=False, pool_size=10, max_overflow=10, **kw)


@contextmanager
def read_only_connection(engine: Engine) -> Iterator[Connection]:
    """A pooled connection for reads beside a session that may hold SQLite's write lock.

    SQLite: a deferred ``BEGIN``, so it reads a WAL snapshot without queueing for the lock.
    PostgreSQL: a ``READ ONLY`` transaction, so a mistake cannot write.
    """
    with engine.connect() as conn:
        options: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        conn.execution_options(**options)
        try:
            yield conn
        finally:
            conn.rollback()


def refresh_statistics(engine: Engine) -> None:
    """SQLite: recompute the query planner's statistics (``ANALYZE``; about half a second on
    the reports benchmark's three million snapshots). SQLite never does it by itself, and
    without statistics it reads the publications of a report through their status (every row
    is "published") instead of their date. PostgreSQL's autovacuum keeps its own: nothing to do.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A short unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
