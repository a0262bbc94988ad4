"""The ``warta`` command's core commands (click). Web commands are added by ``web.cli``.

Every error prints one sentence and exits non-zero; no traceback reaches the operator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click

from publisher.config import SettingsError, load_settings
from publisher.core import Core, build_core
from publisher.logs import configure_logging
from publisher.services.errors import ServiceError


def make_core() -> Core:
    settings = load_settings()
    configure_logging(settings.log_level)
    return build_core(settings)


def friendly(fn: Callable) -> Callable:
    """Turn expected errors into a sentence and exit code 1 (2 for bad settings)."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            click.echo(f"Pengaturan salah / bad setting: {exc}", err=True)
            sys.exit(2)
        except ServiceError as exc:
            detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            click.echo(f"Gagal / failed: {exc.message} ({exc.message_en})"
                       + (f" [{detail}]" if detail else ""), err=True)
            sys.exit(1)
        except ValueError as exc:
            click.echo(f"Gagal / failed: {exc}", err=True)
            sys.exit(1)
    return wrapper


@click.group(help="Warta: penjadwal unggahan media sosial / social media publishing scheduler.")
def cli() -> None:
    pass


@cli.command(help="Create or upgrade the database (safe to run again).")
@friendly
def init() -> None:
    from publisher.migrate import upgrade

    core = make_core()
    upgrade(core.engine)
    click.echo(f"Database siap / ready: {core.engine.url.render_as_string(hide_password=True)}")


@cli.group(help="Units (OPD).")
def unit() -> None:
    pass


@unit.command("create")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--timezone", default=None, help="e.g. Asia/Jakarta (WIB), Asia/Makassar (WITA)")
@friendly
def unit_create(name: str, slug: str, timezone: str | None) -> None:
    from publisher.services import org

    core = make_core()
    with core.sessions.begin() as s:
        u = org.create_unit(s, name=name, slug=slug, timezone=timezone or core.settings.timezone)
        click.echo(f"Unit #{u.id} '{u.name}' ({u.slug}) dibuat / created.")


@cli.group(help="Users.")
def user() -> None:
    pass


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["operator", "approver", "admin"]))
@click.option("--unit", "unit_slug", default=None, help="unit slug (required except for admins)")
@click.option("--password", default=None, help="prompted when omitted")
@friendly
def user_create(email: str, name: str, role: str, unit_slug: str | None,
                password: str | None) -> None:
    from publisher.services import org

    core = make_core()
    if password is None:
        password = click.prompt("Kata sandi / password", hide_input=True,
                                confirmation_prompt=True)
    with core.sessions.begin() as s:
        u = org.unit_by_slug(s, unit_slug) if unit_slug else None
        created = org.create_user(s, email=email, name=name, role=role, unit=u,
                                  password=password)
        click.echo(f"Pengguna #{created.id} {created.email} ({role}) dibuat / created.")


@cli.group(help="API tokens.")
def token() -> None:
    pass


@token.command("create")
@click.argument("email")
@click.option("--name", default="cli")
@friendly
def token_create(email: str, name: str) -> None:
    from sqlalchemy import select

    from publisher.models import User
    from publisher.services import org
    from publisher.services.errors import NotFound

    core = make_core()
    with core.sessions.begin() as s:
        u = s.execute(select(User).where(User.email == email.lower())).scalar_one_or_none()
        if u is None:
            raise NotFound(f"Pengguna {email} tidak ditemukan.", f"No user {email}.")
        tok = org.create_token(s, u, name)
    click.echo("Token (disalin sekarang; tidak akan ditampilkan lagi / copy it now, it will not "
               "be shown again):")
    click.echo(tok)


@cli.command(help="Run the background publisher.")
@click.option("--once", is_flag=True, help="run the due jobs once and exit")
@friendly
def worker(once: bool) -> None:
    from publisher.worker import Worker, run_once

    core = make_core()
    if once:
        n = run_once(core)
        click.echo(f"{n} tugas dijalankan / jobs run.")
        return
    Worker(core).run_forever()
