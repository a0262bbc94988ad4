"""Dispatch bench: how late, how fast and how safely scheduled posts go out.

    python bench/dispatch.py           # full: steady load over 10 min, bursts of 2,000 (~15 min)
    python bench/dispatch.py --fast    # steady 500 over 30 s per config, bursts of 500 (~6 min)

For Warta's worker (default settings: tick 1 s, 4 threads, real worker processes), with 1 and 4
workers on SQLite and on PostgreSQL:

* steady load: N publications at random times over a window across 50 sandbox channels;
  lateness = the outbox record's ``published_at`` (the adapter call, real clock) minus the
  scheduled time, p50/p99. The four configurations' steady loads run side by side on separate
  databases (at ~2 posts/s each the machine is nearly idle; this keeps a full run short).
* burst: all due at the same instant; lost, duplicated, p99 lateness, publications/s.
* idle worker CPU %: psutil over the idle period before the burst (summed over the processes).

Beside it, the common alternative on the same burst and the same sandbox stand-in: one
APScheduler 3.11 date job per post in a shared ``SQLAlchemyJobStore`` (same database kind),
4 scheduler processes sharing the store, with its defaults (misfire_grace_time 1 s) and with a
long misfire_grace_time. Lost = never published, duplicated = published more than once.

PostgreSQL: ``WARTA_BENCH_PG_URL`` (default postgresql+psycopg://postgres@127.0.0.1:5432/test);
each run gets its own database, dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
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
from publisher.models import Publication, PublicationStatus, Role, WorkerHeartbeat  # noqa: E402
from publisher.services import org  # noqa: E402
from tests.helpers import approved_post, sandbox_channel  # noqa: E402
from tests.worker.procs import start_worker, stop, wait_for  # noqa: E402

PG_URL = os.environ.get("WARTA_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHANNELS = 50
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
    """One Warta installation: database, outbox, 50 channels, N queued publications parked far
    in the future until the bench sets their times."""

    def __init__(self, dbs: Databases, kind: str, n: int, label: str) -> None:
        from cryptography.fernet import Fernet

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
        self.accounts = [f"ch{i:02d}" for i in range(CHANNELS)]
        channels = [sandbox_channel(core, op, a) for a in self.accounts]
        parked = now() + FAR
        for p in range(-(-n // CHANNELS)):
            take = channels[: min(CHANNELS, n - p * CHANNELS)]
            approved_post(core, op, ap, take, body=f"Pengumuman {p}", when=parked)
        with core.sessions() as s:
            self.pubs = [(pid, jid) for pid, jid in
                         s.execute(select(Publication.id, Publication.job_id)
                                   .order_by(Publication.id))]
        assert len(self.pubs) == n
        self.procs: list[subprocess.Popen] = []

    def start(self, workers: int) -> None:
        self.procs = [start_worker(self.env, self.dir / f"w{i}.log") for i in range(workers)]
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


def outbox_times(outbox: Path) -> list[tuple[str, datetime]]:
    out = []
    for path in outbox.glob("*/*.json"):
        if path.name == "control.json":
            continue
        rec = json.loads(path.read_text("utf-8"))
        out.append((rec["key"], datetime.fromisoformat(rec["published_at"])))
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


# -- scenarios -----------------------------------------------------------------------------------
def steady(dbs: Databases, configs: list[tuple[str, int]], n: int, window: float) -> dict:
    """Light loads (a few posts/s) run side by side to keep a full run short; heavier ones one
    configuration at a time, or they would measure the machine's contention, not the worker."""
    if n / window > 3 and len(configs) > 1:
        out: dict = {}
        for c in configs:
            out.update(steady(dbs, [c], n, window))
        return out
    installs = {c: Install(dbs, c[0], n, f"steady-{c[0]}-{c[1]}") for c in configs}
    for (_kind, workers), inst in installs.items():
        inst.start(workers)
    start = now() + timedelta(seconds=3)
    rng = random.Random(7)
    sched = {c: inst.schedule([rng.uniform(0, window) for _ in range(n)], start)
             for c, inst in installs.items()}
    try:
        wait_for(lambda: all(i.open_count() == 0 for i in installs.values()), window + 120,
                 "the steady load to finish", interval=1.0)
    except AssertionError as exc:
        print(f"  ! {exc}")
    results = {}
    for c, inst in installs.items():
        inst.stop()
        results[c] = analyse(outbox_times(inst.dir / "outbox"), sched[c])
    return results


def burst(dbs: Databases, kind: str, workers: int, n: int, idle_seconds: float) -> dict:
    inst = Install(dbs, kind, n, f"burst-{kind}-{workers}")
    inst.start(workers)
    time.sleep(1.0)
    cpu = inst.cpu_percent(idle_seconds)
    start = now() + timedelta(seconds=2)
    sched = inst.schedule([0.0] * n, start)
    try:
        wait_for(lambda: inst.open_count() == 0, 600, "the burst to drain", interval=0.5)
    except AssertionError as exc:
        print(f"  ! {exc}")
    inst.stop()
    res = analyse(outbox_times(inst.dir / "outbox"), sched)
    res["rate"] = (n - res["lost"]) / max(1e-9, (res["last"] - start).total_seconds())
    res["idle_cpu"] = cpu
    return res


