"""One report statement run on a second connection while the caller's session keeps working.

A report with "change versus the previous period" needs two latest-snapshot lookups: the
period's and the previous period's. Each is the most expensive step of a report
(``bench/reports.py``), and the previous period's totals depend on nothing else the page
computes, so they run beside it instead of after it. Both drivers release the GIL while the
database works, so the two really overlap.

The second connection sees what is committed, not what the caller's transaction has written:
this is for reads on behalf of a request that has not written anything (the reports page and
API). Where that cannot hold (an in-memory SQLite database, a session bound to one connection,
or pending changes) the statement simply runs on the caller's session.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, Row, Select
from sqlalchemy.orm import Session

from publisher.db import read_only_connection

#: Bounded so a burst of report views cannot take every pooled connection from the workers.
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="warta-report")


def _separate_connection_sees_same_data(session: Session) -> bool:
    bind = session.get_bind()
    if not isinstance(bind, Engine):
        return False  # bound to one connection, e.g. a test's outer transaction
    if bind.dialect.name == "sqlite" and bind.url.database in (None, "", ":memory:"):
        return False  # every connection to an in-memory database is a new, empty database
    return not (session.new or session.dirty or session.deleted)


def _one(engine: Engine, stmt: Select) -> Row[Any]:
    with read_only_connection(engine) as conn:
        return conn.execute(stmt).one()


def alongside(session: Session, stmt: Select) -> Callable[[], Row[Any]]:
    """Start ``stmt`` (one result row) now; the returned function waits for and returns it.

    An error of the statement is raised by that function, in the caller's thread.
    """
    if not _separate_connection_sees_same_data(session):
        row = session.execute(stmt).one()
        return lambda: row
    future = _POOL.submit(_one, session.get_bind(), stmt)
    return future.result
