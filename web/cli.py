"""The ``warta`` command: the core's commands plus ``web`` and ``serve`` (web + worker)."""

from __future__ import annotations

import click

from publisher.cli import cli, friendly, make_core


@cli.command(help="Run the web app only (use a real WSGI server such as gunicorn in production).")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@friendly
def web(host: str, port: int) -> None:
    from werkzeug.serving import run_simple

    from web.app import create_app

    app = create_app(core=make_core())
    run_simple(host, port, app, threaded=True)


@cli.command(help="Run the web app and the worker in one process (small installs, the demo).")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=8000, type=int)
@click.option("--demo", is_flag=True, help="create the database and seed demo data")
@friendly
def serve(host: str, port: int, demo: bool) -> None:
    from werkzeug.serving import make_server

    from publisher.migrate import upgrade
    from publisher.worker import Worker
    from web.app import create_app

    core = make_core()
    if demo:
        from publisher.demo import seed_demo

        upgrade(core.engine)
        for line in seed_demo(core):
            click.echo(line)
    worker = Worker(core)
    worker.start()
    app = create_app(core=core)
    server = make_server(host, port, app, threaded=True)
    click.echo(f"Warta berjalan di / running at http://{host}:{port}/  (Ctrl+C untuk berhenti)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        worker.stop(wait=False)


def main() -> None:
    cli(prog_name="warta")


if __name__ == "__main__":
    main()