def aps_burst(dbs: Databases, kind: str, n: int, grace: str, procs: int = 4) -> dict:
    """One APScheduler date job per post in a shared SQLAlchemyJobStore, ``procs`` schedulers."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = dbs.new(kind, migrate=False)
    outbox = dbs.tmp / f"aps-{kind}-{grace}" / "outbox"
    accounts = [f"ch{i:02d}" for i in range(CHANNELS)]
    loader = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=url)},
                                 timezone="UTC")
    loader.start(paused=True)
    # room to load the store and start the processes
    start = now() + timedelta(seconds=10 if n <= 500 else 25)
    sched = {}
    # misfire_grace_time is stored with each job when it is added, so the loader sets it (the
    # scheduler processes' job_defaults would only apply to jobs they add themselves).
    grace_kw = {} if grace == "default" else {"misfire_grace_time": int(grace)}
    for i in range(n):
        key = f"aps-{i}"
        sched[key] = start
        loader.add_job("aps_target:publish", "date", run_date=start, id=key, **grace_kw,
                       args=[str(outbox), accounts[i % CHANNELS], key, f"Pengumuman {i}",
                             start.isoformat()])
    loader.shutdown(wait=False)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
    ps = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "aps_target.py"), url, grace],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=open(dbs.tmp / f"aps-{kind}-{grace}-{j}.log", "wb"))  # noqa: SIM115
          for j in range(procs)]
    if now() > start:
        print("  ! APScheduler store loaded after the burst time; lateness includes loading")

    def settled() -> bool:
        with loader_engine.connect() as conn:
            left = conn.exec_driver_sql("SELECT count(*) FROM apscheduler_jobs").scalar_one()
        return left == 0 and now() > start

    from sqlalchemy import create_engine

    loader_engine = create_engine(url)
    try:
        wait_for(settled, 600, "the APScheduler store to empty", interval=0.5)
        time.sleep(3)  # jobs already handed to executors finish
    except AssertionError as exc:
        print(f"  ! {exc}")
    for p in ps:
        stop(p)
    loader_engine.dispose()
    res = analyse(outbox_times(outbox), sched)
    res["rate"] = ((n - res["lost"]) / max(1e-9, (res["last"] - start).total_seconds())
                   if res["last"] else 0.0)
    return res


# -- main ----------------------------------------------------------------------------------------
def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:8.0f} ms" if seconds == seconds else "       –   "


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="compressed: ~5 min instead of ~15")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--parts", default="steady,burst", help="steady, burst or both")
    args = ap.parse_args()
    # --fast keeps the full run's rate (1,000 per 10 min is light; the compressed rate of
    # 1,000 per minute is not) at half the size: 500 over 30 s, one configuration at a time.
    window = 30.0 if args.fast else 600.0
    steady_n = 500 if args.fast else 1000
    burst_n = 500 if args.fast else 2000
    idle_s = 5.0 if args.fast else 10.0
    kinds = args.backends.split(",")
    configs = [(k, w) for k in kinds for w in (1, 4)]

    cpu = open("/proc/cpuinfo").read()
    model = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines()
                  if ln.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} CPUs, {model}; python {sys.version.split()[0]}")
    print(f"mode: {'fast' if args.fast else 'full'}; steady {steady_n} at random times over "
          f"{window:.0f} s, "
          f"burst {burst_n} at one instant, {CHANNELS} sandbox channels, worker defaults "
          f"(tick 1 s, 4 threads)\n", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="warta-bench-") as tmp:
        dbs = Databases(Path(tmp))
        try:
            parts = args.parts.split(",")
            print("steady load (lateness = adapter call - scheduled time)", flush=True)
            res = steady(dbs, configs, steady_n, window) if "steady" in parts else {}
            print(f"  {'backend':<11}{'workers':>8}{'p50':>12}{'p99':>12}{'lost':>6}{'dup':>5}")
            for (kind, w), r in res.items():
                print(f"  {kind:<11}{w:>8}{fmt_ms(r['p50']):>12}{fmt_ms(r['p99']):>12}"
                      f"{r['lost']:>6}{r['duplicated']:>5}", flush=True)
            print(f"\nburst of {burst_n} due at the same instant")
            print(f"  {'system':<34}{'lost':>6}{'dup':>6}{'p99 late':>13}{'pubs/s':>9}"
                  f"{'idle CPU':>10}")
            for kind in kinds if "burst" in parts else []:
                for w in (1, 4):
                    r = burst(dbs, kind, w, burst_n, idle_s)
                    print(f"  {f'warta {kind} x{w}':<34}{r['lost']:>6}{r['duplicated']:>6}"
                          f"{fmt_ms(r['p99']):>13}{r['rate']:>9.1f}{r['idle_cpu']:>9.1f}%",
                          flush=True)
                for grace in ("default", "3600"):
                    r = aps_burst(dbs, kind, burst_n, grace)
                    label = f"apscheduler {kind} x4 grace={'1s' if grace == 'default' else '1h'}"
                    print(f"  {label:<34}{r['lost']:>6}{r['duplicated']:>6}"
                          f"{fmt_ms(r['p99']):>13}{r['rate']:>9.1f}{'':>10}", flush=True)
        finally:
            dbs.drop_all()
    print(f"\ntotal {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
