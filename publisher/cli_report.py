"""``warta report weekly`` and ``warta report recipients``: the weekly report to leaders as an
admin sees it from the command line — who receives it, sending it now, a test copy, and the
addresses that receive it without being Warta users (``publisher/notify/weekly.py``)."""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from publisher.cli import cli, friendly, make_core
from publisher.core import Core


@cli.group(help="Laporan / reports.")
def report() -> None:
    pass


def _need_smtp(core: Core) -> None:
    """The weekly report is an e-mail: without SMTP, say so and stop (exit 1)."""
    if core.settings.smtp is None:
        click.echo("E-mail belum disiapkan (WARTA_SMTP_HOST kosong): laporan mingguan tidak "
                   "dapat dikirim / e-mail is not set up (WARTA_SMTP_HOST is empty): the weekly "
                   "report cannot be sent.", err=True)
        sys.exit(1)


def _scopes(core: Core, unit_ref: str | None) -> list:  # type: ignore[type-arg]
    from publisher.notify import weekly

    with core.sessions() as s:
        if unit_ref is None:
            return weekly.scopes_with_recipients(s, core.settings.timezone)
        unit = weekly.unit_of(s, unit_ref)
        return [weekly.Scope(unit.id, unit.timezone)]


def _name(core: Core, unit_id: int | None, session=None) -> str:  # type: ignore[no-untyped-def]
    """The scope in words (in ``session`` when one is open: SQLite allows one at a time)."""
    from publisher.models import Unit

    if unit_id is None:
        return "seluruh wilayah / whole region"
    if session is not None:
        return str(session.execute(select(Unit.name).where(Unit.id == unit_id)).scalar()
                   or unit_id)
    with core.sessions() as s:
        return _name(core, unit_id, s)


@report.command("weekly", help="Laporan mingguan: penerima, kirim sekarang, atau salinan uji / "
                               "the weekly report: its recipients, send it now, or a test copy.")
@click.option("--send-now", is_flag=True,
              help="kirim laporan minggu lalu sekarang ke penerima yang belum menerimanya / send "
                   "last week's report now to every recipient who has not had it")
@click.option("--unit", "unit_ref", default=None,
              help="hanya unit ini (id atau slug) / only this unit (id or slug)")
@click.option("--to", "to", default=None,
              help="kirim salinan uji ke alamat ini saja (tidak dicatat) / send a test copy to "
                   "this address only (not recorded)")
@click.option("--lang", "lang", type=click.Choice(["id", "en"]), default="id",
              help="bahasa salinan uji / language of the test copy")
@friendly
def weekly_cmd(send_now: bool, unit_ref: str | None, to: str | None, lang: str) -> None:
    from publisher.notify import weekly

    core = make_core()
    if to:
        _need_smtp(core)
        _test_copy(core, unit_ref, to, lang)
        return
    if send_now:
        _need_smtp(core)
        _send_now(core, unit_ref)
        return
    now = core.now()
    scopes = _scopes(core, unit_ref)
    if not scopes:
        click.echo("Belum ada penerima laporan mingguan / nobody receives the weekly report yet.")
    with core.sessions() as s:
        for scope in scopes:
            users, addresses = weekly.recipients(s, scope.unit_id)
            due = weekly.due_at(now, scope.zone)
            click.echo(f"{_name(core, scope.unit_id, s)}: {len(users)} pengguna / users, "
                       f"{len(addresses)} alamat / addresses; jatuh tempo / due "
                       f"{due.isoformat()}")
            for u in users:
                click.echo(f"  {u.email} ({u.role}, {u.locale})")
            for r in addresses:
                click.echo(f"  {r.email} ({r.locale}) {r.name}".rstrip())
            _last_sent(s, scope, now)
    if core.settings.smtp is None:
        click.echo("E-mail belum disiapkan: tidak ada yang dikirim / e-mail is not set up: "
                   "nothing is sent.", err=True)
        sys.exit(1)


def _last_sent(session, scope, now) -> None:  # type: ignore[no-untyped-def]
    """How the scope's last report went: a line per delivery not sent, with its reason."""
    from publisher.models import DeliveryStatus, NotifyDelivery, User
    from publisher.notify import weekly
    from publisher.notify.weekly_report import last_week

    week = last_week(now, scope.zone)
    event = weekly.recorded(session, scope, week, now)
    if event is None:
        click.echo(f"  {week.iso_week}: belum dikirim / not sent yet")
        return
    rows = list(session.execute(select(NotifyDelivery, User.email)
                                .outerjoin(User, User.id == NotifyDelivery.user_id)
                                .where(NotifyDelivery.event_id == event.id)).all())
    sent = sum(1 for d, _e in rows if d.status == DeliveryStatus.SENT)
    click.echo(f"  {week.iso_week}: {sent}/{len(rows)} terkirim / sent")
    for d, email in rows:
        if d.status != DeliveryStatus.SENT:
            click.echo(f"    {email or d.address}: {d.status} {d.error or ''}".rstrip())


