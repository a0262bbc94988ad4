"""The ``warta`` command before and around a database: one sentence naming cause and fix, a
non-zero exit, and nothing created behind the operator's back."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from publisher.models import AuditEvent, Role, User, WorkerHeartbeat
from publisher.services import org
from web.cli import cli


@pytest.fixture
def bare(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A folder with no database, no keys and no WARTA_* settings at all."""
    import os

    for key in [k for k in os.environ if k.startswith("WARTA_")]:
        monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def sentence(result) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code not in (0, None), result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 2, result.output
    return result.output


def test_worker_in_an_empty_folder_says_run_init_and_creates_nothing(bare, tmp_path):
    out = sentence(bare("worker", "--once"))
    assert "warta init" in out and "var/warta.db" in out
    assert list(tmp_path.iterdir()) == []  # no var/, no database, no keys


def test_init_then_worker_works_in_the_same_folder(bare, tmp_path):
    assert bare("init").exit_code == 0
    assert (tmp_path / "var" / "warta.db").exists()
    r = bare("worker", "--once")
    assert r.exit_code == 0, r.output


def test_an_empty_database_file_asks_for_init(bare, tmp_path, monkeypatch):
    db = tmp_path / "empty.db"
    db.touch()
    monkeypatch.setenv("WARTA_DATABASE_URL", f"sqlite:///{db}")
    assert "warta init" in sentence(bare("user", "list"))


@pytest.mark.parametrize(("url", "needle"), [
    ("mysql://root@127.0.0.1/warta", "'mysql'"),
    ("postgresql+psycopg2://postgres@127.0.0.1/test", "postgresql+psycopg://"),
    ("no url at all", "WARTA_DATABASE_URL"),
])
@pytest.mark.parametrize("command", [("init",), ("worker", "--once"), ("unit", "list")])
def test_unsupported_database_urls_are_named(bare, monkeypatch, url, needle, command):
    monkeypatch.setenv("WARTA_DATABASE_URL", url)
    assert needle in sentence(bare(*command))


def test_unreachable_postgresql_is_one_sentence(bare, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("WARTA_DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
    out = sentence(bare("worker", "--once"))
    assert "WARTA_DATABASE_URL" in out and str(port) in out


@pytest.fixture
def warta(test_env, monkeypatch):  # type: ignore[no-untyped-def]
    for key, value in test_env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


def test_unit_and_user_lists(warta, core, make_user):  # type: ignore[no-untyped-def]
    make_user(Role.OPERATOR, "a", email="op@dinsos.go.id")
    make_user(Role.ADMIN, None, email="admin@kominfo.go.id")
    r = warta("unit", "list")
    assert r.exit_code == 0
    lines = r.output.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["bappeda", "dinsos"]
    assert "1 pengguna" in lines[1] and "0 pengguna" in lines[0]
    r = warta("user", "list", "--unit", "dinsos")
    assert r.exit_code == 0 and r.output.count("\n") == 1 and "op@dinsos.go.id" in r.output
    assert "admin@kominfo.go.id" in warta("user", "list").output
    assert warta("user", "list", "--unit", "nope").exit_code == 1


def test_set_password_resets_and_unlocks(warta, core, make_user):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    user = make_user(Role.OPERATOR, "a", email="lupa@dinsos.go.id")
    with core.sessions.begin() as s:
        u = s.get(User, user.id)
        # The command runs on the real clock (it builds its own core), so the lock does too.
        u.failed_logins, u.locked_until = 9, datetime.now(UTC) + timedelta(hours=1)
    assert "terkunci" in warta("user", "list").output
    r = warta("user", "set-password", "LUPA@dinsos.go.id", "--password", "kata-sandi-baru-2026")
    assert r.exit_code == 0, r.output
    with core.sessions() as s:
        u = s.get(User, user.id)
        assert org.check_password(u, "kata-sandi-baru-2026")
        assert (u.failed_logins, u.locked_until) == (0, None)
        assert s.execute(select(AuditEvent.action).where(
            AuditEvent.object_id == user.id, AuditEvent.action == "user.password_reset")
        ).scalar_one()
    assert warta("user", "set-password", "ghost@x.go.id", "--password", "x" * 20).exit_code == 1


def test_serve_on_a_busy_port_starts_no_worker(warta, core):  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = sentence(warta("serve", "--port", str(port)))
    assert str(port) in out and "--port" in out
    with core.sessions() as s:
        assert s.execute(select(WorkerHeartbeat)).first() is None


def test_scheduler_chatter_stays_below_warning() -> None:
    from publisher.logs import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        assert not logging.getLogger("apscheduler.scheduler").isEnabledFor(logging.INFO)
        assert logging.getLogger("publisher.worker").isEnabledFor(logging.INFO)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        logging.getLogger("apscheduler").setLevel(logging.NOTSET)


def test_help_speaks_indonesian_first(bare) -> None:  # type: ignore[no-untyped-def]
    out = bare("--help").output
    assert "Jalankan penerbit latar belakang / run the background publisher" in out
    assert "Pengguna / users" in out


def test_favicon_is_served(client) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.data[:4] == b"\x00\x00\x01\x00"  # an ICO header


def test_no_leftover_keys_from_a_failed_command(bare, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sentence(bare("unit", "list"))
    assert not (tmp_path / "var").exists()
