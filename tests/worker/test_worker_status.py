"""The health board's worker list: live workers first, stopped ones marked, old ones gone."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.models import Role, WorkerHeartbeat
from publisher.services import workers
from publisher.worker.runner import Worker


def _beat(s, worker_id, host, at):  # type: ignore[no-untyped-def]
    s.add(WorkerHeartbeat(worker_id=worker_id, host=host, pid=1, started_at=at, last_tick_at=at,
                          info=""))


def test_statuses_live_first_stopped_marked_old_hidden(core, clock):  # type: ignore[no-untyped-def]
    now = clock.now
    with core.sessions.begin() as s:
        _beat(s, "old", "server-lama", now - timedelta(days=3))
        _beat(s, "stopped", "server-b", now - timedelta(minutes=10))
        _beat(s, "live", "server-a", now - timedelta(seconds=5))
    with core.sessions() as s:
        got = [(w.worker_id, w.alive) for w in workers.statuses(s, now)]
        assert got == [("live", True), ("stopped", False)]
        assert workers.any_alive(s, now)
        assert not workers.any_alive(s, now + timedelta(minutes=2))
        # nothing recent: the last one ever seen, marked stopped
        later = now + timedelta(days=2)
        assert [(w.worker_id, w.alive) for w in workers.statuses(s, later)] == [("live", False)]


def test_heartbeat_forgets_workers_gone_for_a_week(core, clock):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        _beat(s, "ancient", "h", clock.now - timedelta(days=8))
        _beat(s, "recent", "h", clock.now - timedelta(days=6))
    Worker(core, worker_id="me").heartbeat()
    with core.sessions() as s:
        ids = sorted(s.execute(select(WorkerHeartbeat.worker_id)).scalars())
    assert ids == ["me", "recent"]


def test_board_shows_each_workers_own_state(core, clock, client, login_as):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        _beat(s, "w-stopped", "server-b", clock.now - timedelta(minutes=10))
        _beat(s, "w-live", "server-a", clock.now - timedelta(seconds=5))
    login_as(Role.ADMIN, None)
    html = client.get("/").get_data(as_text=True)
    assert 'class="badge active" data-worker="w-live">server-a: berjalan' in html
    assert 'class="badge failed" data-worker="w-stopped">server-b: berhenti' in html


def test_a_sqlite_worker_refreshes_planner_statistics_daily(core, backend):  # type: ignore[no-untyped-def]
    w = Worker(core, worker_id="stats")
    w.start()
    try:
        job = w._scheduler.get_job("statistics")
    finally:
        w.stop()
    if backend == "sqlite":
        assert job is not None and job.trigger.interval == timedelta(hours=24)
    else:
        assert job is None  # PostgreSQL's autovacuum keeps them
