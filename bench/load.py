"""Load bench of the browser pages and the API on the benchmark database, through a real server.

    python bench/load.py --backend sqlite --path /work/var/bench-1.0.db     # 20 users, 60 s
    python bench/load.py --backend postgresql                               # warta_bench_1_0
    python bench/load.py --backend postgresql --server gunicorn             # docs/ops/ config
    python bench/load.py --quick ...       # smoke run: 5 users, 10 s, 3 requests per page

The database is reports.py's (same --backend, --scale, --path; generated only when empty).
The bench gives a few of its users the password of ``_load_setup.PASSWORD`` (an admin, the
operators op1..op20, five approvers), a fresh API token each, starts the server as a subprocess
(``warta web`` by default, i.e. whatever that command runs today; its log goes to
/tmp/warta-load-<backend>-<server>.log), logs every virtual user in over HTTP (the login form's
CSRF token, then the POST; one requests.Session each), and stops the server with SIGINT at the
end, also after an error.

How to read it:

* ``reference workload``: a fixed CPU job in ms (see _common.reference_ms). The host is shared,
  so compare runs by figure / reference, not by ms; the load average is printed too.
* Phase 1, single requests: each page requested alone, warm, ``--repeat`` times in a row, as an
  admin (every unit) and as an operator (one unit): the median in ms, its ratio to the
  reference, the answer's size (uncompressed; > 200 KB is flagged) and the issue's target
  (dashboard and calendar <= 150 ms, posts list <= 100 ms, reports month <= 200 ms, year <= 1 s).
* Phase 2, load: ``--users`` virtual users for ``--seconds``, each looping over a weighted mix
  of pages and API calls (``MIX``) with ``--think`` seconds' pause on average between two
  (0: the next request leaves as soon as the last answered, the hardest reading of "N
  concurrent users"). Per page: requests, errors (anything but 200, a redirect included),
  p50/p99/max; then requests/s, the CPU the server and the bench client used, and the verdict
  (p99 <= 1 s for every page, no errors). A p99 of a page asked 20 times is its slowest but one.
  The client runs on the same CPUs as the server: its CPU share is printed so it can be weighed.

The app has no setting for a fixed "now": the server reads the real clock. The generated data
spans 2025-01 to 2026-12 (printed), so the dashboard and the calendar show real weeks only while
the clock is inside that span.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import requests  # noqa: E402
from _common import (  # noqa: E402
    SQLITE_PATH,
    database_url,
    load_average,
    percentile,
    reference_ms,
    verdict,
)
from _load_setup import (  # noqa: E402
    ADMIN,
    OPERATORS,
    PASSWORD,
    Account,
    cast,
    data_span,
    ensure_accounts,
    fresh_tokens,
    is_filled,
    post_samples,
)
from _server import Server, environment, free_port, login  # noqa: E402
from reports import PERIODS, generate, vacuum  # noqa: E402

#: The issue's single-request targets (ms); pages without one print "-".
TARGETS: dict[str, float | None] = {
    "dashboard": 150, "calendar month": 150, "calendar week": 150, "posts list": 100,
    "posts deep page": 100, "posts search": 100, "reports month": 200, "reports year": 1000}
LOAD_P99_MS = 1000
BIG_KB = 200
TIMEOUT = 60.0


@dataclass
class User:
    """One virtual user: its account, its logged-in browser session, its API token, the posts
    it may open and its own random stream."""

    account: Account
    web: requests.Session
    api: requests.Session
    posts: list[int]
    rnd: random.Random
    results: list[tuple[str, float, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def _month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt - timedelta(days=1)


def _months(rnd: random.Random, n: int) -> str:
    """``from=..&to=..`` for ``n`` whole months ending at a random month inside the data."""
    end = rnd.randrange(2025 * 12 + n, 2026 * 12 + 11)  # months since year 0, 0-based
    first, _ = _month((end - n + 1) // 12, (end - n + 1) % 12 + 1)
    _, last = _month(end // 12, end % 12 + 1)
    return f"from={first}&to={last}"


def _fixed(name: str) -> str:
    first, last = PERIODS[name]
    return f"from={first}&to={last}"


Url = Callable[[User], str]
#: page -> (weight in the load mix, API call?, URL in phase 2, URL in phase 1).
MIX: dict[str, tuple[int, bool, Url, Url]] = {
    "dashboard": (28, False, lambda u: "/", lambda u: "/"),
    "posts list": (14, False, lambda u: "/unggahan", lambda u: "/unggahan"),
    # the list pages by position: the page older than one of the user's posts, anywhere in
    # the two years (an offset page 50 used to be the way there)
    "posts deep page": (5, False, lambda u: f"/unggahan?sebelum={u.rnd.choice(u.posts)}",
                        lambda u: f"/unggahan?sebelum={sorted(u.posts)[len(u.posts) // 2]}"),
    "posts search": (3, False, lambda u: f"/unggahan?q=Unggahan+{u.rnd.randint(1, 9999)}",
                     lambda u: "/unggahan?q=Unggahan+4242"),
    "post detail": (12, False, lambda u: f"/unggahan/{u.rnd.choice(u.posts)}",
                    lambda u: f"/unggahan/{u.posts[0]}"),
    "calendar month": (9, False, lambda u: "/kalender", lambda u: "/kalender"),
    "calendar week": (5, False, lambda u: "/kalender?view=week",
                      lambda u: "/kalender?view=week"),
    "reports month": (6, False, lambda u: f"/laporan/?{_months(u.rnd, 1)}",
                      lambda u: f"/laporan/?{_fixed('month')}"),
    "reports quarter": (2, False, lambda u: f"/laporan/?{_months(u.rnd, 3)}",
                        lambda u: f"/laporan/?{_fixed('quarter')}"),
    "reports year": (1, False, lambda u: f"/laporan/?{_months(u.rnd, 12)}",
                     lambda u: f"/laporan/?{_fixed('year')}"),
    "API posts": (10, True, lambda u: f"/api/v1/posts?page={u.rnd.randint(1, 5)}",
                  lambda u: "/api/v1/posts"),
    "API post": (5, True, lambda u: f"/api/v1/posts/{u.rnd.choice(u.posts)}",
                 lambda u: f"/api/v1/posts/{u.posts[0]}"),
}


def fetch(base: str, user: User, page: str, path: str) -> tuple[float, str, int]:
    """(ms, outcome, bytes): outcome ``ok``, the status code, or the exception's name; the
    user keeps the first few failures with their path and reason (``User.failures``)."""
    api = MIX[page][1]
    t = time.perf_counter()
    try:
        if api:
            r = user.api.get(f"{base}{path}", timeout=TIMEOUT)
        else:
            r = user.web.get(f"{base}{path}", timeout=TIMEOUT, allow_redirects=False)
        size = len(r.content)
        outcome = "ok" if r.status_code == 200 else str(r.status_code)
        reason = r.headers.get("Location", "") if outcome != "ok" else ""
    except requests.RequestException as exc:
        size, outcome, reason = 0, type(exc).__name__, str(exc)
    ms = (time.perf_counter() - t) * 1000
    if outcome != "ok" and len(user.failures) < 3:
        user.failures.append(f"{page} {path}: {outcome} after {ms:.0f} ms {reason[:160]}")
    return ms, outcome, size


def single(base: str, users: dict[str, User], repeat: int, ref: float) -> None:
    """Phase 1: every page alone, warm, ``repeat`` times in a row per viewer."""
    print(f"\nphase 1: single requests (median of {repeat} after one warm-up; x ref = median "
          f"/ reference workload)")
    print(f"  {'page':<16} {'viewer':<9} {'median':>8} {'x ref':>6} {'size':>8}  target")
    for page, (_w, _api, _url, url1) in MIX.items():
        for who, user in users.items():
            path = url1(user)
            fetch(base, user, page, path)
            runs = [fetch(base, user, page, path) for _ in range(repeat)]
            bad = [o for _, o, _ in runs if o != "ok"]
            med = statistics.median(ms for ms, _, _ in runs)
            kb = max(size for _, _, size in runs) / 1024
            flag = f"  > {BIG_KB} KB!" if kb > BIG_KB else ""
            said = f"ERRORS {Counter(bad)}" if bad else verdict(med, TARGETS.get(page))
            print(f"  {page:<16} {who:<9} {med:6.0f} ms {med / ref:6.2f} {kb:6.0f} KB  "
                  f"{said}{flag}")


def _loop(base: str, user: User, deadline: float, think: float) -> None:
    pages = list(MIX)
    weights = [MIX[p][0] for p in pages]
    while time.monotonic() < deadline:
        page = user.rnd.choices(pages, weights)[0]
        ms, outcome, _ = fetch(base, user, page, MIX[page][2](user))
        user.results.append((page, ms, outcome))
        if think > 0:
            time.sleep(min(user.rnd.uniform(0, 2 * think), max(0.0, deadline - time.monotonic())))


def _cpu_seconds(pid: int) -> float | None:
    """CPU seconds of a process and its children (gunicorn's workers), if psutil is there."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return None
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def load(base: str, server_pid: int, users: list[User], seconds: float, think: float) -> bool:
    """Phase 2: all users at once for ``seconds``; True when the load targets were met."""
    print(f"\nphase 2: {len(users)} users for {seconds:.0f} s, think time "
          f"{think:g} s on average{' (closed loop: none)' if not think else ''}; "
          f"load average {load_average()}")
    print("  mix (weights): " + ", ".join(f"{p} {w}" for p, (w, *_rest) in MIX.items()))
    cpu0, client0 = _cpu_seconds(server_pid), time.process_time()
    t0 = time.monotonic()
    deadline = t0 + seconds
    threads = [threading.Thread(target=_loop, args=(base, u, deadline, think), daemon=True)
               for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, deadline - time.monotonic()) + TIMEOUT + 5)
    elapsed = time.monotonic() - t0
    cpu1, client = _cpu_seconds(server_pid), time.process_time() - client0
    stuck = sum(t.is_alive() for t in threads)
    results = [r for u in users for r in u.results]
    by_page: dict[str, list[tuple[float, str]]] = {}
    for page, ms, outcome in results:
        by_page.setdefault(page, []).append((ms, outcome))
    print(f"  {'page':<16} {'n':>5} {'errors':>6} {'p50':>7} {'p99':>7} {'max':>7}  "
          f"p99 <= {LOAD_P99_MS} ms")
    missed = []
    for page in MIX:
        rows = by_page.get(page, [])
        if not rows:
            print(f"  {page:<16} {0:5d}  (not requested)")
            continue
        times = [ms for ms, _ in rows]
        failed = sum(o != "ok" for _, o in rows)
        p99 = percentile(times, 99)
        if p99 > LOAD_P99_MS or failed:
            missed.append(page)
        print(f"  {page:<16} {len(rows):5d} {failed:6d} {percentile(times, 50):7.0f} "
              f"{p99:7.0f} {max(times):7.0f}  {verdict(p99, LOAD_P99_MS)}")
    all_ms = [ms for _, ms, _ in results]
    errors = Counter(o for _, _, o in results if o != "ok")
    if all_ms:
        print(f"  {'all':<16} {len(all_ms):5d} {sum(errors.values()):6d} "
              f"{percentile(all_ms, 50):7.0f} {percentile(all_ms, 99):7.0f} {max(all_ms):7.0f}")
    print(f"  {len(results) / elapsed:.1f} requests/s ({len(results)} in {elapsed:.1f} s); "
          f"errors: {dict(errors) or 'none'}" + (f"; {stuck} users still waiting" if stuck
                                                 else ""))
    if cpu0 is not None and cpu1 is not None:
        print(f"  server CPU {cpu1 - cpu0:.0f} s ({(cpu1 - cpu0) / elapsed:.2f} CPUs), bench "
              f"client CPU {client:.0f} s ({client / elapsed:.2f} CPUs); load average "
              f"{load_average()}")
    for line in [f for u in users for f in u.failures][:8]:
        print(f"    e.g. {line}")
    ok = not missed and not errors and not stuck
    print(f"  verdict: p99 <= {LOAD_P99_MS} ms on every page and no errors: "
          + ("MET" if ok else f"MISSED ({', '.join(missed) or 'errors'})"))
    return ok


