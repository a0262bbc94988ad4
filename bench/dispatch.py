"""Dispatch bench: how late, how fast and how safely scheduled posts go out.

    python bench/dispatch.py           # everything (~20 min)
    python bench/dispatch.py --fast    # smaller loads (~10 min)
    python bench/dispatch.py --parts latency,io,crash --backends postgresql

Warta's worker runs as real worker processes with default settings unless a part says
otherwise; each part prints Warta with 1, 2 and 4 workers side by side, with the anchors where
there is one. 200 sandbox accounts.

* ``burst`` (instant platform): N publications due at the same instant; lost, duplicated, p99
  lateness, publications/s; beside it the common alternative: one APScheduler 3.11 date job per
  post in a shared ``SQLAlchemyJobStore`` (``bench/aps_target.py``), 4 scheduler processes,
  with its defaults (misfire_grace_time 1 s) and a long grace. There is no Celery anchor here.
  During each Warta burst the web app (gunicorn, ``docs/ops/gunicorn.conf.py``) serves
  ``/metrics`` and is scraped every ``--scrape`` seconds (``bench/metrics_watch.py``): queue
  depth, due-but-unclaimed jobs and the oldest one's age, publish outcomes, over time.
* ``latency``: the sandbox's latency profile (``--profile``; log-normal per kind of post with
  the given [median, p99] seconds: text, image, video; a long tail) on a burst in which every
  account posts at once, 10% of them a video, then a second text/image post per account at a
  random time in the next 20 s. Lateness of a post = start of its call − the later of its
  scheduled time and the end of its account's previous call (one call per account at a time
  is a rule, not a delay). Slots: ``--slots`` short and ``--uploads`` upload slots per worker
  ("enough slots"). Target: p99 of the non-video posts ≤ 2 s.
* ``io``: an I/O-bound burst (text posts, ``--io-profile``) with default slots: publications/s
  by workers; target 4 workers ≥ 3× one.
* ``crash``: 2 workers with default settings (lease 300 s) and a platform without lookup; one
  worker is SIGKILLed mid-burst: how long until its accounts publish again, how many
  publications it left ``unconfirmed`` against how many calls it had in flight, lost and
  duplicated.
* ``steady``: N publications at random times over a window, p50/p99 lateness (the old part).

Lateness is measured at the adapter call's start (the sandbox records ``called_at``). Lost =
never published, duplicated = published more than once. PostgreSQL: ``WARTA_BENCH_PG_URL``
(default postgresql+psycopg://postgres@127.0.0.1:5432/test); each run gets its own database,
dropped afterwards. 20-kill trials: ``bench/kill_trials.py``.
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
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from postqueue.models import Job  # noqa: E402
from publisher.models import (  # noqa: E402
    Channel,
    Publication,
    PublicationStatus,
    PublishAttempt,
)
from tests.worker.procs import stop, wait_for  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import installation  # noqa: E402
from installation import (  # noqa: E402
    Databases,
    Install,
    analyse,
    now,
    outbox_calls,
    outbox_times,
    quantile,
    ready_lateness,
)
from metrics_watch import MetricsWatch, Sample, peaks, timeline  # noqa: E402

#: text, image, video: [median, p99] seconds of the sandbox's log-normal call time.
PROFILE = {"text": [0.8, 5.0], "image": [1.5, 8.0], "video": [15.0, 40.0]}
IO_PROFILE = {"text": [1.0, 3.0]}

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


def run_burst(inst: Install, n: int, timeout: float,
              what: str) -> tuple[datetime, dict[str, datetime]]:
    """Schedule ``n`` posts two seconds ahead, wait (bounded) until none is open, stop the
    workers; a burst that did not drain is said, and measured as it is."""
    start = now() + timedelta(seconds=2)
    sched = inst.schedule([0.0] * n, start)
    try:
        wait_for(lambda: inst.open_count() == 0, timeout, f"{what} to drain", interval=0.5)
    except AssertionError as exc:
        print(f"  ! {exc}")
    inst.stop()
    return start, sched


def burst(dbs: Databases, kind: str, workers: int, n: int, idle_seconds: float,
          scrape: float = 0.0) -> dict:
    """``scrape`` > 0: the web app's /metrics is served (gunicorn, its own process) and
    scraped every ``scrape`` seconds during the burst (``res["metrics"]``)."""
    inst = Install(dbs, kind, n, f"burst-{kind}-{workers}")
    inst.start(workers)
    time.sleep(1.0)
    cpu = inst.cpu_percent(idle_seconds)
    samples: list[Sample] = []
    if scrape > 0:
        with MetricsWatch(inst.env, inst.dir / "web.log", scrape) as watch:
            start, sched = run_burst(inst, n, 600, "the burst")
        samples = watch.samples
    else:
        start, sched = run_burst(inst, n, 600, "the burst")
    res = analyse(outbox_times(inst.dir / "outbox"), sched)
    res["metrics"], res["start"] = samples, start
    res["rate"] = (n - res["lost"]) / max(1e-9, (res["last"] - start).total_seconds())
    res["idle_cpu"] = cpu
    return res


def latency_mix(dbs: Databases, kind: str, workers: int, profile: dict, slots: int,
                uploads: int, window: float) -> dict:
    """Every account posts at once (10% a video, 30% an image, the rest text), then each
    non-video account posts again at a random time within ``window``."""
    n_video, n_image = installation.CHANNELS // 10, installation.CHANNELS * 3 // 10
    video = list(range(n_video))
    image = list(range(n_video, n_video + n_image))
    text = list(range(n_video + n_image, installation.CHANNELS))
    posts = [(video, "video"), (image, "image"), (text, "text"), (image, "image"),
             (text, "text")]
    n = 2 * installation.CHANNELS - n_video
    inst = Install(dbs, kind, n, f"latency-{kind}-{workers}", posts=posts,
                   control={"latency": profile})
    inst.start(workers, {"WARTA_WORKER_THREADS": str(slots),
                         "WARTA_UPLOAD_THREADS": str(uploads)})
    rng = random.Random(11)
    first = installation.CHANNELS
    start = now() + timedelta(seconds=3)
    sched = inst.schedule([0.0] * first + [rng.uniform(0, window) for _ in range(n - first)],
                          start)
    try:
        wait_for(lambda: inst.open_count() == 0, 900, "the latency burst to drain",
                 interval=0.5)
    except AssertionError as exc:
        print(f"  ! {exc}")
    inst.stop()
    calls = outbox_calls(inst.dir / "outbox")
    late = ready_lateness(calls, sched)
    short = [v for k, v in late.items() if inst.kind_of[k] != "video"]
    vids = [v for k, v in late.items() if inst.kind_of[k] == "video"]
    counts = Counter(k for _a, k, _s, _e in calls)
    last = max(e for _a, _k, _s, e in calls)
    return {"lost": sum(1 for k in sched if k not in counts),
            "duplicated": sum(1 for c in counts.values() if c > 1),
            "p50": quantile(short, 0.5), "p99": quantile(short, 0.99),
            "video_p99": quantile(vids, 0.99), "span": (last - start).total_seconds()}


def io_burst(dbs: Databases, kind: str, workers: int, n: int, profile: dict) -> dict:
    """A burst of text posts on a platform that takes its time: throughput by workers."""
    inst = Install(dbs, kind, n, f"io-{kind}-{workers}", control={"latency": profile})
    inst.start(workers)
    start, sched = run_burst(inst, n, 900, "the I/O burst")
    calls = outbox_calls(inst.dir / "outbox")
    counts = Counter(k for _a, k, _s, _e in calls)
    last = max(e for _a, _k, _s, e in calls)
    return {"lost": sum(1 for k in sched if k not in counts),
            "duplicated": sum(1 for c in counts.values() if c > 1),
            "rate": len(counts) / max(1e-9, (last - start).total_seconds())}


def crash(dbs: Databases, kind: str, n: int, profile: dict, kill_after: float) -> dict:
    """Two workers, default settings, no lookup on the platform; SIGKILL one mid-burst."""
    from tests.worker.procs import kill

    inst = Install(dbs, kind, n, f"crash-{kind}",
                   control={"latency": profile, "lookup": "unavailable"})
    inst.start(2)
    victim = inst.procs[0]
    start = now() + timedelta(seconds=2)
    sched = inst.schedule([0.0] * n, start)
    time.sleep(max(0.0, (start - now()).total_seconds()) + kill_after)
    mine = f":{victim.pid}:"
    with inst.core.sessions() as s:
        held = [(jid, pid) for jid, pid in s.execute(
            select(Job.id, Job.payload).where(Job.status == "running",
                                              Job.lease_owner.like(f"%{mine}%")))]
        marked = s.execute(select(func.count()).select_from(Publication).join(
            PublishAttempt, PublishAttempt.publication_id == Publication.id).where(
            Publication.status == PublicationStatus.PUBLISHING,
            PublishAttempt.worker.like(f"%{mine}%"), PublishAttempt.ended_at.is_(None))
        ).scalar_one()
    kill(victim)
    killed = now()
    held_ids = {jid for jid, _ in held}

    def taken_over() -> bool:
        with inst.core.sessions() as s:
            return s.execute(select(func.count()).select_from(Job).where(
                Job.id.in_(held_ids), Job.status == "running",
                Job.lease_owner.like(f"%{mine}%"))).scalar_one() == 0
    try:
        wait_for(taken_over, 600, "the dead worker's jobs to be taken over", interval=0.1)
        took = (now() - killed).total_seconds()
        wait_for(lambda: inst.open_count() == 0, 900, "the crash burst to drain", interval=0.5)
    except AssertionError as exc:
        print(f"  ! {exc}")
        took = float("nan")
    # The dead worker's accounts: when did each next start a call after the kill?
    held_pubs = {int(p["publication_id"]) for _j, p in held}
    with inst.core.sessions() as s:
        chan_of = dict(s.execute(select(Publication.id, Publication.channel_id)).all())
        account_of = {cid: name for cid, name in s.execute(
            select(Channel.id, Channel.name)).all()}
    victim_accounts = {account_of[chan_of[p]] for p in held_pubs}
    calls = outbox_calls(inst.dir / "outbox")
    resumed = [min(((st - killed).total_seconds() for a, _k, st, _e in calls
                    if a == acc and st > killed), default=float("nan"))
               for acc in victim_accounts]
    counts = Counter(k for _a, k, _s, _e in calls)
    statuses = inst.status_counts()
    inst.stop()
    unconfirmed = statuses.get(PublicationStatus.UNCONFIRMED, 0)
    return {"held": len(held), "in_flight": marked, "unconfirmed": unconfirmed,
            "taken_over": took, "resume_max": max(resumed) if resumed else float("nan"),
            # Not on the platform and not handed to a person (an unconfirmed publication is
            # either; the people resolving it check the account).
            "lost": max(0, sum(1 for k in sched if k not in counts) - unconfirmed),
            "missing": sum(1 for k in sched if k not in counts),
            "duplicated": sum(1 for c in counts.values() if c > 1)}


def aps_burst(dbs: Databases, kind: str, n: int, grace: str, procs: int = 4) -> dict:
    """One APScheduler date job per post in a shared SQLAlchemyJobStore, ``procs`` schedulers."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    url = dbs.new(kind, migrate=False)
    outbox = dbs.tmp / f"aps-{kind}-{grace}" / "outbox"
    accounts = [f"ch{i:03d}" for i in range(installation.CHANNELS)]
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
                       args=[str(outbox), accounts[i % installation.CHANNELS], key,
                             f"Pengumuman {i}", start.isoformat()])
    loader.shutdown(wait=False)
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'bench'}"}
    ps = [subprocess.Popen([sys.executable, str(ROOT / "bench" / "aps_target.py"), url, grace],
                           env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                           stderr=open(dbs.tmp / f"aps-{kind}-{grace}-{j}.log", "wb"))  # noqa: SIM115
          for j in range(procs)]
    if now() > start:
        print("  ! APScheduler store loaded after the burst time; lateness includes loading")

    def settled() -> bool:
        from sqlalchemy.exc import OperationalError

        try:
            with loader_engine.connect() as conn:
                left = conn.exec_driver_sql("SELECT count(*) FROM apscheduler_jobs").scalar_one()
        except OperationalError:  # SQLite busy under the four schedulers: ask again
            return False
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


