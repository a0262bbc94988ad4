"""A page that only reads does not take SQLite's write lock (issue 15's load bench: twenty
officers' pages ran one after another, and stalled), and a GET cannot write through its
read session unnoticed."""

from __future__ import annotations

import sqlite3
import threading
import time

from sqlalchemy.engine import make_url

from publisher.models import Role, User


def _hold_write_lock(core):  # type: ignore[no-untyped-def]
    """Another connection that holds what a writer holds (SQLite's write lock; PostgreSQL's
    EXCLUSIVE lock on the main tables, which lets only reads through), released after 15 s
    at the latest so a test that fails does not hang."""
    url = make_url(core.settings.database_url)
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database, timeout=1, isolation_level=None,
                               check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")  # a worker's claim, a long POST
    else:
        import psycopg

        conn = psycopg.connect(url.set(drivername="postgresql").render_as_string(False))
        conn.execute("LOCK TABLE users, posts, publications, channels IN EXCLUSIVE MODE")
    lock = threading.Lock()
    released: list[bool] = []

    def release() -> None:
        with lock:
            if not released:
                conn.rollback()
                conn.close()
                released.append(True)

    timer = threading.Timer(15, release)
    timer.start()
    return release, timer


def test_pages_read_while_another_connection_holds_the_write_lock(
        core, client, login_as):  # type: ignore[no-untyped-def]
    login_as(Role.OPERATOR, "a")
    client.get("/")  # the login's own first reads are done
    release, timer = _hold_write_lock(core)
    try:
        started = time.monotonic()
        pages = [client.get(p) for p in ("/", "/unggahan", "/kalender", "/laporan/")]
        took = time.monotonic() - started
    finally:
        timer.cancel()
        release()
    assert [r.status_code for r in pages] == [200, 200, 200, 200]
    assert took < 10, f"the pages waited {took:.1f} s for the write lock"


def test_a_get_that_writes_through_its_read_session_is_an_error(app, client, login_as, core):  # type: ignore[no-untyped-def]
    from web.app import db

    me = login_as(Role.OPERATOR, "a")

    @app.get("/uji-tulis")
    def writes() -> str:
        s = db()
        s.get(User, me.id).name = "diubah diam-diam"
        s.commit()
        return "ok"

    assert client.get("/uji-tulis").status_code == 500  # the error page, no traceback
    with core.sessions() as s:
        assert s.get(User, me.id).name != "diubah diam-diam"
