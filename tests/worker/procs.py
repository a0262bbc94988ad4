"""Real worker processes for the multi-process tests (and the bench): start, wait, kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WORKER_CODE = """
import logging, os
from tests.wallclock import start_from_env
start_from_env()  # the test run's fake wall clock, if it has one (WARTA_FAKE_WALL_CLOCK)
from publisher.config import load_settings
from publisher.core import build_core
from publisher.worker import Worker
logging.basicConfig(level=os.environ.get("WARTA_LOG_LEVEL", "INFO"),
                    format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s")
logging.getLogger("apscheduler").setLevel(logging.WARNING)
core = build_core(load_settings(dict(os.environ)))
Worker(core).run_forever()
"""


def start_worker(env: Mapping[str, str], log_path: Path) -> subprocess.Popen:
    full = {**os.environ, **env, "PYTHONPATH": str(ROOT)}
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-c", WORKER_CODE], env=full, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL: no cleanup, no finally blocks, exactly like a power cut or the OOM killer."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill(proc)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str,
             interval: float = 0.1) -> None:
    """Bounded polling on real time: fail with ``what`` if it does not happen in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
