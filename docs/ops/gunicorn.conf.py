"""gunicorn settings for Warta's web app (docs/ops/README.md).

    gunicorn --config docs/ops/gunicorn.conf.py 'web.app:create_app()'

Everything here may be overridden by the environment named beside it, so the systemd unit,
the compose file and a hand-run server share this one file.
"""

import multiprocessing
import os

#: Behind the reverse proxy on the same machine; in a container, 0.0.0.0:8000.
bind = os.environ.get("WARTA_BIND", "127.0.0.1:8000")
#: Threads serve the many short requests; a few processes use the cores. Every process has
#: its own database pool (WARTA_DATABASE_URL), so processes × 20 connections must fit
#: PostgreSQL's max_connections.
workers = int(os.environ.get("WEB_CONCURRENCY", min(4, multiprocessing.cpu_count() + 1)))
worker_class = "gthread"
threads = int(os.environ.get("WARTA_WEB_THREADS", "8"))
#: An upload of WARTA_MAX_UPLOAD_MB over a slow office line takes minutes.
timeout = int(os.environ.get("WARTA_WEB_TIMEOUT", "300"))
graceful_timeout = 30
keepalive = 5
#: Never load the app in the master: each process opens its own database connections.
preload_app = False
#: Recycle processes now and then (a leak cannot grow for months).
max_requests = 2000
max_requests_jitter = 200
#: Only the local proxy's X-Forwarded-* are believed by gunicorn itself; Warta's
#: WARTA_TRUSTED_PROXIES=1 makes the app read them too.
forwarded_allow_ips = os.environ.get("WARTA_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
#: Logs to stdout/stderr (journald or the container's log); Warta redacts them, and writes
#: them as JSON lines with WARTA_LOG_FORMAT=json.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("WARTA_LOG_LEVEL", "info").lower()
proc_name = "warta-web"