def fmt_s(seconds: float) -> str:
    return f"{seconds:6.2f} s" if seconds == seconds else "     –  "


WORKERS = (1, 2, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fast", action="store_true", help="smaller loads")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--parts", default="burst,latency,io,crash",
                    help="any of steady, burst, latency, io, crash")
    ap.add_argument("--profile", default=json.dumps(PROFILE),
                    help="latency profile, JSON {kind: [median, p99] seconds}")
    ap.add_argument("--io-profile", default=json.dumps(IO_PROFILE))
    ap.add_argument("--slots", type=int, default=64, help="short call slots per worker "
                    "(latency part)")
    ap.add_argument("--uploads", type=int, default=8, help="upload slots per worker (latency)")
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--scrape", type=float, default=0.5, metavar="SECONDS",
                    help="burst part: serve the web app (gunicorn) and scrape its /metrics "
                    "this often during each Warta burst, printing what it showed; 0: off")
    args = ap.parse_args()
    installation.CHANNELS = args.accounts
    profile, io_profile = json.loads(args.profile), json.loads(args.io_profile)
    window = 30.0 if args.fast else 600.0
    steady_n = 500 if args.fast else 1000
    burst_n = 1000 if args.fast else 2000
    io_n = 2 * installation.CHANNELS if args.fast else 4 * installation.CHANNELS
    burst_n = max(burst_n, installation.CHANNELS)
    crash_n = 3 * installation.CHANNELS
    idle_s = 5.0 if args.fast else 10.0
    kinds = args.backends.split(",")
    parts = args.parts.split(",")

    cpu = open("/proc/cpuinfo").read()
    model = next((ln.split(":", 1)[1].strip() for ln in cpu.splitlines()
                  if ln.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} CPUs, {model}; python {sys.version.split()[0]}")
    print(f"mode: {'fast' if args.fast else 'full'}; {installation.CHANNELS} sandbox accounts; "
          f"worker "
          f"defaults unless said (tick 1 s, 16 call + 2 upload slots, heartbeat 1 s, "
          f"dead after 5 s, lease 300 s)\n", flush=True)
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="warta-bench-") as tmp:
        dbs = Databases(Path(tmp))
        try:
            if "steady" in parts:
                configs = [(k, w) for k in kinds for w in (1, 4)]
                print("steady load (lateness = adapter call - scheduled time)", flush=True)
                res = steady(dbs, configs, steady_n, window)
                print(f"  {'backend':<11}{'workers':>8}{'p50':>12}{'p99':>12}{'lost':>6}"
                      f"{'dup':>5}")
                for (kind, w), r in res.items():
                    print(f"  {kind:<11}{w:>8}{fmt_ms(r['p50']):>12}{fmt_ms(r['p99']):>12}"
                          f"{r['lost']:>6}{r['duplicated']:>5}", flush=True)
            for kind in kinds if "burst" in parts else []:
                print(f"\nburst of {burst_n} due at the same instant, instant platform ({kind})")
                print(f"  {'system':<34}{'lost':>6}{'dup':>6}{'p99 late':>13}{'pubs/s':>9}"
                      f"{'ratio':>7}{'idle CPU':>10}")
                rows = []
                for w in WORKERS:
                    r = burst(dbs, kind, w, burst_n, idle_s, args.scrape)
                    rows.append((f"warta {kind} x{w}", r, f"{r['idle_cpu']:>9.1f}%"))
                for grace in ("default", "3600"):
                    r = aps_burst(dbs, kind, burst_n, grace)
                    label = f"apscheduler {kind} x4 grace={'1s' if grace == 'default' else '1h'}"
                    rows.append((label, r, ""))
                anchor = rows[-1][1]["rate"] or float("nan")
                for label, r, extra in rows:
                    print(f"  {label:<34}{r['lost']:>6}{r['duplicated']:>6}"
                          f"{fmt_ms(r['p99']):>13}{r['rate']:>9.1f}{r['rate'] / anchor:>7.2f}"
                          f"{extra:>10}", flush=True)
                print("  (ratio: to APScheduler with 1 h grace, the variant that loses nothing;"
                      " no Celery anchor in this bench)")
                if args.scrape > 0:
                    print(f"  /metrics of the web app during each Warta burst (gunicorn, "
                          f"scraped every {args.scrape:g} s; t from the burst's instant; "
                          f"publish jobs; published/failed: warta_publications_recent)")
                    for label, r, _extra in rows:
                        if label.startswith("warta"):
                            print(f"  {label}: {peaks(r['metrics'])}")
                            print("\n".join(timeline(r["metrics"], r["start"])), flush=True)
            for kind in [k for k in kinds if k == "postgresql"] if "latency" in parts else []:
                print(f"\nlatency profile {json.dumps(profile)} ({kind}): every account at once "
                      f"(10% video), then a second post each within 20 s; {args.slots} call + "
                      f"{args.uploads} upload slots per worker")
                print(f"  {'workers':<10}{'lost':>6}{'dup':>6}{'p50 non-video':>15}"
                      f"{'p99 non-video':>15}{'p99 video':>12}{'drained in':>12}")
                for w in WORKERS:
                    r = latency_mix(dbs, kind, w, profile, args.slots, args.uploads, 20.0)
                    ok = "ok" if r["p99"] <= 2.0 else "MISSED"
                    print(f"  {w:<10}{r['lost']:>6}{r['duplicated']:>6}{fmt_s(r['p50']):>15}"
                          f"{fmt_s(r['p99']):>15}{fmt_s(r['video_p99']):>12}"
                          f"{fmt_s(r['span']):>12}   target p99 <= 2 s: {ok}", flush=True)
            for kind in [k for k in kinds if k == "postgresql"] if "io" in parts else []:
                print(f"\nI/O-bound burst: {io_n} text posts due at once, profile "
                      f"{json.dumps(io_profile)}, default slots ({kind})")
                print(f"  {'workers':<10}{'lost':>6}{'dup':>6}{'pubs/s':>9}{'vs 1 worker':>13}")
                base = None
                for w in WORKERS:
                    r = io_burst(dbs, kind, w, io_n, io_profile)
                    base = base or r["rate"]
                    print(f"  {w:<10}{r['lost']:>6}{r['duplicated']:>6}{r['rate']:>9.1f}"
                          f"{r['rate'] / base:>12.2f}x", flush=True)
                print("  target: 4 workers >= 3x one")
            for kind in kinds if "crash" in parts else []:
                print(f"\ncrash: {crash_n} text posts due at once, 2 workers, default settings, "
                      f"no lookup; one worker SIGKILLed 3 s in ({kind})")
                r = crash(dbs, kind, crash_n, io_profile, 3.0)
                print(f"  jobs it held {r['held']}, calls in flight {r['in_flight']}, left "
                      f"unconfirmed {r['unconfirmed']}; its jobs taken over after "
                      f"{fmt_s(r['taken_over'])}, all its accounts publishing again within "
                      f"{fmt_s(r['resume_max'])}; not on the platform {r['missing']} (all "
                      f"unconfirmed ones count), lost {r['lost']}, duplicated "
                      f"{r['duplicated']}", flush=True)
        finally:
            dbs.drop_all()
    print(f"\ntotal {time.monotonic() - t0:.0f} s")


if __name__ == "__main__":
    main()
