"""bench/comments.py at a small scale: the calls it prints per platform are the requests the
fakes themselves logged, every seeded comment was collected, and every schedule ended — a
figure that miscounted (or a collection that read less than it should) would fail here."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import comments as bench  # noqa: E402


def test_counted_calls_match_the_fakes_request_log(test_env):  # type: ignore[no-untyped-def]
    result = bench.run(test_env["WARTA_DATABASE_URL"], posts=4, days=2, seed=3)
    for platform in bench.PLATFORMS:
        assert result.calls[platform] == result.fake_log[platform] > 0, platform
        # each post is read at least once per step of its schedule (7 steps)
        assert result.pages[platform] >= 7 * 4 * 2, platform
    assert sum(result.calls.values()) == result.fake_log["all"]
    assert result.stored == sum(result.comments.values())  # nothing missed, nothing twice
    assert result.unfinished == 0
    # the verdict is on the figure per 1,000 posts a day (here x 250)
    at_1000 = {p: result.per_day(p) * 250 for p in bench.PLATFORMS}
    lines = bench.report(result, {p: int(v) + 1 for p, v in at_1000.items()})
    assert sum("within" in line for line in lines) == 3
    over = bench.report(result, {p: int(v) - 1 for p, v in at_1000.items()})
    assert sum("OVER" in line for line in over) == 3
