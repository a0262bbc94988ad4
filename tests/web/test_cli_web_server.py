"""``warta web`` for real: a subprocess on a real port, served by gunicorn (processes × threads),
each process with its own database engine; Ctrl+C and SIGTERM end it with status 0 and no
traceback, the port freed; a busy port is one sentence; without gunicorn, werkzeug serves."""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
WARTA = [sys.executable, "-c", "from web.cli import main; main()"]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(test_env: dict[str, str], pythonpath: str = str(ROOT)) -> dict[str, str]:
    return {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "PYTHONPATH": pythonpath,
            **test_env, "WARTA_READY_WORKER_WITHIN": "0"}


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    # Its own process group, so a test can press "Ctrl+C" (SIGINT to the whole group).
    return subprocess.Popen([*WARTA, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"warta web exited ({proc.returncode}): {out}\n{err}")
        try:  # the master listens at once; a worker answers once its app is built
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def _stop(proc: subprocess.Popen, sig: int, group: bool) -> tuple[str, str]:
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    try:
        return proc.communicate(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise AssertionError(f"still running 40 s after {sig!r}: {out}\n{err}") from None


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        # as every server binds (TIME_WAIT of closed connections does not count as taken)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            s.listen()
        except OSError:
            return False
    return True


def _holds_database(proc: psutil.Process, test_env: dict[str, str]) -> bool:
    """Whether the process has the test's database open: the SQLite file, or a connection to
    PostgreSQL's port."""
    url = test_env["WARTA_DATABASE_URL"]
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        return any(f.path == path for f in proc.open_files())
    return any(c.raddr and c.raddr.port == 5432 for c in proc.net_connections("tcp"))


@pytest.mark.parametrize(("sig", "group"), [
    (signal.SIGINT, True),    # Ctrl+C in a terminal: the whole process group
    (signal.SIGINT, False),
    (signal.SIGTERM, False),  # systemctl stop (KillMode=mixed), docker stop
    (signal.SIGTERM, True),   # KillMode=control-group: every process at once
], ids=["ctrl-c", "sigint", "sigterm", "sigterm-group"])
def test_web_is_gunicorn_processes_and_stops_cleanly(test_env, tmp_path, sig, group):  # type: ignore[no-untyped-def]
    port = _free_port()
    proc = _start(["web", "--port", str(port), "--workers", "2", "--threads", "2"],
                  _env(test_env), tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        res = _wait_for(f"{base}/healthz", proc)
        assert res.json() == {"status": "ok"} and res.headers["Server"].startswith("gunicorn")
        login = requests.get(f"{base}/masuk", timeout=10)
        assert login.status_code == 200 and 'name="password"' in login.text
        master = psutil.Process(proc.pid)
        deadline = time.monotonic() + 30
        while len(master.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        workers = master.children()
        assert len(workers) == 2, workers
        for _ in range(6):  # the database, from whichever worker answers
            ready = requests.get(f"{base}/readyz", headers={"Connection": "close"}, timeout=10)
            assert ready.status_code == 200, ready.text
        # Each worker built its own engine after the fork; the master never holds one.
        assert any(_holds_database(w, test_env) for w in workers)
        assert not _holds_database(master, test_env)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    out, err = _stop(proc, sig, group)
    assert proc.returncode == 0, err
    assert "Traceback" not in out + err, err
    assert "Shutting down: Master" in err
    assert not any(psutil.pid_exists(w.pid) and w.status() != psutil.STATUS_ZOMBIE
                   for w in workers)
    assert _port_is_free(port)


def test_web_logs_redacted_json_lines_from_the_masters_first_line(test_env, tmp_path):  # type: ignore[no-untyped-def]
    port = _free_port()
    proc = _start(["web", "--port", str(port), "--workers", "1"],
                  {**_env(test_env), "WARTA_LOG_FORMAT": "json"}, tmp_path)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz?access_token=rahasia-sekali-123", proc)
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    out, err = _stop(proc, signal.SIGTERM, False)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in err.splitlines()]  # every line: no text lines
    assert lines[0]["message"].startswith("Starting gunicorn")
    assert lines[0]["process"] == proc.pid  # the master, before any app was loaded
    access = [json.loads(line) for line in out.splitlines()[1:]]
    assert access and all(a["logger"] == "gunicorn.access" for a in access)
    assert "rahasia-sekali-123" not in out + err and "access_token=***" in out


def test_web_on_a_busy_port_is_one_sentence(test_env, tmp_path):  # type: ignore[no-untyped-def]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        done = subprocess.run([*WARTA, "web", "--port", str(port)], cwd=tmp_path,
                              env=_env(test_env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    said = done.stderr.strip().splitlines()
    assert len(said) == 1, done.stderr  # not gunicorn's retries and its ten lines
    assert str(port) in said[0] and "--port" in said[0] and "Address already in use" in said[0]
    assert time.monotonic() - started < 15  # gunicorn alone would retry for five seconds


def test_without_gunicorn_web_says_so_and_serves_with_werkzeug(test_env, tmp_path):  # type: ignore[no-untyped-def]
    # gunicorn that does not import, as on Windows
    shadow = tmp_path / "shadow" / "gunicorn"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('no gunicorn here')\n")
    port = _free_port()
    proc = _start(["web", "--port", str(port)],
                  _env(test_env, f"{shadow.parent}:{ROOT}"), tmp_path)
    try:
        res = _wait_for(f"http://127.0.0.1:{port}/masuk", proc)
        assert res.status_code == 200 and res.headers["Server"].startswith("Werkzeug")
        assert psutil.Process(proc.pid).children() == []
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    out, err = _stop(proc, signal.SIGINT, True)
    assert proc.returncode == 0 and "Traceback" not in out + err, err
    said = [line for line in err.splitlines() if "gunicorn" in line]
    assert len(said) == 1 and "no gunicorn here" in said[0] and "werkzeug" in said[0], err
    assert _port_is_free(port)


def test_web_uses_the_documented_gunicorn_settings(monkeypatch):  # type: ignore[no-untyped-def]
    """``warta web`` and docs/ops/gunicorn.conf.py serve alike (bar bind, processes, threads
    and the log level, which ``warta web`` takes from its options and settings)."""
    from web.gunicorn_server import CONFIG

    for name in ("WEB_CONCURRENCY", "WARTA_WEB_THREADS", "WARTA_WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    documented = runpy.run_path(str(ROOT / "docs" / "ops" / "gunicorn.conf.py"))
    assert CONFIG == {key: documented[key] for key in CONFIG}
    assert set(documented) - set(CONFIG) >= {"bind", "workers", "threads", "loglevel"}


def test_gunicorn_is_a_runtime_dependency_except_on_windows() -> None:
    import tomllib

    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    [gunicorn] = [Requirement(d) for d in project["dependencies"] if d.startswith("gunicorn")]
    assert str(gunicorn.specifier) == "<24,>=22"
    assert gunicorn.marker is not None
    assert gunicorn.marker.evaluate({"sys_platform": "linux"})
    assert not gunicorn.marker.evaluate({"sys_platform": "win32"})


def test_no_engine_is_built_before_a_worker_loads_the_app(core, monkeypatch):  # type: ignore[no-untyped-def]
    """An engine and its pool must not cross gunicorn's fork: the master only configures, each
    worker builds its own core when it loads the app."""
    from web import gunicorn_server

    built: list[object] = []
    monkeypatch.setattr("publisher.core.build_core",
                        lambda settings: built.append(settings) or core)
    server = gunicorn_server.WartaServer(core.settings, {**gunicorn_server.CONFIG,
                                                         "bind": ["127.0.0.1:0"]})
    assert built == [] and server.cfg.preload_app is False
    assert server.cfg.worker_class_str == "gthread"
    app = server.wsgi()  # what a worker does after the fork
    assert built == [core.settings] and app.extensions["warta.core"] is core
