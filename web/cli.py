"""The ``warta`` command: the core's commands plus ``web`` (gunicorn, several processes) and
``serve`` (web + worker in one process, werkzeug's threaded server)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from publisher.cli import checked_settings, cli, friendly, make_core

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer


class PortBusy(ValueError):
    """The address cannot be bound (in use, or not this machine's)."""


def port_busy(host: str, port: int, reason: str) -> PortBusy:
    return PortBusy(f"tidak dapat membuka {host}:{port} ({reason}); port itu mungkin sedang "
                    "dipakai: pilih yang lain dengan --port / cannot listen there; choose "
                    "another port with --port")


def stop_on_sigterm() -> None:
    """SIGTERM (``systemctl stop``, ``docker stop``) ends the server as Ctrl+C does, through
    the ``finally`` that closes the socket and stops ``serve``'s worker; Python's default
    would end the process without either."""
    import signal

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def bind(host: str, port: int, app: Flask) -> BaseWSGIServer:
    """Open the listening socket, or say in one sentence why not (``friendly`` prints it)."""
    import contextlib
    import io

    from werkzeug.serving import make_server

    said = io.StringIO()
    try:
        # Werkzeug prints its own two lines and exits when it cannot bind; say one instead.
        with contextlib.redirect_stderr(said):
            return make_server(host, port, app, threaded=True)
    except (OSError, SystemExit):
        reason = said.getvalue().strip().splitlines()[0] if said.getvalue().strip() else ""
        raise port_busy(host, port, reason) from None


def listen(host: str, port: int) -> socket.socket:
    """The listening socket for gunicorn, opened here: gunicorn itself would retry a busy
    port five times, log ten lines and exit, where ``bind`` says one sentence."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        # create_server appends the address to strerror; the sentence names it already
        reason = (exc.strerror or str(exc)).split(" (while attempting", 1)[0]
        raise port_busy(host, port, reason) from None


def gunicorn_missing() -> str | None:
    """Why gunicorn cannot serve here (not installed; Windows, where it does not import), or
    ``None`` when it can."""
    try:
        import gunicorn.app.base  # noqa: F401
    except ImportError as exc:
        return str(exc) or type(exc).__name__
    return None


def serve_until_stopped(server: BaseWSGIServer, on_stop: Callable[[], None] | None = None) -> None:
    """werkzeug's server until Ctrl+C (or SIGTERM, after ``stop_on_sigterm``); then the
    socket closes, and ``on_stop`` runs."""
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if on_stop is not None:
            on_stop()


@cli.command(help="Jalankan aplikasi web saja, dengan gunicorn (beberapa proses × utas) / run "
                   "the web app only, served by gunicorn (processes × threads).")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--workers", default=2, type=click.IntRange(min=1), show_default=True,
              help="proses gunicorn / gunicorn processes")
@click.option("--threads", default=4, type=click.IntRange(min=1), show_default=True,
              help="utas per proses / threads per process")
@friendly
def web(host: str, port: int, workers: int, threads: int) -> None:
    from publisher.core import build_core
    from web.app import create_app

    # Settings, logging, the database check and the keys once, in this process; the engine
    # only in each server process, after gunicorn forks it (web/gunicorn_server.py).
    settings = checked_settings()
    missing = gunicorn_missing()
    if missing is not None:
        click.echo(f"gunicorn tidak tersedia ({missing}): server werkzeug satu proses dipakai "
                   "/ gunicorn is not available: serving with werkzeug in one process", err=True)
        server = bind(host, port, create_app(core=build_core(settings)))
        click.echo(f"Warta (web) berjalan di / running at http://{host}:{port}/  "
                   "(Ctrl+C untuk berhenti / to stop)")
        stop_on_sigterm()
        serve_until_stopped(server)
        return
    from web import gunicorn_server

    sock = listen(host, port)
    click.echo(f"Warta (web) berjalan di / running at http://{host}:{port}/  ({workers} proses "
               f"× {threads} utas / processes × threads; Ctrl+C untuk berhenti / to stop)")
    gunicorn_server.run(sock, settings, workers=workers, threads=threads)


@cli.command(help="Jalankan web dan penerbit dalam satu proses (instalasi kecil, demo) / run the "
                   "web app and the worker in one process.")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--demo", is_flag=True, help="siapkan database dan data demo / create the database "
              "and seed demo data")
@friendly
def serve(host: str, port: int, demo: bool) -> None:
    from publisher.migrate import upgrade
    from publisher.worker import Worker
    from web.app import create_app

    core = make_core(create=demo)
    if demo:
        from publisher.demo import seed_demo

        upgrade(core.engine)
        for line in seed_demo(core):
            click.echo(line)
    # Bind before the worker starts: a busy port used to leave a worker that had already
    # written its heartbeat, shown as "berjalan" on the dashboard, with no server at all.
    server = bind(host, port, create_app(core=core))
    worker = Worker(core)
    stop_on_sigterm()
    worker.start()
    click.echo(f"Warta berjalan di / running at http://{host}:{port}/  (Ctrl+C untuk berhenti)")
    serve_until_stopped(server, on_stop=lambda: worker.stop(wait=False))


def main() -> None:
    cli(prog_name="warta")


if __name__ == "__main__":
    main()
