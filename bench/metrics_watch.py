"""The web app's ``/metrics``, scraped while a bench burst runs (issue 17: "the metrics endpoint
shows the burst").

The app is served as in production (gunicorn with ``docs/ops/gunicorn.conf.py``, one process,
``WARTA_METRICS_TOKEN``) against the installation's database, in its own process so that the
scrapes cost the bench process nothing; a thread scrapes it every ``interval`` seconds over
HTTP, as Prometheus would, and keeps the figures an operator watches during a burst: the
queue's depth, its due-but-unclaimed jobs and the oldest one's age, and the publish outcomes.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import requests
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
PUBLISH = "publish"


@dataclass(frozen=True)
class Sample:
    """One scrape: what the gauges said at ``at`` (wall clock, UTC)."""

    at: datetime
    queued: int  # publish jobs queued (due or not)
    running: int  # publish jobs claimed by a worker
    due: int  # queued publish jobs whose time has come, unclaimed
    oldest_due: float  # seconds the oldest of those has waited
    published: int  # publications published in the last 24 h (outcome gauge)
    failed: int  # failed or unconfirmed in the last 24 h
    scrape_seconds: float  # how long the app took to answer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse(text: str, at: datetime, took: float) -> Sample:
    """The burst's figures out of one Prometheus text exposition."""
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def get(name: str, **labels: str) -> float:
        return values.get((name, tuple(sorted(labels.items()))), 0.0)

    def outcomes(*statuses: str) -> int:
        return int(sum(v for (name, labels), v in values.items()
                       if name == "warta_publications_recent"
                       and dict(labels).get("status") in statuses))

    return Sample(at=at,
                  queued=int(get("warta_queue_jobs", kind=PUBLISH, state="queued")),
                  running=int(get("warta_queue_jobs", kind=PUBLISH, state="running")),
                  due=int(get("warta_queue_due_jobs", kind=PUBLISH)),
                  oldest_due=get("warta_queue_oldest_due_age_seconds", kind=PUBLISH),
                  published=outcomes("published"), failed=outcomes("failed", "unconfirmed"),
                  scrape_seconds=took)


class MetricsWatch:
    """``with MetricsWatch(env, log) as watch:`` the app up and scraped; ``watch.samples``."""

    def __init__(self, env: dict[str, str], log: Path, interval: float = 0.5) -> None:
        self.token = uuid.uuid4().hex
        self.port = _free_port()
        self.env = {**env, "PYTHONPATH": str(ROOT), "PATH": str(Path(sys.executable).parent)
                    + ":/usr/bin:/bin", "WARTA_METRICS_TOKEN": self.token,
                    "WARTA_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1",
                    "WARTA_WEB_THREADS": "2", "WARTA_LOG_LEVEL": "warning"}
        self.log = log
        self.interval = interval
        self.samples: list[Sample] = []
        self.errors = 0
        self._stop = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/metrics"

    def __enter__(self) -> MetricsWatch:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "wb") as out:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--config",
                 str(ROOT / "docs" / "ops" / "gunicorn.conf.py"), "web.app:create_app()"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while self.scrape() is None:
            if self._proc.poll() is not None or time.monotonic() > deadline:
                self._halt()
                raise RuntimeError(f"the web app did not serve /metrics; see {self.log}")
            time.sleep(0.1)
        self.samples.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        last = self.scrape()  # the state once the burst is over
        if last is not None:
            self.samples.append(last)
        self._halt()

    def _halt(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)

    def scrape(self) -> Sample | None:
        """One scrape, or ``None`` when the app did not answer it."""
        from installation import now

        at, t0 = now(), time.monotonic()
        try:
            res = requests.get(self.url, headers={"Authorization": f"Bearer {self.token}"},
                               timeout=10)
        except requests.RequestException:
            return None
        if res.status_code != 200:
            return None
        return parse(res.text, at, time.monotonic() - t0)

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            sample = self.scrape()
            if sample is None:
                self.errors += 1
            else:
                self.samples.append(sample)
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - t0)))


def timeline(samples: list[Sample], start: datetime, rows: int = 8) -> list[str]:
    """The scrapes as a few lines (seconds from the burst's scheduled instant), evenly
    picked, always with the first, the last and the one with the deepest due backlog."""
    if not samples:
        return ["  (no scrape answered)"]
    picks = {0, len(samples) - 1, max(range(len(samples)), key=lambda i: samples[i].due)}
    step = max(1, len(samples) // rows)
    picks |= set(range(0, len(samples), step))
    out = [f"    {'t':>7}{'queued':>8}{'running':>9}{'due':>6}{'oldest due':>12}"
           f"{'published':>11}{'failed':>8}{'scrape':>9}"]
    for i in sorted(picks):
        s = samples[i]
        t = (s.at - start).total_seconds()
        out.append(f"    {t:>+6.1f}s{s.queued:>8}{s.running:>9}{s.due:>6}{s.oldest_due:>10.1f} s"
                   f"{s.published:>11}{s.failed:>8}{s.scrape_seconds * 1000:>6.0f} ms")
    return out


def peaks(samples: list[Sample]) -> str:
    """What the scrapes saw of the burst, in one line."""
    if not samples:
        return "no scrape"
    times = [s.scrape_seconds for s in samples]
    return (f"{len(samples)} scrapes: peak due {max(s.due for s in samples)}, peak running "
            f"{max(s.running for s in samples)}, oldest due up to "
            f"{max(s.oldest_due for s in samples):.1f} s, published {samples[0].published} → "
            f"{samples[-1].published}; scrape median "
            f"{sorted(times)[len(times) // 2] * 1000:.0f} ms, max {max(times) * 1000:.0f} ms")
