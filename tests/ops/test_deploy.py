"""The production layout in docs/ops/ is what it claims: gunicorn's config is valid gunicorn and
serves the app (started here for real), the systemd units name commands that exist and
restart on failure, the compose file and the Grafana dashboard ask only for what Warta has."""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml

from publisher.config import VARIABLES

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "docs" / "ops"
#: Where docs/ops/README.md installs the checkout (and its .venv) on a server.
INSTALLED = "/opt/warta"


def _warta_commands() -> set[str]:
    from web.cli import cli

    return set(cli.commands)


# -- gunicorn ---------------------------------------------------------------------------------
def test_gunicorn_config_holds_only_valid_gunicorn_settings(monkeypatch):  # type: ignore[no-untyped-def]
    import runpy

    from gunicorn.config import Config

    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    values = {k: v for k, v in runpy.run_path(str(OPS / "gunicorn.conf.py")).items()
              if not k.startswith("_") and not isinstance(v, type(sys))}
    cfg = Config()
    unknown = sorted(set(values) - set(cfg.settings))
    assert not unknown, f"not gunicorn settings (typos?): {unknown}"
    for key, value in values.items():
        cfg.set(key, value)  # gunicorn's own validation
    assert cfg.worker_class_str == "gthread" and cfg.bind == ["127.0.0.1:8000"]
    assert cfg.preload_app is False  # each process opens its own database pool


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"gunicorn exited: {proc.stderr.read() if proc.stderr else ''}")
        try:  # the master listens at once; its worker answers once the app is imported
            return requests.get(url, timeout=5)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@pytest.mark.slow
def test_gunicorn_serves_the_app_with_the_documented_config(core, test_env, tmp_path):  # type: ignore[no-untyped-def]
    """The unit's and the compose file's command, run: the probes answer through gunicorn."""
    from publisher.worker.runner import Worker

    port = _free_port()
    env = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "PYTHONPATH": str(ROOT), **test_env, "WARTA_BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": "1", "WARTA_WEB_THREADS": "2", "WARTA_LOG_FORMAT": "json",
           # gunicorn reads the wall clock, the heartbeat below the test's: any beat counts
           "WARTA_READY_WORKER_WITHIN": "3650d"}
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--config",
                             str(OPS / "gunicorn.conf.py"), "web.app:create_app()"],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(f"{base}/healthz", proc).json() == {"status": "ok"}
        res = requests.get(f"{base}/readyz", timeout=10)
        assert res.status_code == 503
        assert res.json()["checks"]["worker"]["error"] == "no worker has ever run"
        Worker(core, worker_id="w-gunicorn").heartbeat()
        res = requests.get(f"{base}/readyz", timeout=10)
        assert res.status_code == 200, res.text
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    # gunicorn's own lines became JSON lines too (WARTA_LOG_FORMAT=json)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any(x["logger"] == "gunicorn.error" for x in lines), err


