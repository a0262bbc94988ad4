"""The ``warta`` command: the core's commands plus ``web`` and ``serve`` (web + worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from publisher.cli import cli, friendly, make_core

if TYPE_CHECKING:
    from flask import Flask
    from werkzeug.serving import BaseWSGIServer


class PortBusy(ValueError):
    """The address cannot be bound (in use, or not this machine's)."""


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
        raise PortBusy(f"tidak dapat membuka {host}:{port} ({reason}); port itu mungkin sedang "
                       "dipakai: pilih yang lain dengan --port / cannot listen there; choose "
                       "another port with --port") from None


@cli.command(help="Jalankan aplikasi web saja / run the web app only (in production behind a "
                   "WSGI server such as gunicorn).")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@friendly
def web(host: str, port: int) -> None:
    from web.app import create_app

    server = bind(host, port, create_app(core=make_core()))
    stop_on_sigterm()
    click.echo(f"Warta (web) berjalan di / running at http://{host}:{port}/  "
               "(Ctrl+C untuk berhenti / to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


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
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        worker.stop(wait=False)


def main() -> None:
    cli(prog_name="warta")


if __name__ == "__main__":
    main()