def prepare(url: str, scale: float, n_users: int) -> tuple[list[Account], dict[int, str],
                                                           dict[int, list[int]], str]:
    """The database filled, the accounts ready; (accounts, tokens, posts by unit, data span)."""
    from cryptography.fernet import Fernet

    from publisher.config import load_settings
    from publisher.core import build_core

    settings = load_settings({"WARTA_DATABASE_URL": url, "WARTA_SECRET_KEY": "bench",
                              "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
                              "WARTA_MEDIA_DIR": "/tmp/warta-bench-media"}, dotenv=None)
    core = build_core(settings)
    try:
        if not is_filled(core):
            generate(url, scale)
            vacuum(url)
        from publisher.migrate import upgrade

        upgrade(core.engine)  # a database made by an older Warta gets this one's schema
        ensure_accounts(core)
        accounts = cast(n_users)
        tokens = fresh_tokens(core, [*accounts, ADMIN, OPERATORS[0]])
        samples = post_samples(core)
        lo, hi = data_span(core)
    finally:
        core.engine.dispose()
    span = f"{lo:%Y-%m-%d} .. {hi:%Y-%m-%d}" if lo and hi else "empty"
    return accounts, tokens, samples, span


def _user(base: str, acc: Account, token: str, samples: dict[int, list[int]],
          seed: int) -> User:
    posts = samples[acc.unit_id] if acc.unit_id is not None else [
        p for ids in samples.values() for p in ids[:10]]
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {token}"
    return User(acc, login(base, acc.email, PASSWORD), api, posts, random.Random(seed))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--path", default=SQLITE_PATH, help="the SQLite file (default %(default)s, "
                    "relative to the working directory)")
    ap.add_argument("--server", choices=["web", "gunicorn"], default="web",
                    help="`warta web` (default) or gunicorn with docs/ops/gunicorn.conf.py")
    ap.add_argument("--users", type=int, default=20, help="virtual users in phase 2 "
                    "(default %(default)s)")
    ap.add_argument("--seconds", type=float, default=60, help="length of phase 2 (default "
                    "%(default)s)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean pause between a user's requests, s (default 0: none)")
    ap.add_argument("--repeat", type=int, default=5, help="requests per page and viewer in "
                    "phase 1 (default %(default)s)")
    ap.add_argument("--phase", choices=["both", "single", "load"], default="both",
                    help="run phase 1 (single requests), phase 2 (load) or both")
    ap.add_argument("--quick", action="store_true", help="5 users, 10 s, 3 requests per page")
    ap.add_argument("--skip", default="", help="pages left out of both phases, comma-separated "
                    "(e.g. 'reports year,calendar month'), to see what the others do alone")
    a = ap.parse_args()
    for name in filter(None, (n.strip() for n in a.skip.split(","))):
        if name not in MIX:
            ap.error(f"--skip: no page {name!r} (pages: {', '.join(MIX)})")
        del MIX[name]
    if a.quick:
        a.users, a.seconds, a.repeat = 5, 10.0, 3
    url = database_url(a.backend, a.scale, a.path, create=True)
    print(f"{a.backend} {url.rsplit('/', 1)[-1]}, scale {a.scale}; server: {a.server}; "
          f"load average {load_average()}")
    t = time.perf_counter()
    accounts, tokens, samples, span = prepare(url, a.scale, a.users)
    print(f"database and {len(set(accounts))} bench accounts ready in "
          f"{time.perf_counter() - t:.1f} s; posts scheduled {span}; the server's now is the "
          f"real clock ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC): the app has no fixed-now "
          "setting")
    from cryptography.fernet import Fernet

    port = free_port()
    work = Path(tempfile.gettempdir()) / "warta-load"
    log = Path(tempfile.gettempdir()) / f"warta-load-{a.backend}-{a.server}.log"
    server = Server(a.server, environment(url, port, Fernet.generate_key().decode(),
                                          str(work / "media")), port, log, work)
    print(f"server: {' '.join(server.argv)} (log {log})")
    try:
        print(f"  answering after {server.wait_ready():.1f} s; {server.processes()}")
        ref = reference_ms()
        print(f"reference workload: {ref:.0f} ms")
        if a.phase in ("both", "single"):
            viewers = {"admin": ADMIN, "operator": OPERATORS[0]}
            single(server.base, {k: _user(server.base, acc, tokens[acc.id], samples, 0)
                                 for k, acc in viewers.items()}, a.repeat, ref)
            print(f"reference workload: {reference_ms():.0f} ms (after phase 1); load average "
                  f"{load_average()}")
        if a.phase in ("both", "load"):
            t = time.perf_counter()
            users = [_user(server.base, acc, tokens[acc.id], samples, 1000 + k)
                     for k, acc in enumerate(accounts)]
            print(f"\n{len(users)} users logged in in {time.perf_counter() - t:.1f} s "
                  f"({Counter(u.account.role for u in users)})")
            load(server.base, server.proc.pid, users, a.seconds, a.think)
            print(f"reference workload: {reference_ms():.0f} ms (after phase 2)")
    finally:
        print(f"server {server.stop()}")


if __name__ == "__main__":
    main()
