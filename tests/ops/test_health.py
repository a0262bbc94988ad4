"""``/healthz`` and ``/readyz``: green on a working installation, red (503, the failing check
named) when the database is away, the schema is behind, no worker beat or media cannot be
written; no login needed, and nothing secret in the body."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import WorkerHeartbeat
from publisher.worker.runner import Worker
from web.app import create_app


def _client(core):  # type: ignore[no-untyped-def]
    app = create_app(core=core)
    app.config.update(TESTING=True)
    return app.test_client()


def _beat(core, ago: timedelta) -> None:  # type: ignore[no-untyped-def]
    at = core.now() - ago
    with core.sessions.begin() as s:
        s.add(WorkerHeartbeat(worker_id="w1", host="h", pid=1, started_at=at, last_tick_at=at,
                              info=""))


def test_healthz_answers_without_database_or_login(test_env, clock, tmp_path: Path):  # type: ignore[no-untyped-def]
    dead = build_core(load_settings({**test_env, "WARTA_DATABASE_URL":
                                     f"sqlite:///{tmp_path}"}), clock=clock)
    res = _client(dead).get("/healthz")
    assert res.status_code == 200 and res.get_json() == {"status": "ok"}


def test_ready_when_everything_works(core, client):  # type: ignore[no-untyped-def]
    Worker(core, worker_id="me").heartbeat()
    res = client.get("/readyz")
    body = res.get_json()
    assert res.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "media", "worker"}
    assert all(c["ok"] for c in body["checks"].values())
    assert body["checks"]["migrations"]["current"] == body["checks"]["migrations"]["head"]


def test_not_ready_when_the_database_is_unreachable(backend, test_env, clock, tmp_path):  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}"  # a folder: "unable to open database file"
    else:
        url = "postgresql+psycopg://warta:Sekret-db-pass@127.0.0.1:1/warta"  # nothing listens
    dead = build_core(load_settings({**test_env, "WARTA_DATABASE_URL": url}), clock=clock)
    res = _client(dead).get("/readyz")
    body = res.get_json()
    assert res.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"] == {"ok": False, "error": "database unreachable"}
    assert not body["checks"]["migrations"]["ok"] and not body["checks"]["worker"]["ok"]
    assert body["checks"]["media"]["ok"]  # the others are still told apart
    raw = res.get_data(as_text=True)
    assert "Sekret-db-pass" not in raw and "127.0.0.1" not in raw and str(tmp_path) not in raw


def test_not_ready_when_migrations_are_behind(core, client):  # type: ignore[no-untyped-def]
    Worker(core, worker_id="me").heartbeat()
    with core.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0006_trust_totp'"))
    res = client.get("/readyz")
    body = res.get_json()
    assert res.status_code == 503
    assert body["checks"]["migrations"]["ok"] is False
    assert body["checks"]["migrations"]["current"] == "0006_trust_totp"
    assert body["checks"]["database"]["ok"] is True


def test_not_ready_when_no_worker_ever_ran(client):  # type: ignore[no-untyped-def]
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.get_json()["checks"]["worker"] == {
        "ok": False, "error": "no worker has ever run", "within_seconds": 60.0}


def test_worker_check_follows_the_threshold(core, client):  # type: ignore[no-untyped-def]
    _beat(core, timedelta(seconds=59))
    assert client.get("/readyz").status_code == 200
    core.clock.advance(seconds=2)  # type: ignore[attr-defined]
    res = client.get("/readyz")
    assert res.status_code == 503
    assert res.get_json()["checks"]["worker"]["last_beat_seconds_ago"] == 61.0


def test_worker_check_can_be_switched_off(test_env, clock):  # type: ignore[no-untyped-def]
    core = build_core(load_settings({**test_env, "WARTA_READY_WORKER_WITHIN": "0"}), clock=clock)
    res = _client(core).get("/readyz")
    assert res.status_code == 200
    assert "worker" not in res.get_json()["checks"]


def test_not_ready_when_media_cannot_be_written(core, test_env, clock, tmp_path):  # type: ignore[no-untyped-def]
    Worker(core, worker_id="me").heartbeat()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    broken = build_core(load_settings({**test_env, "WARTA_MEDIA_DIR": str(blocker / "media")}),
                        clock=clock)
    res = _client(broken).get("/readyz")
    body = res.get_json()
    assert res.status_code == 503
    assert body["checks"]["media"] == {"ok": False, "error": "media storage not writable"}
    assert body["checks"]["database"]["ok"] and body["checks"]["worker"]["ok"]
    assert str(blocker) not in res.get_data(as_text=True)


def test_ready_needs_no_login_even_where_pages_do(core, client):  # type: ignore[no-untyped-def]
    assert client.get("/").status_code in (302, 401)  # the UI asks for a login
    Worker(core, worker_id="me").heartbeat()
    assert client.get("/readyz").status_code == 200


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probe_answers_are_not_cached(client, path):  # type: ignore[no-untyped-def]
    assert "no-store" in client.get(path).headers["Cache-Control"]