# -- systemd ----------------------------------------------------------------------------------
UNITS = sorted((OPS / "systemd").glob("*.service"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(path)
    return parser


def test_there_are_units_for_web_workers_and_backups():
    assert {p.name for p in UNITS} == {"warta-web.service", "warta-worker@.service",
                                       "warta-backup.service"}
    assert (OPS / "systemd" / "warta-backup.timer").is_file()


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_runs_an_existing_command(path: Path):
    service = _unit(path)["Service"]
    argv = shlex.split(service["ExecStart"])
    if argv[0] == "/bin/sh":  # the backup's dated folder
        argv = shlex.split(argv[2].removeprefix("exec "))
    program = argv[0]
    assert program.startswith(f"{INSTALLED}/.venv/bin/"), program
    name = Path(program).name
    if name == "warta":
        assert argv[1] in _warta_commands(), f"`warta {argv[1]}` does not exist"
    else:
        assert name == "gunicorn"
        config = argv[argv.index("--config") + 1]
        assert (ROOT / config.removeprefix(f"{INSTALLED}/")).is_file(), config
        module, factory = argv[-1].split(":")
        import importlib

        assert callable(getattr(importlib.import_module(module), factory.rstrip("()")))
    assert service["EnvironmentFile"] == "/etc/warta/warta.env"
    if service.get("Type") != "oneshot":
        assert service["Restart"] == "on-failure"


def test_worker_unit_stops_the_worker_cleanly():
    service = _unit(OPS / "systemd" / "warta-worker@.service")["Service"]
    # run_forever stops cleanly on Ctrl+C (KeyboardInterrupt); SIGTERM would kill it mid-call
    assert service["KillSignal"] == "SIGINT"
    assert "910%i" in service["Environment"]  # one metrics port per instance


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_itself_accepts_the_unit(path: Path, tmp_path: Path):
    """systemd-analyze verify, with the install paths pointed at this checkout: unknown keys
    and commands that are not executable are reported. Missing locally: skipped; in CI (where
    the machine has systemd) a missing tool fails."""
    if not shutil.which("systemd-analyze"):
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing in CI")
        pytest.skip("systemd-analyze not installed")
    text = path.read_text().replace(f"{INSTALLED}/.venv/bin", str(Path(sys.executable).parent))
    text = text.replace(f"{INSTALLED}/docs", str(ROOT / "docs"))
    name = path.name.replace("@.", "@1.")
    (tmp_path / name).write_text(text)
    if path.name == "warta-backup.service":
        shutil.copy(OPS / "systemd" / "warta-backup.timer", tmp_path)
    done = subprocess.run(["systemd-analyze", "verify", "--man=no", str(tmp_path / name)],
                          capture_output=True, text=True, timeout=60)
    problems = [line for line in done.stderr.splitlines()
                if "Unknown" in line or "not executable" in line or "Invalid" in line]
    assert done.returncode == 0 and not problems, done.stderr


# -- compose, image, proxy --------------------------------------------------------------------
def _compose() -> dict:
    return yaml.safe_load((OPS / "compose.yaml").read_text())


def _known(name: str) -> bool:
    return name in VARIABLES or name in ("WARTA_BIND", "WARTA_WEB_THREADS", "WARTA_WEB_TIMEOUT",
                                         "WARTA_FORWARDED_ALLOW_IPS")


def test_compose_has_database_storage_web_and_two_workers():
    services = _compose()["services"]
    assert {"postgres", "seaweedfs", "init", "web", "worker-1", "worker-2"} <= set(services)
    assert services["init"]["command"] == ["warta", "init"]
    assert services["init"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("worker-1", "worker-2"):
        worker = services[name]
        assert worker["command"] == ["warta", "worker"]
        assert worker["stop_signal"] == "SIGINT"
        assert worker["depends_on"]["init"]["condition"] == "service_completed_successfully"
    for name in ("init", "web", "worker-1", "worker-2"):
        env = services[name]["environment"]
        assert env["WARTA_DATABASE_URL"].startswith("postgresql+psycopg://warta:")
        assert "@postgres:5432/warta" in env["WARTA_DATABASE_URL"]
        unknown = [k for k in env if k.startswith("WARTA_") and not _known(k)]
        assert not unknown, f"{name}: settings Warta does not read: {unknown}"
        assert services[name]["command"][0] in ("warta", "gunicorn")
        if services[name]["command"][0] == "warta":
            assert services[name]["command"][1] in _warta_commands()
    web = services["web"]
    assert web["command"][1:3] == ["--config", f"{INSTALLED}/docs/ops/gunicorn.conf.py"]
    assert "/healthz" in " ".join(web["healthcheck"]["test"])
    assert "-s3" in services["seaweedfs"]["command"]


def test_compose_builds_the_image_from_this_repository():
    build = _compose()["services"]["web"]["build"]
    context = (OPS / build["context"]).resolve()
    assert context == ROOT
    dockerfile = (context / build["dockerfile"]).read_text()
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
    assert 'pip install ".[deploy,s3]"' in dockerfile
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(d.startswith("gunicorn") for d in extras["deploy"])
    assert any(d.startswith("boto3") for d in extras["s3"])
    assert "WORKDIR /opt/warta" in dockerfile and "COPY docs/ops docs/ops" in dockerfile


def test_the_env_example_names_only_real_settings():
    names = re.findall(r"^#? ?(WARTA_[A-Z_]+)=", (OPS / "warta.env.example").read_text(), re.M)
    assert names and all(_known(n) for n in names), names


def test_reverse_proxy_speaks_https_to_the_documented_port():
    conf = (OPS / "nginx" / "warta.conf").read_text()
    assert "listen 443 ssl http2;" in conf and "return 301 https://" in conf
    assert re.search(r"ssl_certificate\s+\S+fullchain\.pem;", conf)
    assert "server 127.0.0.1:8000;" in conf  # gunicorn.conf.py's bind
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    body = int(re.search(r"client_max_body_size (\d+)m;", conf).group(1))  # type: ignore[union-attr]
    assert body >= int(VARIABLES["WARTA_MAX_UPLOAD_MB"][0])


# -- Grafana ----------------------------------------------------------------------------------
def test_dashboard_asks_only_for_metrics_warta_exposes(core):  # type: ignore[no-untyped-def]
    from publisher.observability.exposition import scrape

    text = scrape(core, None)[0].decode()
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    dashboard = json.loads((OPS / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {m for e in exprs for m in re.findall(r"\bwarta_[a-z_]+", e)}
    suffixes = ("_bucket", "_count", "_sum", "_total")
    missing = [m for m in used if m not in families
               and not any(m.endswith(s) and m[:-len(s)] in families for s in suffixes)
               and not (m.endswith("_total") and m in families)]
    assert len(used) >= 10 and not missing, missing
