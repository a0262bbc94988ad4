"""Emergency broadcast bench: from a second admin's confirmation until every account has it.

    python bench/emergency.py                       # SQLite and PostgreSQL, instant and latency
    python bench/emergency.py --backends postgresql --workers 2 --latency none

50 units × 4 sandbox accounts (200 accounts), real worker processes with default settings.
Before the emergency, ordinary approved posts are due on every account (``--ordinary`` per
account, scheduled a minute ago): the queue is busy when the emergency is confirmed, so the
figures show it jumping that queue (how many ordinary posts went out before the last emergency
one; without the priority each account would publish its ordinary backlog first).

Measured from ``confirmed_at`` to each account's publication (``published_at`` of the
publication records; the sandbox's ``called_at`` gives the call's start). Target: the last
account ≤ 60 s. ``--latency text`` runs the sandbox with a realistic per-call latency
(log-normal, median 0.8 s, p99 5 s: the dispatch bench's text profile) as well.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import load_average, percentile, reference_ms, verdict  # noqa: E402
from installation import Databases, now  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from postqueue.models import Job  # noqa: E402
from publisher.config import load_settings  # noqa: E402
from publisher.core import build_core  # noqa: E402
from publisher.models import (  # noqa: E402
    EmergencyPost,
    Post,
    Publication,
    PublicationStatus,
    Role,
    User,
    WorkerHeartbeat,
)
from publisher.services import emergency as em_svc  # noqa: E402
from publisher.services import org  # noqa: E402
from tests.helpers import approved_post, sandbox_channel  # noqa: E402
from tests.worker.procs import start_worker, stop, wait_for  # noqa: E402

UNITS, PER_UNIT = 50, 4
TARGET_S = 60.0
LATENCY = {"text": [0.8, 5.0], "image": [1.5, 8.0], "video": [15.0, 40.0]}
S = PublicationStatus


def run(dbs: Databases, kind: str, workers: int, ordinary: int, latency: bool,
        priority: bool = True) -> dict:
    """One installation: set up, start the workers, make the ordinary backlog due, start and
    confirm the emergency, wait until every emergency publication settled. ``priority=False``
    (the anchor) takes the emergency's queue priority away in the confirming transaction."""
    from cryptography.fernet import Fernet

    label = f"em-{kind}-{workers}-{'lat' if latency else 'instant'}-{int(priority)}"
    folder = dbs.tmp / label
    env = {"WARTA_DATABASE_URL": dbs.new(kind), "WARTA_SECRET_KEY": "bench-" + label,
           "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "WARTA_MEDIA_DIR": str(folder / "media"),
           "WARTA_SANDBOX_OUTBOX": str(folder / "outbox"), "WARTA_LOG_LEVEL": "WARNING"}
    core = build_core(load_settings(env))
    t_setup = time.perf_counter()
    with core.sessions.begin() as s:
        admins = [org.create_user(s, email=f"admin{i}@bench.go.id", name=f"Admin {i}",
                                  role=Role.ADMIN, unit=None, password="rahasia123",
                                  check_strength=False) for i in (1, 2)]
        staff = []
        for u in range(UNITS):
            unit = org.create_unit(s, name=f"Unit {u:02d}", slug=f"unit-{u:02d}")
            staff.append((
                org.create_user(s, email=f"op{u}@bench.go.id", name=f"Op {u}",
                                role=Role.OPERATOR, unit=unit, password="rahasia123",
                                check_strength=False),
                org.create_user(s, email=f"ap{u}@bench.go.id", name=f"Ap {u}",
                                role=Role.APPROVER, unit=unit, password="rahasia123",
                                check_strength=False)))
    parked = now() + timedelta(days=2)
    accounts = []
    for u, (op, ap) in enumerate(staff):
        names = [f"u{u:02d}-{c}" for c in range(PER_UNIT)]
        accounts += names
        channels = [sandbox_channel(core, op, a) for a in names]
        if latency:
            for a in names:
                (folder / "outbox" / a).mkdir(parents=True, exist_ok=True)
                (folder / "outbox" / a / "control.json").write_text(
                    json.dumps({"latency": LATENCY}))
        for k in range(ordinary):
            approved_post(core, op, ap, channels, body=f"Info rutin {u}-{k}", when=parked)
    setup_s = time.perf_counter() - t_setup
    procs = [start_worker(env, folder / f"w{i}.log") for i in range(workers)]
    try:
        def beats() -> int:
            with core.sessions() as s:
                return s.execute(select(func.count()).select_from(WorkerHeartbeat)).scalar_one()
        wait_for(lambda: beats() >= workers, 60, "workers to start", interval=0.2)
        with core.sessions.begin() as s:
            em = em_svc.start(core, s, s.get_one(User, admins[0].id), em_svc.EmergencyInput(
                title="Gempa", body="Gempa M5,8. Tetap tenang, jauhi bangunan, ikuti arahan "
                                    "BPBD. Info: 112."))
            em_id, seen = em.id, em.content_hash
        with core.sessions.begin() as s:
            # The ordinary backlog becomes due (a minute ago, older than the emergency) in the
            # confirming transaction: at its commit both wait in the queue together.
            due = now() - timedelta(minutes=1)
            s.execute(update(Publication).values(scheduled_at=due))
            s.execute(update(Job).where(Job.kind == "publish").values(run_at=due))
            em = em_svc.confirm(core, s, s.get_one(User, admins[1].id), em_id, seen)
            confirmed_at = em.confirmed_at
            if not priority:
                s.execute(update(Job).where(Job.priority > 0).values(priority=0))
        committed = now()
        assert confirmed_at is not None
        emergency_pubs = (select(Publication.id).join(EmergencyPost, EmergencyPost.post_id
                                                      == Publication.post_id)
                          .where(EmergencyPost.emergency_id == em_id))

        def open_emergency() -> int:
            with core.sessions() as s:
                return s.execute(select(func.count()).where(
                    Publication.id.in_(emergency_pubs),
                    Publication.status.in_([S.QUEUED, S.PUBLISHING]))).scalar_one()
        try:
            wait_for(lambda: open_emergency() == 0, 300, "the emergency to go out",
                     interval=0.2)
        except AssertionError as exc:
            print(f"  ! {exc}")
        with core.sessions() as s:
            rows = s.execute(select(Publication.status, Publication.published_at)
                             .where(Publication.id.in_(emergency_pubs))).all()
            last = max((p for st, p in rows if p is not None), default=None)
            before = s.execute(select(func.count()).select_from(Publication)
                               .join(Post, Post.id == Publication.post_id)
                               .outerjoin(EmergencyPost, EmergencyPost.post_id == Post.id)
                               .where(EmergencyPost.post_id.is_(None),
                                      Publication.status == S.PUBLISHED,
                                      Publication.published_at <= last)).scalar_one() \
                if last else 0
    finally:
        for p in procs:
            stop(p)
        core.engine.dispose()
    took = sorted((p - confirmed_at).total_seconds() for st, p in rows if p is not None)
    return {"accounts": len(rows), "published": sum(st == S.PUBLISHED for st, _ in rows),
            "p50": percentile(took, 50) if took else float("nan"),
            "p99": percentile(took, 99) if took else float("nan"),
            "last": took[-1] if took else float("nan"),
            "ordinary_before": before, "ordinary_total": UNITS * PER_UNIT * ordinary,
            "setup_s": setup_s, "confirm_s": (committed - confirmed_at).total_seconds()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ordinary", type=int, default=3,
                    help="ordinary posts due on every account when the emergency is confirmed")
    ap.add_argument("--anchor", action="store_true",
                    help="also run each case without the queue priority, to compare")
    ap.add_argument("--latency", default="none,text",
                    help="none (instant sandbox) and/or text (median 0.8 s, p99 5 s per call)")
    args = ap.parse_args()
    print(f"reference workload: {reference_ms():.0f} ms; load {load_average()}")
    print(f"{UNITS} units × {PER_UNIT} accounts, {args.workers} worker(s), "
          f"{args.ordinary} ordinary posts due per account")
    with tempfile.TemporaryDirectory() as tmp:
        dbs = Databases(Path(tmp))
        try:
            for kind in args.backends.split(","):
                for lat, prio in [(lat, prio) for lat in args.latency.split(",")
                                  for prio in ([True, False] if args.anchor else [True])]:
                    r = run(dbs, kind, args.workers, args.ordinary, lat == "text", prio)
                    print(f"{kind:10s} latency={lat:5s} priority={'on ' if prio else 'off'} "
                          f"published {r['published']}/"
                          f"{r['accounts']}  p50 {r['p50']:.2f} s  p99 {r['p99']:.2f} s  "
                          f"last {r['last']:.2f} s  [{verdict(r['last'], TARGET_S, 's')}]  "
                          f"ordinary published before the last emergency post: "
                          f"{r['ordinary_before']}/{r['ordinary_total']}  "
                          f"(confirm transaction {r['confirm_s']:.2f} s of it; "
                          f"setup {r['setup_s']:.0f} s)", flush=True)
        finally:
            dbs.drop_all()


if __name__ == "__main__":
    main()
