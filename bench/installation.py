"""One Warta installation for the benches: its own database (SQLite file or a fresh PostgreSQL
database), sandbox accounts, approved publications parked far ahead until a bench sets their
times, real worker processes; and readers of the sandbox outbox that turn it into lateness,
loss and duplication figures. Shared by ``dispatch.py`` and ``kill_trials.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
from sqlalchemy import func, make_url, select, update  # noqa: E402

from postqueue.models import Job  # noqa: E402
from publisher.config import load_settings  # noqa: E402
from publisher.core import build_core  # noqa: E402
from publisher.migrate import upgrade  # noqa: E402
from publisher.models import (  # noqa: E402
    Publication,
    PublicationStatus,
    Role,
    WorkerHeartbeat,
)
from publisher.services import org  # noqa: E402
from tests.helpers import approved_post, sandbox_channel  # noqa: E402
from tests.worker.procs import start_worker, stop, wait_for  # noqa: E402

PG_URL = os.environ.get("WARTA_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: Sandbox accounts per installation (kill_trials.py sets its own).
CHANNELS = 200
FAR = timedelta(days=2)


def now() -> datetime:
    return datetime.now(UTC)


# -- databases -----------------------------------------------------------------------------------
class Databases:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.pg_names: list[str] = []

    def new(self, kind: str, migrate: bool = True) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if kind == "sqlite":
            url = f"sqlite:///{self.tmp / (name + '.db')}"
        else:
            import psycopg

            base = make_url(PG_URL)
            with psycopg.connect(base.set(drivername="postgresql").render_as_string(False),
                                 autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')
            self.pg_names.append(name)
            url = base.set(database=name).render_as_string(hide_password=False)
        if migrate:
            from publisher.db import make_engine

            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        return url

    def drop_all(self) -> None:
        if not self.pg_names:
            return
        import psycopg

        base = make_url(PG_URL)
        with psycopg.connect(base.set(drivername="postgresql").render_as_string(False),
                             autocommit=True) as conn:
            for name in self.pg_names:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- Warta ---------------------------------------------------------------------------------------
class Install:
    """One Warta installation: database, outbox, 200 channels, queued publications parked far
    in the future until the bench sets their times.

    ``posts``: (account indexes, kind) per post, kind ``text``, ``image`` or ``video`` (the
    post carries such a file); default: ``n`` text publications, round-robin over accounts.
    ``control``: the sandbox control of every account (e.g. a latency profile).
    """

    def __init__(self, dbs: Databases, kind: str, n: int, label: str, *,
                 posts: list[tuple[list[int], str]] | None = None,
                 control: dict | None = None) -> None:
        from cryptography.fernet import Fernet

        from tests.adapters.worker_e2e import photo, video

        self.dir = dbs.tmp / label
        self.env = {
            "WARTA_DATABASE_URL": dbs.new(kind),
            "WARTA_SECRET_KEY": uuid.uuid4().hex,
            "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
            "WARTA_MEDIA_DIR": str(self.dir / "media"),
            "WARTA_SANDBOX_OUTBOX": str(self.dir / "outbox"),
            "WARTA_LOG_LEVEL": "WARNING",
        }
        self.core = build_core(load_settings(self.env))
        core = self.core
        with core.sessions.begin() as s:
            unit = org.create_unit(s, name="Diskominfo", slug="diskominfo")
            op = org.create_user(s, email="op@example.go.id", name="Op", role=Role.OPERATOR,
                                 unit=unit, password="rahasia123", check_strength=False)
            ap = org.create_user(s, email="ap@example.go.id", name="Ap", role=Role.APPROVER,
                                 unit=unit, password="rahasia123", check_strength=False)
        self.accounts = [f"ch{i:03d}" for i in range(CHANNELS)]
        channels = [sandbox_channel(core, op, a) for a in self.accounts]
        if control:
            for a in self.accounts:
                folder = self.dir / "outbox" / a
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "control.json").write_text(json.dumps(control))
        if posts is None:
            posts = [(list(range(min(CHANNELS, n - p * CHANNELS))), "text")
                     for p in range(-(-n // CHANNELS))]
        media = {"text": None, "image": [photo(core, op)] if any(k == "image" for _, k in posts)
                 else None, "video": [video(core, op)] if any(k == "video" for _, k in posts)
                 else None}
        parked = now() + FAR
        post_kind: dict[int, str] = {}
        for i, (idx, k) in enumerate(posts):
            post_id = approved_post(core, op, ap, [channels[j] for j in idx],
                                    body=f"Pengumuman {i}", when=parked, media=media[k])
            post_kind[post_id] = k
        with core.sessions() as s:
            rows = s.execute(select(Publication.id, Publication.job_id, Publication.post_id)
                             .order_by(Publication.id)).all()
        self.pubs = [(pid, jid) for pid, jid, _ in rows]
        self.kind_of = {f"warta-{pid}": post_kind[post] for pid, _j, post in rows}
        assert len(self.pubs) == n, (len(self.pubs), n)
        self.procs: list[subprocess.Popen] = []

    def start(self, workers: int, env: dict[str, str] | None = None) -> None:
        full = {**self.env, **(env or {})}
        self.procs = [start_worker(full, self.dir / f"w{i}.log") for i in range(workers)]
        wait_for(lambda: self._heartbeats() >= workers, 60, "workers to start", interval=0.2)

    def _heartbeats(self) -> int:
        with self.core.sessions() as s:
            return s.execute(select(func.count()).select_from(WorkerHeartbeat)).scalar_one()

    def schedule(self, offsets: list[float], start: datetime) -> dict[str, datetime]:
        """Give publication i the time start + offsets[i]; returns key -> scheduled time."""
        times = {pid: start + timedelta(seconds=o) for (pid, _j), o in zip(self.pubs, offsets,
                                                                            strict=True)}
        with self.core.sessions.begin() as s:
            s.execute(update(Publication), [{"id": pid, "scheduled_at": t}
                                            for pid, t in times.items()])
            s.execute(update(Job), [{"id": jid, "run_at": times[pid]} for pid, jid in self.pubs])
        return {f"warta-{pid}": t for pid, t in times.items()}

    def open_count(self) -> int:
        with self.core.sessions() as s:
            return s.execute(select(func.count()).select_from(Publication).where(
                Publication.status.in_([PublicationStatus.QUEUED,
                                        PublicationStatus.PUBLISHING]))).scalar_one()

    def status_counts(self) -> Counter:
        with self.core.sessions() as s:
            return Counter(dict(s.execute(select(Publication.status, func.count())
                                          .group_by(Publication.status)).all()))

    def cpu_percent(self, seconds: float) -> float:
        ps = [psutil.Process(p.pid) for p in self.procs]
        for p in ps:
            p.cpu_percent(None)
        time.sleep(seconds)
        return sum(p.cpu_percent(None) for p in ps)

    def stop(self) -> None:
        for p in self.procs:
            stop(p)
        self.core.engine.dispose()


def outbox_calls(outbox: Path) -> list[tuple[str, str, datetime, datetime]]:
    """(account, key, call start, call end) of every post in the outbox."""
    out = []
    for path in outbox.glob("*/*.json"):
        if path.name == "control.json":
            continue
        rec = json.loads(path.read_text("utf-8"))
        end = datetime.fromisoformat(rec["published_at"])
        out.append((path.parent.name, rec["key"],
                    datetime.fromisoformat(rec.get("called_at") or rec["published_at"]), end))
    return out


def ready_lateness(calls: list[tuple[str, str, datetime, datetime]],
                   scheduled: dict[str, datetime]) -> dict[str, float]:
    """key -> call start − max(scheduled, end of the account's previous call): the wait that is
    the worker's, not the one-call-per-account rule's."""
    by_account: dict[str, list[tuple[str, str, datetime, datetime]]] = {}
    for c in calls:
        by_account.setdefault(c[0], []).append(c)
    out: dict[str, float] = {}
    for rows in by_account.values():
        rows.sort(key=lambda c: c[2])
        prev_end: datetime | None = None
        for _a, key, start, end in rows:
            if key in scheduled and key not in out:
                ready = max(scheduled[key], prev_end) if prev_end else scheduled[key]
                out[key] = (start - ready).total_seconds()
            prev_end = end
    return out


def quantile(values: list[float], q: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")


def outbox_times(outbox: Path) -> list[tuple[str, datetime]]:
    out = []
    for path in outbox.glob("*/*.json"):
        if path.name == "control.json":
            continue
        rec = json.loads(path.read_text("utf-8"))
        out.append((rec["key"], datetime.fromisoformat(rec.get("called_at")
                                                       or rec["published_at"])))
    return out


def analyse(records: list[tuple[str, datetime]], scheduled: dict[str, datetime]) -> dict:
    counts = Counter(k for k, _ in records)
    first: dict[str, datetime] = {}
    for k, t in records:
        first[k] = min(t, first.get(k, t))
    late = sorted((first[k] - scheduled[k]).total_seconds() for k in first if k in scheduled)
    def pick(q: float) -> float:
        return late[min(len(late) - 1, int(q * len(late)))] if late else float("nan")

    return {"lost": sum(1 for k in scheduled if k not in counts),
            "duplicated": sum(1 for k in scheduled if counts.get(k, 0) > 1),
            "p50": pick(0.50), "p99": pick(0.99),
            "last": max(first.values()) if first else None}
