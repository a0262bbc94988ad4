"""The suite does not depend on the wall clock, the machine's time zone or where the clock
fixture starts: a subset of the date-sensitive tests runs again in a fresh pytest under the
zones furthest from Indonesia (UTC+14 and UTC-10), with the wall clock faked to 23:30 UTC (when
WIB's date is already tomorrow) and the clock fixture starting at awkward instants.

The whole suite can be run the same way (``TZ=… WARTA_FAKE_WALL_CLOCK=23:30
WARTA_TEST_NOW=2026-06-10T16:59:59Z python -m pytest``); this keeps a bounded piece of that in
every run. SQLite only, to keep it short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import AWKWARD_INSTANTS
from tests.wallclock import FAKE_ENV, SHIFT_ENV

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]

#: Tests that read local days, months, report periods and schedules.
SUBSET = [
    "tests/web/test_ui_posts.py::test_ui_filters_by_status_channel_author_and_day",
    "tests/reports/test_figures.py::test_period_is_whole_local_days",
    "tests/reports/test_figures.py::test_latest_snapshot_as_of_period_end",
    "tests/reports/test_heatmap.py",
    "tests/web/test_dashboard.py::test_engagement_card_shows_this_months_figures",
    "tests/worker/test_end_to_end.py",
    "tests/test_config.py",
]


@pytest.mark.parametrize(("zone", "start"), [
    # 23:59:59 WIB on 10 June is already 11 June on the machine (UTC+14) ...
    ("Pacific/Kiritimati", "wib-before-midnight"),
    # ... and 00:00 WIB on 11 June is still 10 June there (UTC-9 in June), and in UTC.
    ("America/Adak", "wib-after-midnight"),
])
def test_subset_passes_in_far_zones_on_a_fake_wall_clock_at_2330_utc(zone: str, start: str):
    env = {k: v for k, v in os.environ.items()
           if k not in ("WARTA_TEST_DATABASE_URL", "CI", SHIFT_ENV, "PYTEST_ADDOPTS")}
    env.update({"TZ": zone, FAKE_ENV: "23:30",
                "WARTA_TEST_NOW": AWKWARD_INSTANTS[start].isoformat()})
    # Not -q: the header says where the clocks are.
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           *SUBSET], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=280)  # below pytest-timeout's 300 s; ~20 s on an idle host
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    # The run really was where it was asked to be, not a plain run that happened to pass:
    assert f"clock fixture starts at {AWKWARD_INSTANTS[start].isoformat()}" in out, out[-3000:]
    assert re.search(r"wall clock faked to \d{4}-\d\d-\d\dT23:3\d", out), out[-3000:]
    assert re.search(rf"machine's zone is TZ='{zone}' \(UTC[+-](1400|0900|1000)\)", out), \
        out[-3000:]
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 15, out[-3000:]
    assert " failed" not in out and " error" not in out, out[-3000:]
