"""What the bench scripts share: where the benchmark database is, the reference CPU workload
printed beside every figure, and the small statistics the verdicts are read from (percentiles,
target verdicts, a least-squares line).

The arithmetic is kept here, free of I/O, so tests/bench/ can check it without a server.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{db}"
#: The SQLite file's default, relative to the working directory (reports.py's convention).
SQLITE_PATH = "var/bench-{scale}.db"


def pg_name(scale: float) -> str:
    """The PostgreSQL benchmark database of a scale: ``warta_bench_1_0`` for 1.0."""
    return f"warta_bench_{str(scale).replace('.', '_')}"


def database_url(backend: str, scale: float, path: str = SQLITE_PATH, *,
                 fresh: bool = False, create: bool = True) -> str:
    """The benchmark database's URL; ``fresh`` drops it first, ``create`` makes an empty
    PostgreSQL database when there is none (the caller fills it with ``reports.generate``)."""
    if backend == "sqlite":
        file = Path(path.format(scale=scale))
        if fresh and file.exists():
            file.unlink()
        return f"sqlite:///{file}"
    import psycopg

    name = pg_name(scale)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                              (name,)).fetchone()
        if fresh and exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists and create:
            conn.execute(f'CREATE DATABASE "{name}"')
    return PG_URL.format(db=name)


def reference_once() -> float:
    """3 million multiply-adds in Python, in ms."""
    t = time.perf_counter()
    s = 0
    for i in range(3_000_000):
        s += i * i
    return (time.perf_counter() - t) * 1000


def reference_ms() -> float:
    """A fixed CPU workload (3 million multiply-adds in Python), best of three.

    The machines here share their host: the same code ran up to twice as slow from one run to
    the next, and within a run. Printing this beside the figures lets a reader compare runs
    (and machines) by the ratio figure / reference rather than by milliseconds.
    """
    return min(reference_once() for _ in range(3))


def load_average() -> str:
    """The host's 1/5/15-minute load average, printed with the figures: the CPU is shared."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1/5/15 min, {os.cpu_count()} CPUs)"


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), interpolated between the closest ranks (numpy's
    default), so a p99 of a few samples lies between the two slowest instead of jumping."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, not {q}")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def verdict(value: float, target: float | None, unit: str = "ms") -> str:
    """``met (12 ms to spare)`` or ``MISSED by 35 ms (1.23x)`` for a figure that must be at most
    ``target``; ``-`` when there is no target."""
    if target is None:
        return "-"
    if value <= target:
        return f"met ({target - value:.0f} {unit} to spare)"
    return f"MISSED by {value - target:.0f} {unit} ({value / target:.2f}x)"


def fit_line(points: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """Least squares ``y = fixed + slope * x`` through ``points`` (x, y): the fixed cost of a
    page and its cost per row. Needs two distinct x values."""
    n = len(points)
    if n < 2:
        raise ValueError("a line needs at least two points")
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        raise ValueError("a line needs two distinct x values")
    slope = sum((x - mx) * (y - my) for x, y in points) / sxx
    return my - slope * mx, slope
