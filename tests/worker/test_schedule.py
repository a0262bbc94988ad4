"""The worker's periodic tasks, as ``Worker.start`` schedules them (in-process, both backends).

The figures are the contract, computed by hand from the settings: a lease is renewed three
times per lease (so one slow renewal never lets it run out under a live call), expired
leases are looked for every quarter lease (2 s to 30 s), due jobs every tick; every sweep
runs at its rhythm, first after its own delay (so a restart does not run them all at once).
The mutation run found these only in the multi-process tests (``-m slow``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from publisher.config import load_settings
from publisher.core import build_core
from publisher.notify import telegram_updates
from publisher.worker.runner import Worker

#: "First run N seconds after start" is computed inside start(), between the two wall-clock
#: readings around it; this much rounding either side (APScheduler keeps microseconds).
SLACK = timedelta(milliseconds=50)


@pytest.fixture
def started(test_env, clock, monkeypatch) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """``started(**settings)``: a started worker's schedule {id: (trigger, next run)} and the
    wall-clock instants around its start; the worker is stopped afterwards."""
    monkeypatch.setattr(telegram_updates, "ensure_mode", lambda core: None)
    monkeypatch.setattr(telegram_updates, "poll", lambda core: None)
    workers: list[tuple[Worker, Any]] = []

    def start(**settings: str) -> tuple[dict[str, tuple[Any, datetime]], datetime, datetime]:
        core = build_core(load_settings({**test_env, **settings}), clock=clock)
        w = Worker(core, worker_id=f"sched-{len(workers)}")
        workers.append((w, core))
        before = datetime.now(UTC)
        w.start()
        after = datetime.now(UTC)
        jobs = {j.id: (j.trigger, j.next_run_time) for j in w._scheduler.get_jobs()}
        return jobs, before, after

    yield start
    for w, core in workers:
        w.stop()
        core.engine.dispose()


def every(trigger: Any) -> float:
    assert isinstance(trigger, IntervalTrigger), trigger
    return trigger.interval.total_seconds()


def first_run_after(entry: tuple[Any, datetime], before: datetime, after: datetime,
                    delay: timedelta) -> bool:
    return before + delay - SLACK <= entry[1] <= after + delay + SLACK


@pytest.mark.parametrize(("lease", "recover", "renew"), [
    (5, 2.0, 5 / 3),      # a quarter lease is 1.25 s: at least 2 s; a third is 1.67 s
    (60, 15.0, 20.0),     # the tests' lease
    (200, 30.0, 200 / 3),  # a quarter is 50 s: at most 30 s
])
def test_leases_are_renewed_and_recovered_in_proportion_to_the_lease(  # type: ignore[no-untyped-def]
        started, lease, recover, renew) -> None:
    jobs, _before, _after = started(WARTA_LEASE_SECONDS=str(lease))
    assert every(jobs["leases"][0]) == pytest.approx(renew)
    assert every(jobs["recover"][0]) == pytest.approx(recover)
    assert every(jobs["leases"][0]) < lease  # renewed before it can run out


def test_every_sweep_at_its_rhythm_and_first_delay(started, backend) -> None:  # type: ignore[no-untyped-def]
    jobs, before, after = started(WARTA_POLL_SECONDS="0.5")
    assert every(jobs["tick"][0]) == 0.5
    assert every(jobs["metrics"][0]) == 60 and every(jobs["comments"][0]) == 60
    minutes = {"inbox-overdue": 10, "review-reminders": 10, "recurrence": 5,
               "weekly-report": 5}
    hours = {"token-expiry": 24, "token-renewal": 12}
    for name, m in minutes.items():
        assert every(jobs[name][0]) == m * 60, name
    for name, h in hours.items():
        assert every(jobs[name][0]) == h * 3600, name
    delays = {"token-expiry": timedelta(minutes=1), "inbox-overdue": timedelta(seconds=45),
              "review-reminders": timedelta(seconds=50), "token-renewal": timedelta(minutes=2),
              "recurrence": timedelta(seconds=20), "weekly-report": timedelta(seconds=30)}
    for name, delay in delays.items():
        assert first_run_after(jobs[name], before, after, delay), (name, jobs[name][1], before)
    # no retention configured, no notification bot: neither sweep exists
    assert not {"inbox-retention", "telegram", "telegram-mode"} & set(jobs)
    if backend == "sqlite":
        assert every(jobs["statistics"][0]) == 24 * 3600
        assert first_run_after(jobs["statistics"], before, after, timedelta(minutes=10))
    else:
        assert "statistics" not in jobs  # PostgreSQL's autovacuum keeps its statistics


def test_retention_and_a_polling_bot_add_their_sweeps(started) -> None:  # type: ignore[no-untyped-def]
    jobs, before, after = started(WARTA_INBOX_RETENTION_MONTHS="12",
                                  WARTA_NOTIFY_TELEGRAM_BOT_TOKEN="123:abc",
                                  WARTA_PUBLIC_URL="https://warta.example.go.id")
    assert every(jobs["inbox-retention"][0]) == 24 * 3600
    assert first_run_after(jobs["inbox-retention"], before, after, timedelta(minutes=3))
    assert every(jobs["telegram"][0]) == 3
    assert first_run_after(jobs["telegram"], before, after, timedelta(seconds=3))
    # the mode is set once at start (deleting a webhook every 10 minutes would fight another
    # installation's): a one-off job, already run or about to
    mode = jobs.get("telegram-mode")
    assert mode is None or isinstance(mode[0], DateTrigger)


def test_a_webhook_bot_checks_its_mode_every_ten_minutes_and_polls_nothing(started) -> None:  # type: ignore[no-untyped-def]
    jobs, before, after = started(WARTA_NOTIFY_TELEGRAM_BOT_TOKEN="123:abc",
                                  WARTA_NOTIFY_TELEGRAM_UPDATES="webhook",
                                  WARTA_PUBLIC_URL="https://warta.example.go.id")
    assert "telegram" not in jobs
    assert every(jobs["telegram-mode"][0]) == 600
    assert jobs["telegram-mode"][1] <= after + timedelta(minutes=10) + SLACK
