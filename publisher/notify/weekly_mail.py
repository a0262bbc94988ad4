"""The weekly report as one e-mail: plain text and an inline-CSS HTML alternative in the
reader's language, the workbook attached, no remote images (``email.py``'s rules).

Rendered at send time, like every notification, for the reader the delivery names: a Warta
user (their own scope, checked again here: a user who moved to another unit or lost the role
since the fan-out gets nothing) or an address of ``notify_report_recipients`` (removed since:
nothing).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.db import READ_ONLY
from publisher.models import AuditEvent, NotifyDelivery, ReportRecipient, Role, Unit, User
from publisher.notify.email import new_message
from publisher.notify.errors import DeliveryError, Gone
from publisher.notify.i18n import translations
from publisher.notify.weekly_report import WeeklyFigures, figures, workbook
from publisher.reports.period import Period
from publisher.reports.plan import reader
from publisher.timeutil import zone_label

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
#: The figures the message shows, in order (all of them are in the workbook).
SHOWN = ("publications", "posts", "reach", "views", "engagements", "engagement_rate")


@dataclass(frozen=True)
class Reader:
    """Who a weekly report is for: the address, the name to greet, the language, and the
    viewer its figures are computed as."""

    address: str
    name: str
    locale: str
    viewer: User
    #: A Warta user (their settings page unsubscribes) or a listed address (a reply does).
    is_user: bool


@dataclass(frozen=True)
class WeeklyContent:
    locale: str
    subject: str
    greeting: str
    intro: str
    #: (label, this week, the week before, change, "up" | "down" | "")
    figures: list[tuple[str, str, str, str, str]]
    top_title: str
    #: (rank, excerpt, unit, engagement text, Warta link, platform link or "")
    top: list[tuple[int, str, str, str, str, str]]
    top_empty: str
    link_label: str
    units_title: str
    unit_headers: list[str]
    #: (unit, planned, published as planned, not published, published in the week, short?)
    units: list[tuple[str, str, str, str, str, bool]]
    short_line: str
    attachment_line: str
    action_label: str
    action_url: str
    footer: str
    settings_label: str
    settings_url: str
    headers: list[str] = field(default_factory=list)
    score_title: str = ""
    score_headers: list[str] = field(default_factory=list)
    #: (rank "3 / 12" or "—", unit, score, change in points, "up" | "down" | "", missing)
    scores: list[tuple[str, str, str, str, str, str]] = field(default_factory=list)
    score_line: str = ""
    score_url: str = ""


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(loader=PackageLoader("publisher.notify", "templates"),
                       autoescape=select_autoescape(["html"]), trim_blocks=True,
                       lstrip_blocks=True)


def _num(value: Any, locale: str) -> str:
    return "—" if value is None else format_decimal(value, locale=locale)


def _pct(value: Any, locale: str) -> str:
    return "—" if value is None else format_percent(value, "#,##0.#%", locale=locale)


def _change(value: float | None, locale: str) -> tuple[str, str]:
    if value is None:
        return "—", ""
    text = format_percent(value, "+#,##0.#%;-#,##0.#%", locale=locale)
    return text, "up" if value > 0 else "down" if value < 0 else ""


def _points(value: float | None, locale: str) -> str:
    return "—" if value is None else format_decimal(round(value, 1), "#,##0.#", locale=locale)


def _score_rows(f: WeeklyFigures, loc: str,
                _: Any) -> list[tuple[str, str, str, str, str, str]]:
    """The score section's rows: rank over every unit, the score, its change in points
    against the week before (— when either week has none), and the components that could
    not be computed (never counted as 0)."""
    names = {"plan": _("Published vs planned"), "on_time": _("On time"),
             "channels": _("Channels healthy"), "engagement": _("Engagement vs own past"),
             "complaints": _("Complaints answered in time")}
    out = []
    for row in f.scores:
        before = f.previous.get(row.unit_id)
        change = None if row.score is None or before is None else row.score - before
        way = "" if not change else "up" if change > 0 else "down"
        text = "—" if change is None else format_decimal(round(change, 1), "+#,##0.#;-#,##0.#",
                                                         locale=loc)
        rank = "—" if row.rank is None else f"{row.rank} / {f.ranked}"
        missing = ", ".join(names[k] for k in row.missing)
        out.append((rank, row.unit, _points(row.score, loc), text, way,
                    _("not known: %(parts)s") % {"parts": missing} if missing else ""))
    return out


def _day(d: Any, locale: str) -> str:
    return format_date(d, "d MMMM y", locale=locale)


def content(core: Core, r: Reader, f: WeeklyFigures, scope_name: str,
            file_name: str) -> WeeklyContent:
    """Everything the message says, in ``r.locale``."""
    loc = r.locale
    _ = translations(loc).gettext
    labels = {"publications": _("Publications"), "posts": _("Posts"), "reach": _("Reach"),
              "views": _("Views"), "engagements": _("Engagement"),
              "engagement_rate": _("Engagement rate")}
    cur, prev, chg = f.totals["current"], f.totals["previous"], f.totals["change"]
    fmt = {k: (_pct if k == "engagement_rate" else _num) for k in SHOWN}
    rows = []
    for k in SHOWN:
        text, way = _change(chg.get(k), loc)
        rows.append((labels[k], fmt[k](cur.get(k), loc), fmt[k](prev.get(k), loc), text, way))
    base = core.settings.public_url
    top = []
    for i, p in enumerate(f.top, 1):
        link = next((c["permalink"] for c in p["channels"] if c.get("permalink")), "") or ""
        top.append((i, p["excerpt"], str(p["unit"]), _num(p["engagements"], loc),
                    f"{base}/unggahan/{p['post_id']}", link))
    units = [(u.unit, _num(u.planned, loc), _num(u.published, loc), _num(u.short, loc),
              _num(u.published_in_week, loc), u.short > 0) for u in f.plan]
    short = [u.unit for u in f.short]
    first, last = _day(f.week.first_day, loc), _day(f.week.last_day, loc)
    query = {"period": "custom", "from": f.week.first_day.isoformat(),
             "to": f.week.last_day.isoformat()}
    if f.unit_id is not None and r.viewer.role == Role.ADMIN:
        query["unit"] = str(f.unit_id)
    if r.is_user:
        footer = _("You receive this e-mail because you chose the weekly report in your "
                   "notification settings in Warta.")
        settings_label, settings_url = _("Notification settings"), base + "/profil/notifikasi"
    else:
        footer = _("You receive this e-mail because Warta's administrator listed this address "
                   "for the weekly report. To stop it, reply to this e-mail.")
        settings_label, settings_url = "", ""
    return WeeklyContent(
        locale=loc,
        subject=_("Weekly report %(first)s – %(last)s: %(scope)s")
        % {"first": first, "last": last, "scope": scope_name},
        greeting=_("Hello %(name)s,") % {"name": r.name} if r.name else _("Hello,"),
        intro=_("The week of %(first)s – %(last)s (%(zone)s) in %(scope)s, compared with "
                "the week before.") % {"first": first, "last": last,
                                       "zone": zone_label(f.week.zone), "scope": scope_name},
        figures=rows, top_title=_("Top posts"), top=top,
        top_empty=_("No post had any engagement this week."),
        link_label=_("View on platform"),
        units_title=_("Publications per unit"),
        unit_headers=[_("Unit"), _("Planned"), _("Published as planned"), _("Not published"),
                      _("Published in the week")],
        units=units,
        short_line=(_("Published less than planned: %(units)s") % {"units": ", ".join(short)}
                    if short else _("Every unit published what it planned.")),
        attachment_line=_("Every figure of the week is in the attached workbook "
                          "(%(file)s).") % {"file": file_name},
        action_label=_("Open the reports"), action_url=f"{base}/laporan?{urlencode(query)}",
        footer=footer, settings_label=settings_label, settings_url=settings_url,
        headers=[_("Last week"), _("The week before"), _("Change")],
        score_title=_("Unit activity score"),
        score_headers=[_("Rank"), _("Unit"), _("Score (0–100)"), _("Change (points)")],
        scores=_score_rows(f, loc, _),
        score_line=_("The score and how it is computed: %(url)s")
        % {"url": f"{base}/laporan/skor?minggu={f.week.iso_week}"},
        score_url=f"{base}/laporan/skor?minggu={f.week.iso_week}")


def plain_text(c: WeeklyContent) -> str:
    lines = [c.greeting, "", c.intro, ""]
    lines += [f"{label}: {now} ({c.headers[1]}: {before}; {c.headers[2]}: {change})"
              for label, now, before, change, _way in c.figures]
    lines += ["", c.top_title]
    lines += [f"{rank}. {excerpt} — {unit} — {eng}\n   {url}" + (f"\n   {link}" if link else "")
              for rank, excerpt, unit, eng, url, link in c.top] or [c.top_empty]
    lines += ["", c.units_title, " | ".join(c.unit_headers)]
    lines += [" | ".join(row[:5]) for row in c.units]
    lines += ["", c.short_line]
    if c.scores:
        lines += ["", c.score_title, " | ".join(c.score_headers)]
        lines += [" | ".join(row[:4]) + (f" ({row[5]})" if row[5] else "") for row in c.scores]
        lines += [c.score_line]
    lines += ["", c.attachment_line, "", f"{c.action_label}: {c.action_url}",
              "", "-- ", c.footer]
    if c.settings_url:
        lines.append(f"{c.settings_label}: {c.settings_url}")
    return "\n".join(lines) + "\n"


def file_name(week: Period, locale: str) -> str:
    _ = translations(locale).gettext
    prefix = _("weekly-report")
    return f"{prefix}-{week.first_day}-{week.last_day}.xlsx"


def build(core: Core, session: Session, r: Reader, week: Period, unit_id: int | None,
          scope_name: str, now: datetime) -> EmailMessage:
    """The message for ``r``: figures and workbook computed now, as ``r.viewer`` sees them."""
    smtp = core.settings.smtp
    assert smtp is not None
    f = figures(session, r.viewer, week, unit_id, now)
    name = file_name(week, r.locale)
    c = content(core, r, f, scope_name, name)
    unsubscribe = (f"<{c.settings_url}>" if r.is_user else
                   f"<mailto:{_bare(smtp.sender)}?subject={quote(c.subject[:60])}>")
    msg = new_message(c.subject, sender=smtp.sender, to=r.address, now=now,
                      unsubscribe=unsubscribe)
    msg.set_content(plain_text(c))
    msg.add_alternative(_templates().get_template("weekly.html").render(c=c), subtype="html")
    data = workbook(session, r.viewer, f, r.locale, translations(r.locale).gettext)
    msg.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=name)
    msg["Content-Language"] = c.locale  # after the parts: set_content drops Content-* headers
    return msg


def _bare(sender: str) -> str:
    """``warta@kab.go.id`` from ``Warta <warta@kab.go.id>``."""
    return sender.rsplit("<", 1)[-1].strip(" >")


def scope_name(session: Session, unit_id: int | None, locale: str) -> str:
    if unit_id is None:
        return translations(locale).gettext("the whole region")
    return str(session.execute(select(Unit.name).where(Unit.id == unit_id)).scalar() or "")


def reader_of(session: Session, d: NotifyDelivery, event: AuditEvent) -> Reader | DeliveryError:
    """The delivery's reader now, or why it gets nothing: a user who is no longer active, no
    longer leads, or leads somewhere else than the report's scope; an address taken off the
    list."""
    unit_id = event.unit_id
    if d.user_id is not None:
        user = session.get(User, d.user_id)
        if user is None or not user.active:
            return Gone("Akun penerima tidak aktif lagi.",
                        "The recipient's account is no longer active.")
        mine = (user.role == Role.ADMIN if unit_id is None else
                user.role == Role.APPROVER and user.unit_id == unit_id)
        if not mine:
            return Gone("Laporan ini bukan lagi untuk akun ini (peran atau unitnya berubah).",
                        "This report is no longer for this account (its role or unit "
                        "changed).")
        address = (user.email or "").strip()
        locale = user.locale if user.locale in ("id", "en") else "id"
        return _usable(address) or Reader(address, user.name, locale, user, True)
    address = (d.address or "").strip().lower()
    q = select(ReportRecipient).where(func.lower(ReportRecipient.email) == address)
    q = q.where(ReportRecipient.unit_id.is_(None) if unit_id is None
                else ReportRecipient.unit_id == unit_id)
    row = session.execute(q.limit(1)).scalar_one_or_none()
    if row is None:
        return Gone("Alamat ini sudah dihapus dari penerima laporan mingguan.",
                    "This address was taken off the weekly report's recipients.")
    locale = row.locale if row.locale in ("id", "en") else "id"
    return _usable(address) or Reader(address, row.name, locale, reader(unit_id), False)


def _usable(address: str) -> Gone | None:
    if "@" not in address or any(c in address for c in "\r\n <>,"):
        return Gone("Alamat e-mail ini tidak dapat dipakai.",
                    "This e-mail address cannot be used.")
    return None


@contextmanager
def reading(core: Core) -> Iterator[Session]:
    """A session that only reads, for rendering a report: on SQLite a deferred ``BEGIN`` (a
    WAL snapshot, no write lock); on PostgreSQL an ordinary transaction (the report's facts
    go to a temporary table, which a ``READ ONLY`` one refuses)."""
    with core.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{READ_ONLY: True})
        session = Session(bind=conn, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()
            conn.rollback()


def render(core: Core, session: Session,
           d: NotifyDelivery) -> tuple[str, EmailMessage] | DeliveryError:
    """(address, message) of one weekly delivery, or why it can never be sent."""
    event = session.get(AuditEvent, d.event_id)
    if core.settings.smtp is None:
        return Gone("Pengiriman e-mail dimatikan di Warta ini.",
                    "E-mail is switched off in this Warta.")
    if event is None or "week" not in (event.data or {}):
        return Gone("Laporan mingguan ini tidak dikenal.", "This weekly report is unknown.")
    r = reader_of(session, d, event)
    if isinstance(r, DeliveryError):
        return r
    week = Period.of_iso_week(str(event.data["week"]), str(event.data["zone"]))
    msg = build(core, session, r, week, event.unit_id, scope_name(session, event.unit_id,
                                                                  r.locale), core.now())
    return r.address, msg
