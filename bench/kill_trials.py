"""Kill trials: SIGKILL workers again and again in the middle of publishing; count what was lost
or published twice.

    python bench/kill_trials.py                      # 20 kills on SQLite, then on PostgreSQL
    python bench/kill_trials.py --kills 50 --backends postgresql

Each backend gets its own installation: sandbox accounts whose calls take a long-tailed time
(the sandbox latency profile), publications due over a window, worker processes with default
settings (SQLite: one worker at a time, restarted after each kill; PostgreSQL: two, a random one
killed and replaced). After the last kill the survivors drain the queue; then every
publication's key must be in the outbox exactly once (the sandbox has ``lookup``, so a post
that was in flight at a kill is reconciled, not re-posted, and nothing is left unconfirmed).
Exit code 1 if anything was lost or duplicated.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import installation  # noqa: E402
from installation import Databases, Install, now, outbox_calls  # noqa: E402

from tests.worker.procs import kill, start_worker, wait_for  # noqa: E402


def trial(dbs: Databases, kind: str, kills: int, n: int, window: float, seed: int) -> dict:
    rng = random.Random(seed)
    inst = Install(dbs, kind, n, f"kills-{kind}", control={"latency": {"text": [0.4, 2.0]}})
    workers = 1 if kind == "sqlite" else 2
    env = {"WARTA_WORKER_THREADS": "8"}
    inst.start(workers, env)
    start = now() + timedelta(seconds=2)
    sched = inst.schedule([rng.uniform(0, window) for _ in range(n)], start)
    time.sleep(2.5)
    logs = 0
    for _k in range(kills):
        time.sleep(rng.uniform(0.3, 2.0))
        victim = rng.randrange(len(inst.procs))
        kill(inst.procs[victim])
        logs += 1
        inst.procs[victim] = start_worker({**inst.env, **env},
                                          inst.dir / f"restart{logs}.log")
    try:
        wait_for(lambda: inst.open_count() == 0, 600, "the queue to drain", interval=0.5)
    except AssertionError as exc:
        print(f"  ! {exc}")
    statuses = inst.status_counts()
    inst.stop()
    counts = Counter(k for _a, k, _s, _e in outbox_calls(inst.dir / "outbox"))
    return {"publications": n, "kills": kills,
            "lost": sum(1 for k in sched if k not in counts),
            "duplicated": sum(1 for c in counts.values() if c > 1),
            "statuses": dict(statuses)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--publications", type=int, default=300)
    ap.add_argument("--window", type=float, default=30.0, help="seconds the due times span")
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    installation.CHANNELS = args.accounts
    bad = False
    with tempfile.TemporaryDirectory(prefix="warta-kills-") as tmp:
        dbs = Databases(Path(tmp))
        try:
            for kind in args.backends.split(","):
                t0 = time.monotonic()
                r = trial(dbs, kind, args.kills, args.publications, args.window, args.seed)
                print(f"{kind}: {r['kills']} SIGKILLs over {r['publications']} publications: "
                      f"lost {r['lost']}, duplicated {r['duplicated']}; final states "
                      f"{r['statuses']} ({time.monotonic() - t0:.0f} s)", flush=True)
                bad = bad or bool(r["lost"] or r["duplicated"])
        finally:
            dbs.drop_all()
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
