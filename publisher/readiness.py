"""Is the database there, reachable and migrated? Asked before a command that needs it.

Without this, ``warta worker --once`` in an empty folder created ``var/warta.db`` and new keys and
then died on "no such table: jobs"; an unreachable PostgreSQL printed a long traceback, and a
``mysql://`` URL a ``ModuleNotFoundError``. Each now gets one sentence that names the cause and
the fix, before anything is created.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from publisher.migrate import alembic_config

#: The backends Warta is built and tested on, with the driver each URL must name.
SUPPORTED = {"sqlite": ("pysqlite",), "postgresql": ("psycopg",)}
EXAMPLES = "sqlite:///var/warta.db, postgresql+psycopg://user@host/dbname"


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    """Alembic announces its context at INFO; a readiness check should print nothing."""
    logger = logging.getLogger(name)
    before = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(before)


@lru_cache(maxsize=1)
def migration_heads() -> tuple[str, ...]:
    """The newest schema revision(s) this code knows (read once: the files do not change
    while the process runs)."""
    return tuple(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def current_revision(conn: Connection) -> str | None:
    """The schema revision the database says it has (``None``: no Warta tables)."""
    with _quiet("alembic.runtime.migration"):
        return MigrationContext.configure(conn).get_current_revision()


class NotReady(Exception):
    """The database cannot serve a command yet; ``message`` (Indonesian) and ``message_en``
    say why and what to do."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


def check_backend(url: str) -> None:
    """Refuse a URL of a backend or driver Warta does not support, naming the ones it does."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise NotReady(f"WARTA_DATABASE_URL tidak terbaca. Contoh: {EXAMPLES}.",
                       f"WARTA_DATABASE_URL cannot be read. Examples: {EXAMPLES}.") from None
    backend, driver = parsed.get_backend_name(), parsed.get_driver_name()
    if backend not in SUPPORTED:
        raise NotReady(f"Basis data '{backend}' tidak didukung; Warta memakai SQLite atau "
                       f"PostgreSQL ({EXAMPLES}).",
                       f"Database backend '{backend}' is not supported; Warta runs on SQLite or "
                       f"PostgreSQL ({EXAMPLES}).")
    if driver not in SUPPORTED[backend]:
        want = f"{backend}+{SUPPORTED[backend][0]}://"
        raise NotReady(f"Driver '{driver}' untuk {backend} tidak didukung; tulis URL sebagai "
                       f"{want}…", f"Driver '{driver}' for {backend} is not supported; write the "
                       f"URL as {want}…")


def check_database(url: str) -> None:
    """Raise ``NotReady`` unless the database exists, answers, and has the newest schema.

    Runs before the core is built, so a failed check leaves no database file and no keys behind.
    """
    check_backend(url)
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not Path(path).exists():
            raise NotReady(f"Belum ada database di {path}: jalankan `warta init` dulu (di folder "
                           "ini, atau atur WARTA_DATABASE_URL).",
                           f"There is no database at {path}: run `warta init` first (in this "
                           "folder, or set WARTA_DATABASE_URL).")
        connect_args: dict[str, object] = {}
    else:
        connect_args = {"connect_timeout": 5}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    except NoSuchModuleError:  # pragma: no cover - check_backend refuses these first
        raise NotReady(f"Driver basis data untuk {shown} tidak terpasang.",
                       f"The database driver for {shown} is not installed.") from None
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise NotReady(f"Tidak dapat terhubung ke database {shown} ({reason}). Periksa "
                       "WARTA_DATABASE_URL dan apakah server database berjalan.",
                       f"Cannot connect to the database {shown} ({reason}). Check "
                       "WARTA_DATABASE_URL and that the database server is running.") from None
    finally:
        engine.dispose()
    heads = migration_heads()
    if current is None:
        raise NotReady(f"Database {shown} belum disiapkan: jalankan `warta init`.",
                       f"The database {shown} has no Warta tables yet: run `warta init`.")
    if current not in heads:
        raise NotReady(f"Skema database {shown} tidak sesuai versi Warta ini: jalankan "
                       "`warta init` untuk memperbaruinya.",
                       f"The database {shown} does not have this Warta version's schema: run "
                       "`warta init` to upgrade it.")