def _send_now(core: Core, unit_ref: str | None) -> None:
    from publisher.models import DeliveryStatus, NotifyDelivery
    from publisher.notify import weekly
    from publisher.notify.deliver import send_delivery
    from publisher.notify.weekly_report import last_week

    scopes = _scopes(core, unit_ref)
    now = core.now()
    sent = failed = 0
    for scope in scopes:
        week = last_week(now, scope.zone)
        ids = weekly.prepare(core, scope.unit_id, week.iso_week)
        for delivery_id in ids:
            send_delivery(core, delivery_id)
            with core.sessions() as s:
                d = s.get(NotifyDelivery, delivery_id)
                if d is not None and d.status == DeliveryStatus.SENT:
                    sent += 1
                else:
                    failed += 1
                    what = f"{d.address}: {d.status} {d.error or ''}" if d else str(delivery_id)
                    click.echo(f"  {what}", err=True)
        click.echo(f"{_name(core, scope.unit_id)} {week.iso_week}: {len(ids)} baru / new")
    click.echo(f"{sent} terkirim / sent, {failed} belum / not sent (penerima yang sudah menerima "
               "laporan minggu ini tidak dikirimi lagi / recipients who had this week's report "
               "get nothing again).")
    if failed:
        sys.exit(1)


def _test_copy(core: Core, unit_ref: str | None, to: str, lang: str) -> None:
    from publisher.notify import weekly_mail
    from publisher.notify.errors import DeliveryError
    from publisher.notify.smtp import SmtpNotifier
    from publisher.notify.weekly import Scope, unit_of
    from publisher.notify.weekly_report import last_week
    from publisher.reports.plan import reader

    with core.sessions() as s:
        scope = Scope(None, core.settings.timezone)
        if unit_ref is not None:
            unit = unit_of(s, unit_ref)
            scope = Scope(unit.id, unit.timezone)
        week = last_week(core.now(), scope.zone)
        r = weekly_mail.Reader(to.strip(), "", lang, reader(scope.unit_id), False)
        msg = weekly_mail.build(core, s, r, week, scope.unit_id,
                                weekly_mail.scope_name(s, scope.unit_id, lang), core.now())
    assert core.settings.smtp is not None
    try:
        SmtpNotifier(core.settings.smtp).send(msg, r.address, lambda: True)
    except DeliveryError as exc:
        click.echo(f"Gagal / failed: {exc.message_id} / {exc.message_en} {exc.detail}", err=True)
        sys.exit(1)
    click.echo(f"Salinan uji {week.iso_week} terkirim ke / test copy sent to {r.address}.")


@report.group("recipients", help="Alamat penerima laporan mingguan yang bukan pengguna Warta / "
                                  "addresses that receive the weekly report without being Warta "
                                  "users.")
def recipients() -> None:
    pass


def _unit_id(core: Core, unit_ref: str | None) -> int | None:
    from publisher.notify.weekly import unit_of

    if unit_ref is None:
        return None
    with core.sessions() as s:
        return unit_of(s, unit_ref).id


@recipients.command("list", help="Daftar alamat / list the addresses.")
@friendly
def recipients_list() -> None:
    from publisher.models import ReportRecipient

    core = make_core()
    with core.sessions() as s:
        rows = list(s.execute(select(ReportRecipient).order_by(ReportRecipient.unit_id,
                                                               ReportRecipient.email)).scalars())
        for r in rows:
            click.echo(f"{_name(core, r.unit_id, s)}\t{r.email}\t{r.locale}\t{r.name}")
    if not rows:
        click.echo("Belum ada / none yet.")


@recipients.command("add", help="Tambah alamat (tanpa --unit: seluruh wilayah) / add an address "
                                "(without --unit: the whole region).")
@click.argument("email")
@click.option("--unit", "unit_ref", default=None, help="unit (id atau slug) / unit (id or slug)")
@click.option("--name", default="", help="nama untuk sapaan / name to greet")
@click.option("--lang", "lang", type=click.Choice(["id", "en"]), default="id",
              help="bahasa laporan / the report's language")
@friendly
def recipients_add(email: str, unit_ref: str | None, name: str, lang: str) -> None:
    from publisher.notify.weekly import add_recipient

    core = make_core()
    unit_id = _unit_id(core, unit_ref)
    with core.sessions.begin() as s:
        row = add_recipient(s, unit_id, email, name=name, locale=lang)
        address = row.email
    click.echo(f"{address}: {_name(core, unit_id)} ({lang}).")


@recipients.command("remove", help="Hapus alamat / remove an address.")
@click.argument("email")
@click.option("--unit", "unit_ref", default=None, help="unit (id atau slug) / unit (id or slug)")
@friendly
def recipients_remove(email: str, unit_ref: str | None) -> None:
    from publisher.notify.weekly import remove_recipient

    core = make_core()
    unit_id = _unit_id(core, unit_ref)
    with core.sessions.begin() as s:
        gone = remove_recipient(s, unit_id, email)
    if not gone:
        click.echo(f"Tidak ada / not found: {email} ({_name(core, unit_id)}).", err=True)
        sys.exit(1)
    click.echo(f"Dihapus / removed: {email}.")
