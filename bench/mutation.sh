#!/usr/bin/env bash
# Mutation testing of the queue (postqueue/) and the worker (publisher/worker/) with mutmut 3
# (config: [tool.mutmut] in pyproject.toml; install: pip install -e '.[mutation]').
# Not part of CI: a full run takes long. Each mutant is a small change to the code (a flipped
# comparison, a dropped condition, a changed constant); a mutant the tests do not notice
# ("survived") is a behaviour no test pins down.
#
#   bench/mutation.sh                          # every mutant of both packages
#   bench/mutation.sh 'postqueue.*'            # only some (mutmut's name globs)
#   bench/mutation.sh --report                 # print the figures of the last run again
#
# Tests run on SQLite only (WARTA_TEST_DATABASE_URL is unset) and at low priority.
set -uo pipefail
cd "$(dirname "$0")/.."
unset WARTA_TEST_DATABASE_URL CI COVERAGE_PROCESS_START WARTA_FAKE_WALL_CLOCK \
  WARTA_WALL_CLOCK_SHIFT

if [ "${1:-}" != "--report" ]; then
  nice -n "${MUTATION_NICE:-15}" mutmut run "$@"
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "mutmut run failed (exit $status)" >&2
    exit "$status"
  fi
fi

mutmut results --all true | python3 -c '
import collections, datetime, re, sys

PACKAGES = ("postqueue", "publisher.worker")
by_package = {p: collections.Counter() for p in PACKAGES}
survivors = []
for line in sys.stdin:
    m = re.match(r"\s*(\S+): (.+)$", line)
    if not m:
        continue
    name, status = m.groups()
    package = next((p for p in PACKAGES if name.startswith(p + ".")), None)
    if package is None:
        continue
    by_package[package][status] += 1
    if status not in ("killed", "timeout", "caught by type check", "not checked", "skipped"):
        survivors.append((name, status))

print("Not killed (show one with: mutmut show NAME):")
for name, status in survivors:
    print(f"  {name}: {status}")
print()
print(f"Mutation figures, {datetime.date.today().isoformat()}:")
for package, counts in by_package.items():
    total = sum(counts.values())
    checked = total - counts["not checked"] - counts["skipped"]
    killed = counts["killed"] + counts["timeout"] + counts["caught by type check"]
    survived = counts["survived"]
    score = 100.0 * killed / checked if checked else 0.0
    others = {k: v for k, v in counts.items()
              if k not in ("killed", "timeout", "caught by type check", "survived")}
    print(f"  {package}: {killed} killed, {survived} survived, {total} mutants"
          f" ({checked} checked), score {score:.1f}%"
          + (f"; other: {dict(others)}" if others else ""))
'
