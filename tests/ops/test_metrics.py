"""``/metrics``: who may read it, and that its numbers follow real queue activity (posts
approved, due, published or refused by the sandbox platform, metrics falling due, workers
beating), read back through prometheus_client's parser; and a worker's own metrics port."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import Publication, Role
from publisher.observability.exposition import serve_worker_metrics
from publisher.worker import run_once
from publisher.worker.runner import Worker
from tests.helpers import approved_post, sandbox_channel, set_control
from tests.ops.promtext import value
from web.app import create_app

TOKEN = "metrics-token-" + "x" * 20


@pytest.fixture
def make_client(test_env, clock):  # type: ignore[no-untyped-def]
    built = []

    def make(**env: str):  # type: ignore[no-untyped-def]
        core = build_core(load_settings({**test_env, **env}), clock=clock)
        built.append(core)
        app = create_app(core=core)
        app.config.update(TESTING=True)
        return core, app.test_client()
    yield make
    for core in built:
        core.engine.dispose()


def _scrape(client) -> str:  # type: ignore[no-untyped-def]
    res = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert res.status_code == 200, res.get_data(as_text=True)
    assert res.headers["Content-Type"].startswith("text/plain")
    return res.get_data(as_text=True)


def test_metrics_do_not_exist_until_configured(make_client):  # type: ignore[no-untyped-def]
    _core, client = make_client()
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


def test_metrics_token(make_client):  # type: ignore[no-untyped-def]
    _core, client = make_client(WARTA_METRICS_TOKEN=TOKEN)
    res = client.get("/metrics")
    assert res.status_code == 401 and res.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert "warta_database_up 1.0" in _scrape(client)


def test_metrics_allow_list(make_client):  # type: ignore[no-untyped-def]
    _core, client = make_client(WARTA_METRICS_ALLOW="10.0.0.0/8, 192.168.1.7")
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is not on the list
    for addr in ("10.1.2.3", "192.168.1.7"):
        res = client.get("/metrics", environ_base={"REMOTE_ADDR": addr})
        assert res.status_code == 200, addr
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.8"}).status_code == 404
    # with a token as well: an address off the list must show it
    _core, both = make_client(WARTA_METRICS_ALLOW="10.0.0.0/8", WARTA_METRICS_TOKEN=TOKEN)
    assert both.get("/metrics").status_code == 401
    assert both.get("/metrics", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    assert _scrape(both)


def test_bad_allow_list_is_refused_at_start(test_env):  # type: ignore[no-untyped-def]
    from publisher.config import SettingsError

    with pytest.raises(SettingsError, match="WARTA_METRICS_ALLOW"):
        load_settings({**test_env, "WARTA_METRICS_ALLOW": "10.0.0.0/8, kantor"})


def test_gauges_and_counters_follow_the_queue(make_client, make_user, clock):  # type: ignore[no-untyped-def]
    core, client = make_client(WARTA_METRICS_TOKEN=TOKEN)
    operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    chans = [sandbox_channel(core, operator, a) for a in ("dinsos-fb", "dinsos-ig", "dinsos-x")]
    set_control(core, "dinsos-x", mode="reject", message="Ditolak.")
    when = clock.now + timedelta(hours=2)
    approved_post(core, operator, approver, chans, when=when)

    before = _scrape(client)
    assert value(before, "warta_queue_jobs", kind="publish", state="queued") == 3
    assert value(before, "warta_queue_jobs", kind="publish", state="running") == 0
    assert value(before, "warta_queue_due_jobs", kind="publish") == 0
    assert value(before, "warta_queue_oldest_due_age_seconds", kind="publish") == 0
    assert value(before, "warta_publications_open", platform="sandbox", status="queued") == 3
    assert value(before, "warta_workers_alive") == 0
    calls = dict(platform="sandbox", call="publish")
    published_before = value(before, "warta_adapter_calls_total", 0.0, **calls,
                             result="published")
    rejected_before = value(before, "warta_adapter_errors_total", 0.0, **calls, kind="rejected")
    timed_before = value(before, "warta_adapter_call_duration_seconds_count", 0.0, **calls)

    clock.advance(hours=2, seconds=90)  # due for a minute and a half, nobody claimed it
    due = _scrape(client)
    assert value(due, "warta_queue_due_jobs", kind="publish") == 3
    assert value(due, "warta_queue_oldest_due_age_seconds", kind="publish") == 90

    assert run_once(core) == 3
    done = _scrape(client)
    assert value(done, "warta_queue_jobs", kind="publish", state="queued") == 0
    assert value(done, "warta_queue_due_jobs", kind="publish") == 0
    assert value(done, "warta_publications_recent", platform="sandbox", status="published") == 2
    assert value(done, "warta_publications_recent", platform="sandbox", status="failed") == 1
    assert value(done, "warta_publications_open", 0.0, platform="sandbox", status="queued") == 0
    # published 90 s after their time: over the 60 s bucket, within 300 s
    late = dict(platform="sandbox")
    assert value(done, "warta_publish_lateness_seconds_bucket", **late, le="60.0") == 0
    assert value(done, "warta_publish_lateness_seconds_bucket", **late, le="300.0") == 2
    assert value(done, "warta_publish_lateness_seconds_gcount", **late) == 2
    assert value(done, "warta_publish_lateness_seconds_gsum", **late) == pytest.approx(180)
    # this process made the calls: its counters moved by exactly what happened
    assert value(done, "warta_adapter_calls_total", **calls, result="published") \
        == published_before + 2
    assert value(done, "warta_adapter_errors_total", **calls, kind="rejected") \
        == rejected_before + 1
    assert value(done, "warta_adapter_call_duration_seconds_count", **calls) == timed_before + 3

    # the engagement collections fall due; nobody collects them for two hours
    with core.sessions() as s:
        first_due = s.execute(select(func.min(Publication.next_metrics_at))).scalar_one()
    clock.now = first_due + timedelta(hours=2)
    lagging = _scrape(client)
    assert value(lagging, "warta_metrics_collection_overdue", platform="sandbox") == 2
    assert value(lagging, "warta_metrics_collection_lag_seconds", platform="sandbox") == 7200
    run_once(core)
    collected = _scrape(client)
    assert value(collected, "warta_metrics_collection_overdue", 0.0, platform="sandbox") == 0
    assert value(collected, "warta_adapter_calls_total", 0.0, platform="sandbox",
                 call="fetch_metrics", result="ok") >= 1


def test_worker_heartbeats(make_client, clock):  # type: ignore[no-untyped-def]
    core, client = make_client(WARTA_METRICS_TOKEN=TOKEN)
    Worker(core, worker_id="w-satu").heartbeat()
    text = _scrape(client)
    host = socket.gethostname()
    assert value(text, "warta_worker_heartbeat_age_seconds", worker="w-satu", host=host) == 0
    assert value(text, "warta_workers_alive") == 1
    clock.advance(seconds=10)
    text = _scrape(client)
    assert value(text, "warta_worker_heartbeat_age_seconds", worker="w-satu", host=host) == 10
    assert value(text, "warta_workers_alive") == 0
    clock.advance(hours=2)
    assert "w-satu" not in _scrape(client)  # an hour gone: history, not a gauge


def test_a_database_that_does_not_answer_still_gives_a_scrape(make_client, tmp_path):  # type: ignore[no-untyped-def]
    _core, client = make_client(WARTA_METRICS_TOKEN=TOKEN,
                                WARTA_DATABASE_URL=f"sqlite:///{tmp_path}")
    text = _scrape(client)
    assert value(text, "warta_database_up") == 0
    assert "warta_queue_jobs" not in text


def test_openmetrics_when_asked(make_client):  # type: ignore[no-untyped-def]
    _core, client = make_client(WARTA_METRICS_TOKEN=TOKEN)
    res = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                          "Accept": "application/openmetrics-text"})
    assert res.headers["Content-Type"].startswith("application/openmetrics-text")
    assert res.get_data(as_text=True).rstrip().endswith("# EOF")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_worker_serves_its_own_counters_on_a_port(core, make_user, clock, test_env):  # type: ignore[no-untyped-def]
    port = _free_port()
    settings = load_settings({**test_env, "WARTA_WORKER_METRICS_PORT": str(port)})
    server = serve_worker_metrics(settings)
    try:
        operator, approver = make_user(Role.OPERATOR), make_user(Role.APPROVER)
        approved_post(core, operator, approver, [sandbox_channel(core, operator, "w-fb")])
        url = f"http://127.0.0.1:{port}/metrics"
        calls = dict(platform="sandbox", call="publish", result="published")
        before = value(requests.get(url, timeout=5).text, "warta_adapter_calls_total", 0.0,
                       **calls)
        Worker(core, worker_id="w-port").heartbeat()
        assert run_once(core) == 1
        text = requests.get(url, timeout=5).text
        assert value(text, "warta_adapter_calls_total", **calls) == before + 1
        assert value(text, "warta_worker_heartbeat_timestamp_seconds") > 0
        assert "warta_queue_jobs" not in text  # the database's gauges are the web app's
    finally:
        server.shutdown()
        server.server_close()


def test_no_worker_port_unless_set(test_env):  # type: ignore[no-untyped-def]
    assert serve_worker_metrics(load_settings(test_env)) is None
    with pytest.raises(Exception, match="WARTA_WORKER_METRICS_PORT"):
        load_settings({**test_env, "WARTA_WORKER_METRICS_PORT": "70000"})
