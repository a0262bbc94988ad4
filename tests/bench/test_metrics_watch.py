"""What ``bench/metrics_watch.py`` reads out of the app's /metrics during a burst: a renamed
gauge would otherwise print a burst of zeros and prove nothing."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import Role
from publisher.worker import run_once
from tests.helpers import approved_post, sandbox_channel, set_control
from web.app import create_app

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from metrics_watch import parse, peaks, timeline  # noqa: E402


def test_the_burst_figures_come_from_the_apps_metrics(test_env, clock, make_user):  # type: ignore[no-untyped-def]
    core = build_core(load_settings({**test_env, "WARTA_METRICS_TOKEN": "t"}), clock=clock)
    try:
        client = create_app(core=core).test_client()

        def scrape():  # type: ignore[no-untyped-def]
            res = client.get("/metrics", headers={"Authorization": "Bearer t"})
            assert res.status_code == 200
            return parse(res.get_data(as_text=True), clock.now, 0.01)

        op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
        chans = [sandbox_channel(core, op, a) for a in ("satu", "dua", "tiga")]
        set_control(core, "tiga", mode="reject", message="Ditolak.")
        start = clock.now + timedelta(hours=1)
        approved_post(core, op, ap, chans, when=start)
        before = scrape()
        assert (before.queued, before.due, before.oldest_due, before.published) == (3, 0, 0, 0)
        clock.now = start + timedelta(seconds=12)
        waiting = scrape()
        assert (waiting.queued, waiting.due, waiting.oldest_due) == (3, 3, 12)
        assert run_once(core) == 3
        after = scrape()
        assert (after.queued, after.running, after.due) == (0, 0, 0)
        assert (after.published, after.failed) == (2, 1)
        lines = timeline([before, waiting, after], start)
        assert len(lines) == 4 and "+12.0s" in lines[2]
        assert "peak due 3" in peaks([before, waiting, after])
    finally:
        core.engine.dispose()
