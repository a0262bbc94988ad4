#!/usr/bin/env python3
"""Type-check ratchet: mypy's error count per file may only go down.

``postqueue/`` and ``adapters/`` must have no error at all. Every other file may have at most
the errors ``.ci/mypy-baseline.txt`` records for it; a file not in the baseline may have none.
When a file has fewer errors than its baseline, the check fails too and asks for the baseline
to be lowered (``python .ci/mypy_ratchet.py --update``), so the slack cannot be spent again later.

Usage: ``python .ci/mypy_ratchet.py`` (CI), ``--update`` (rewrite the baseline after fixing
errors; refuses to record any error in the clean packages).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
CLEAN = ("postqueue/", "adapters/")  # zero errors, no baseline allowed
#: The files are the ones ``[tool.mypy] files`` in pyproject.toml names.
COMMAND = [sys.executable, "-m", "mypy", "--ignore-missing-imports", "--no-pretty",
           "--show-error-codes", "--no-error-summary"]
ERROR = re.compile(r"^(?P<path>[^:\s][^:]*\.pyi?):(?:\d+:)?(?:\d+:)? error: ")


def run_mypy() -> tuple[Counter[str], list[str]]:
    """Errors per file (paths relative to the repository, forward slashes) and the lines."""
    proc = subprocess.run(COMMAND, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):  # 2: mypy itself failed (bad config, crash)
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"mypy did not run (exit {proc.returncode})")
    lines = [line for line in proc.stdout.splitlines() if ERROR.match(line)]
    counts: Counter[str] = Counter(ERROR.match(line)["path"].replace("\\", "/")  # type: ignore[index]
                                   for line in lines)
    if proc.returncode == 1 and not counts:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit("mypy failed but reported no error line this script understands")
    return counts, lines


def read_baseline() -> Counter[str]:
    counts: Counter[str] = Counter()
    if BASELINE.exists():
        for raw in BASELINE.read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                n, path = line.split(maxsplit=1)
                counts[path] = int(n)
    return counts


def write_baseline(counts: Counter[str]) -> None:
    header = ("# mypy errors per file (python .ci/mypy_ratchet.py). Counts may only go down;\n"
              "# postqueue/ and adapters/ may not appear. Regenerate with --update.\n")
    body = "".join(f"{n} {path}\n" for path, n in sorted(counts.items()))
    BASELINE.write_text(header + body)


def main(argv: list[str]) -> int:
    counts, lines = run_mypy()
    clean_errors = [line for line in lines if line.startswith(CLEAN)]
    if clean_errors:
        print("mypy: postqueue/ and adapters/ must type-check cleanly:")
        print("\n".join(clean_errors))
        return 1
    if "--update" in argv:
        write_baseline(counts)
        print(f"mypy baseline rewritten: {sum(counts.values())} errors in {len(counts)} files")
        return 0
    baseline = read_baseline()
    worse = {p: n for p, n in counts.items() if n > baseline.get(p, 0)}
    better = {p: n for p, n in baseline.items() if counts.get(p, 0) < n}
    for path, n in sorted(worse.items()):
        was = baseline.get(path, 0)
        print(f"mypy: {path}: {n} errors, the baseline allows {was}"
              + (" (a new file with errors)" if path not in baseline else ""))
        print("\n".join("  " + line for line in lines if line.startswith(path + ":")))
    for path, n in sorted(better.items()):
        print(f"mypy: {path}: {counts.get(path, 0)} errors, fewer than the baseline's {n}: "
              "lower the baseline (python .ci/mypy_ratchet.py --update) and commit it")
    total, allowed = sum(counts.values()), sum(baseline.values())
    print(f"mypy: {total} errors in {len(counts)} files (baseline {allowed}); "
          "postqueue/ and adapters/: 0")
    return 1 if worse or better else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
