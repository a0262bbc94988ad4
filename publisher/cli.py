"""The ``warta`` command's core commands (click). Web commands are added by ``web.cli``.

Every error prints one sentence and exits non-zero; no traceback reaches the operator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any

import click
from sqlalchemy.exc import OperationalError

from publisher.config import Settings, SettingsError, load_settings
from publisher.core import Core, build_core
from publisher.keys import ensure_keys
from publisher.logs import configure_logging
from publisher.readiness import NotReady, check_backend, check_database
from publisher.services.errors import ServiceError


def checked_settings(*, create: bool = False) -> Settings:
    """The settings of one command, its logging configured and its database checked. Unless
    the command creates the database (``init``, the demo), the database must already be there
    and migrated: otherwise one sentence says so before any file or key is created. The keys
    are read or created here, once: ``warta web``'s server processes each build their own core
    from these settings, and must not race to create a key file."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    if create:
        check_backend(settings.database_url)
    else:
        check_database(settings.database_url)
    return ensure_keys(settings)


def make_core(*, create: bool = False) -> Core:
    """The core for one command (``checked_settings``, then the engine and the queue)."""
    return build_core(checked_settings(create=create))


def friendly(fn: Callable) -> Callable:
    """Turn expected errors into a sentence and exit code 1 (2 for bad settings)."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SettingsError as exc:
            click.echo(f"Pengaturan salah / bad setting: {exc}", err=True)
            sys.exit(2)
        except NotReady as exc:
            click.echo(f"{exc.message}\n{exc.message_en}", err=True)
            sys.exit(3)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            click.echo(f"Database tidak dapat dipakai / the database failed: {reason}", err=True)
            sys.exit(3)
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


@cli.command(help="Buat atau perbarui database (aman diulang) / create or upgrade the database.")
@friendly
def init() -> None:
    from publisher.migrate import upgrade

    core = make_core(create=True)
    upgrade(core.engine)
    click.echo(f"Database siap / ready: {core.engine.url.render_as_string(hide_password=True)}")


@cli.group(help="Unit (OPD) / units.")
def unit() -> None:
    pass


@unit.command("create", help="Buat unit / create a unit.")
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


@unit.command("list", help="Daftar unit / list the units.")
@friendly
def unit_list() -> None:
    from sqlalchemy import func, select

    from publisher.models import Unit, User

    core = make_core()
    with core.sessions() as s:
        users = dict(s.execute(select(User.unit_id, func.count()).group_by(User.unit_id)).all())
        rows = s.execute(select(Unit).order_by(Unit.slug)).scalars().all()
        if not rows:
            click.echo("Belum ada unit / no units yet: warta unit create --name … --slug …")
        for u in rows:
            click.echo(f"#{u.id}\t{u.slug}\t{u.name}\t{u.timezone}\t"
                       f"{users.get(u.id, 0)} pengguna / users")


@unit.command("public", help="Tampilkan unit di halaman transparansi publik atau tidak / "
                             "show a unit on the public transparency page, or not.")
@click.argument("slug")
@click.argument("state", type=click.Choice(["on", "off"]))
@friendly
def unit_public(slug: str, state: str) -> None:
    from publisher.services import org

    core = make_core()
    with core.sessions.begin() as s:
        u = org.unit_by_slug(s, slug)
        org.update_unit(s, None, u.id, public_report=state == "on")
        click.echo(f"Unit {u.slug}: halaman publik {'ON' if state == 'on' else 'OFF'} / "
                   f"public page {state}.")


@unit.command("public-inbox",
              help="Tampilkan angka Suara Warga unit (jumlah dan waktu tanggapan, tanpa isi "
                   "komentar) di halaman transparansi publik atau tidak; tampil hanya bila "
                   "'unit public' juga ON / show a unit's citizen-voice figures (counts and "
                   "response times, never the comments) on the public page, or not; shown only "
                   "while 'unit public' is on too.")
@click.argument("slug")
@click.argument("state", type=click.Choice(["on", "off"]))
@friendly
def unit_public_inbox(slug: str, state: str) -> None:
    from publisher.services import org

    core = make_core()
    with core.sessions.begin() as s:
        u = org.unit_by_slug(s, slug)
        u = org.update_unit(s, None, u.id, public_inbox=state == "on")
        click.echo(f"Unit {u.slug}: angka Suara Warga di halaman publik "
                   f"{'ON' if state == 'on' else 'OFF'} / citizen-voice figures on the public "
                   f"page {state}.")
        if u.public_inbox and not u.public_report:
            click.echo(f"Catatan: halaman publik unit ini OFF, jadi angkanya belum tampil "
                       f"(warta unit public {u.slug} on) / note: the unit is not on the public "
                       f"page, so the figures are not shown yet.")


@cli.group(help="Pengguna / users.")
def user() -> None:
    pass


@user.command("create", help="Buat pengguna / create a user.")
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


@user.command("list", help="Daftar pengguna / list the users.")
@click.option("--unit", "unit_slug", default=None, help="hanya unit ini / only this unit (slug)")
@friendly
def user_list(unit_slug: str | None) -> None:
    from sqlalchemy import select

    from publisher.models import User
    from publisher.services import org

    core = make_core()
    with core.sessions() as s:
        query = select(User).order_by(User.email)
        if unit_slug:
            query = query.where(User.unit_id == org.unit_by_slug(s, unit_slug).id)
        rows = s.execute(query).scalars().all()
        if not rows:
            click.echo("Belum ada pengguna / no users yet.")
        now = core.now()
        for u in rows:
            state = "aktif / active" if u.active else "nonaktif / inactive"
            if u.locked_until and u.locked_until > now:
                state = "terkunci / locked"
            click.echo(f"#{u.id}\t{u.email}\t{u.name}\t{u.role}\t"
                       f"{u.unit.slug if u.unit else '-'}\t{state}")


@user.command("set-password", help="Atur kata sandi baru dan buka kunci / set a new password "
                                   "and lift a lockout.")
@click.argument("email")
@click.option("--password", default=None, help="ditanyakan bila kosong / prompted when omitted")
@friendly
def user_set_password(email: str, password: str | None) -> None:
    from publisher.services import accounts

    core = make_core()
    with core.sessions.begin() as s:
        u = _user_by_email(s, email)
        if password is None:
            password = click.prompt("Kata sandi baru / new password", hide_input=True,
                                    confirmation_prompt=True)
        accounts.reset_password(s, u, password)
        click.echo(f"Kata sandi {u.email} diganti dan kunci dibuka / password set, lockout "
                   "lifted.")


def _user_by_email(session: Any, email: str) -> Any:
    from sqlalchemy import select

    from publisher.models import User
    from publisher.services.errors import NotFound

    u = session.execute(select(User).where(User.email == email.strip().lower())
                        ).scalar_one_or_none()
    if u is None:
        raise NotFound(f"Pengguna {email} tidak ditemukan.", f"No user {email}.",
                       fields={"email": "not found"})
    return u


@cli.group(help="Token API / API tokens.")
def token() -> None:
    pass


@token.command("create", help="Buat token API untuk pengguna / create an API token.")
@click.argument("email")
@click.option("--name", default="cli")
@click.option("--expires-days", type=click.IntRange(1, 3650), default=None,
              help="token berhenti berlaku setelah sekian hari / the token stops working "
                   "after this many days (default: never)")
@friendly
def token_create(email: str, name: str, expires_days: int | None) -> None:
    from datetime import timedelta

    from publisher.services import org

    core = make_core()
    with core.sessions.begin() as s:
        u = _user_by_email(s, email)
        expires = core.now() + timedelta(days=expires_days) if expires_days else None
        tok = org.create_token(s, u, name, expires_at=expires)
    click.echo("Token (disalin sekarang; tidak akan ditampilkan lagi / copy it now, it will not "
               "be shown again):")
    click.echo(tok)


def _when(value) -> str:  # type: ignore[no-untyped-def]
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


@token.command("list", help="Daftar token API (satu pengguna atau semua) / list API tokens.")
@click.argument("email", required=False)
@friendly
def token_list(email: str | None) -> None:
    from sqlalchemy import select

    from publisher.models import ApiToken
    from publisher.services.tokens import _view

    core = make_core()
    with core.sessions() as s:
        q = select(ApiToken).order_by(ApiToken.id)
        if email:
            q = q.where(ApiToken.user_id == _user_by_email(s, email).id)
        rows = [_view(r) for r in s.execute(q).unique().scalars()]
        now = core.now()
        click.echo("id\tpengguna/user\tnama/name\tstatus\tdibuat/created\t"
                   "terakhir dipakai/last used\tkedaluwarsa/expires")
        for t in rows:
            click.echo(f"{t.id}\t{t.user_email}\t{t.name}\t{t.state(now)}\t"
                       f"{_when(t.created_at)}\t{_when(t.last_used_at)}\t{_when(t.expires_at)}")


@token.command("revoke", help="Cabut token API menurut id-nya / revoke an API token by id "
                                "(see 'warta token list').")
@click.argument("token_id", type=int)
@friendly
def token_revoke(token_id: int) -> None:
    from publisher.models import ApiToken, User
    from publisher.services import tokens
    from publisher.services.errors import NotFound

    core = make_core()
    with core.sessions.begin() as s:
        row = s.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"Token #{token_id} tidak ditemukan.", f"No token #{token_id}.")
        # the CLI runs with the server's rights: it acts as the token's owner
        t = tokens.revoke_token(core, s, s.get(User, row.user_id), token_id)
    click.echo(f"Token #{t.id} ({t.user_email}) dicabut / revoked.")


@cli.command(help="Jalankan penerbit latar belakang / run the background publisher.")
@click.option("--once", is_flag=True,
              help="jalankan tugas jatuh tempo sekali lalu keluar / run the due jobs once and exit")
@friendly
def worker(once: bool) -> None:
    from publisher.observability.exposition import serve_worker_metrics
    from publisher.worker import Worker, run_once

    core = make_core()
    if once:
        n = run_once(core)
        click.echo(f"{n} tugas dijalankan / jobs run.")
        return
    try:
        serve_worker_metrics(core.settings)
    except OSError as exc:
        raise ValueError(f"WARTA_WORKER_METRICS_PORT={core.settings.worker_metrics_port}: "
                         f"tidak dapat membuka port itu / cannot listen there ({exc.strerror})"
                         ) from None
    Worker(core).run_forever()


@cli.command(help="Periksa pekerja dan token akun, beri tahu admin / check the workers and the "
                  "channels' tokens and notify the admins (for cron, e.g. every minute).")
@friendly
def check() -> None:
    from publisher.notify.admin import check_tokens, check_workers

    core = make_core()
    stopped = check_workers(core)
    expiring = check_tokens(core)
    click.echo(("Tidak ada pekerja aktif: admin diberi tahu / no worker running: admins "
                "notified." if stopped else "Pekerja: tidak ada yang baru / workers: nothing new.")
               + f" {len(expiring)} token segera kedaluwarsa / tokens expiring soon.")


# The operations commands (backup, restore, media) and the reports' (the weekly report) live
# beside this module; importing them registers them on ``cli``.
from publisher import cli_ops, cli_report  # noqa: E402,F401,I001
