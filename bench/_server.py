"""A real Warta web server for the load bench: started as a subprocess with the production
command, logged into over HTTP, and always stopped with SIGINT (Ctrl+C) at the end."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parent.parent
GUNICORN_CONF = ROOT / "docs" / "ops" / "gunicorn.conf.py"
#: Passed on from the bench's own environment when set (gunicorn.conf.py reads them).
PASSED_ON = ("WEB_CONCURRENCY", "WARTA_WEB_THREADS", "WARTA_WEB_TIMEOUT", "WARTA_LOG_LEVEL",
             "WARTA_LOG_FORMAT")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class LoginFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def command(kind: str, port: int) -> list[str]:
    """``warta web`` (whatever it runs today), or gunicorn with the documented config."""
    if kind == "gunicorn":
        return [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF),
                "web.app:create_app()"]
    warta = Path(sys.executable).parent / "warta"
    exe = [str(warta)] if warta.exists() else (
        [shutil.which("warta")] if shutil.which("warta") else [sys.executable, "-m", "web.cli"])
    return [*[e for e in exe if e], "web", "--host", "127.0.0.1", "--port", str(port)]


def environment(url: str, port: int, encryption_key: str, media_dir: str) -> dict[str, str]:
    """What the server needs and no more: this tree's code first on the path, the benchmark
    database, fixed keys, and none of the developer's own WARTA_* settings (no second factor
    required, no .env: the server runs in an empty folder)."""
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
           "PYTHONPATH": str(ROOT), "HOME": os.environ.get("HOME", "/tmp"),
           "LANG": "C.UTF-8",
           "WARTA_DATABASE_URL": url, "WARTA_SECRET_KEY": "bench-load-not-a-secret",
           "WARTA_ENCRYPTION_KEY": encryption_key, "WARTA_MEDIA_DIR": media_dir,
           "WARTA_BIND": f"127.0.0.1:{port}"}
    env.update({k: os.environ[k] for k in PASSED_ON if k in os.environ})
    return env


class Server:
    """The server process; ``stop`` is safe to call twice and after a failed start."""

    def __init__(self, kind: str, env: dict[str, str], port: int, log_path: Path,
                 workdir: Path) -> None:
        self.kind, self.port, self.log_path = kind, port, log_path
        self.base = f"http://127.0.0.1:{port}"
        self.argv = command(kind, port)
        workdir.mkdir(parents=True, exist_ok=True)
        self._log: IO[bytes] = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        # Its own session: a Ctrl+C on the bench reaches the server only through stop().
        self.proc = subprocess.Popen(self.argv, cwd=workdir, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds: float = 90) -> float:
        """Seconds until /healthz answers; a server that exits or stays silent is an error
        showing the end of its log."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return time.monotonic() - t0
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {seconds:.0f} s:\n{self.tail()}")

    def processes(self) -> str:
        """How many server processes answer (gunicorn: its master plus the workers)."""
        try:
            import psutil

            return f"{1 + len(psutil.Process(self.proc.pid).children(recursive=True))} process(es)"
        except Exception:  # noqa: BLE001 - a courtesy line only
            return "processes unknown"

    def tail(self, lines: int = 30) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def stop(self) -> str:
        """SIGINT, as Ctrl+C; SIGTERM after 30 s, SIGKILL after 10 more. Says which worked."""
        how = "already stopped"
        if self.proc.poll() is None:
            how = "SIGINT"
            self.proc.send_signal(signal.SIGINT)
            for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    how = sig.name
                    self.proc.send_signal(sig)
            self.proc.wait(timeout=10)
        if not self._log.closed:
            self._log.close()
        return f"stopped by {how} (exit {self.proc.returncode})"


def login(base: str, email: str, password: str, timeout: float = 30) -> requests.Session:
    """A browser's login: the form (for its CSRF token), then the POST; the session is good
    once the dashboard answers 200 instead of sending it back to /masuk."""
    s = requests.Session()
    form = s.get(f"{base}/masuk", timeout=timeout)
    m = CSRF.search(form.text)
    if form.status_code != 200 or not m:
        raise LoginFailed(f"{email}: login form {form.status_code}, CSRF token "
                          f"{'found' if m else 'not found'}")
    r = s.post(f"{base}/masuk", data={"csrf_token": m.group(1), "email": email,
                                      "password": password},
               allow_redirects=False, timeout=timeout)
    if r.status_code != 302 or "/masuk" in r.headers.get("Location", ""):
        raise LoginFailed(f"{email}: login answered {r.status_code} "
                          f"(429: the login throttle; 401: wrong password or locked)")
    home = s.get(f"{base}/", allow_redirects=False, timeout=timeout)
    if home.status_code != 200:
        raise LoginFailed(f"{email}: after login / answered {home.status_code} "
                          f"{home.headers.get('Location', '')}")
    return s
