"""A PostgreSQL engine gives up on a server that does not answer (issue 17): without a
connect timeout libpq waits as long as the kernel's TCP retries, and /readyz, requests and
workers' claims hung with it."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from publisher import db

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def silent_server():  # type: ignore[no-untyped-def]
    """A port whose kernel completes the TCP handshake (the backlog) but no one ever speaks:
    what a hung database host or a stuck proxy looks like to a client."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def _connect_in_thread(url: str, deadline: float) -> tuple[bool, BaseException | None, float]:
    outcome: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        engine = db.make_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            outcome["error"] = exc
        finally:
            outcome["took"] = time.monotonic() - started
            engine.dispose()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(deadline)
    error = outcome.get("error")
    took = outcome.get("took", deadline)
    return (not t.is_alive(), error if isinstance(error, BaseException) else None,
            float(took) if isinstance(took, float | int) else deadline)


def test_an_unanswering_server_fails_within_the_timeout(silent_server, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(db, "PG_CONNECT_TIMEOUT", 2)
    done, error, took = _connect_in_thread(
        f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test", deadline=20)
    assert done, "the connection attempt still waits after 20 s"
    assert isinstance(error, OperationalError)
    assert took < 10


def test_the_url_can_set_its_own_timeout(silent_server, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(db, "PG_CONNECT_TIMEOUT", 60)
    done, error, took = _connect_in_thread(
        f"postgresql+psycopg://postgres@127.0.0.1:{silent_server}/test?connect_timeout=2",
        deadline=20)
    assert done and isinstance(error, OperationalError) and took < 10
