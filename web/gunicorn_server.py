"""``warta web``'s server: gunicorn, embedded, with processes × threads.

Imported only where gunicorn imports (``web.cli.gunicorn_missing`` asks first): it is not
installed on Windows, where ``warta web`` falls back to werkzeug's server.

The settings are docs/ops/gunicorn.conf.py's, so ``warta web`` and a gunicorn started with that
file behave alike; the port is opened by ``web.cli.listen`` (one sentence when it is busy) and
handed over as ``fd://N``. Never load the app in the master: each worker process builds its own
core after the fork (``WartaServer.load``), because a SQLAlchemy engine and its pooled
connections must not be shared across a fork.
"""

from __future__ import annotations

import socket
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from publisher.config import Settings
from publisher.logs import redact_existing_handlers

#: docs/ops/gunicorn.conf.py's values (tests/web/test_cli_web_server.py holds them equal),
#: without its environment overrides: ``warta web`` takes ``--workers`` and ``--threads``.
CONFIG: dict[str, Any] = {
    "worker_class": "gthread",
    # An upload of WARTA_MAX_UPLOAD_MB over a slow office line takes minutes.
    "timeout": 300,
    "graceful_timeout": 30,
    "keepalive": 5,
    "preload_app": False,
    # Recycle processes now and then (a leak cannot grow for months).
    "max_requests": 2000,
    "max_requests_jitter": 200,
    "accesslog": "-",
    "errorlog": "-",
    "proc_name": "warta-web",
}


class RedactedLogger(Logger):
    """gunicorn's logger, its handlers passed through Warta's redaction (JSON lines with
    ``WARTA_LOG_FORMAT=json``) from the master's first line on: ``create_app`` redacts them
    too, but only in the workers and only once the app is loaded."""

    json_lines = False

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        redact_existing_handlers(self.error_log, self.access_log, json_lines=self.json_lines)


class WartaServer(BaseApplication):
    """gunicorn's application: the options above, and an app built in each worker."""

    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        """Runs in a worker process, after the fork: its own engine, pool and app."""
        from publisher.core import build_core
        from web.app import create_app

        return create_app(core=build_core(self.settings))


def run(sock: socket.socket, settings: Settings, *, workers: int, threads: int) -> None:
    """Serve on ``sock`` until SIGINT or SIGTERM; gunicorn's master then stops the workers
    (SIGTERM: after their requests, within 30 s) and exits with status 0 (``SystemExit``).

    gunicorn takes the socket over (it closes the descriptor when it stops), so ``sock`` is
    detached here. The worker processes return through this call too, forked from inside it
    and ending with ``SystemExit``: no caller may clean anything up on the way out.
    """
    logger = type("WartaLogger", (RedactedLogger,), {"json_lines": settings.log_format == "json"})
    options = {**CONFIG, "bind": [f"fd://{sock.detach()}"], "workers": workers,
               "threads": threads, "loglevel": settings.log_level.lower(),
               "logger_class": logger}
    WartaServer(settings, options).run()
