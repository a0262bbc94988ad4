"""A person's notification preferences: one channel per kind of event, quiet hours, the
daily digest's hour, and whether they receive the weekly report (approvers: their unit's;
admins: the whole region's).

Strict like every form: a channel this installation cannot deliver (e-mail without SMTP,
Telegram before it is linked), a time of day that is not one (quiet hours, the daily
digest's hour), half a window, or the weekly report asked for by a role that does not lead
(an operator) is refused with a message on that field, never saved as a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from publisher.core import Core
from publisher.models import NotifyChannel, NotifyPreference, NotifyProfile, Role, User
from publisher.notify.kinds import DIGEST_PREF, KINDS, WEEKLY_REPORT
from publisher.notify.quiet import format_hhmm, parse_hhmm
from publisher.services import audit
from publisher.services.errors import Invalid, Text


@dataclass(frozen=True)
class Preferences:
    #: kind -> channel, every kind present ("inapp" when nothing else was chosen).
    channels: dict[str, str]
    quiet_start: int | None
    quiet_end: int | None
    #: The daily digest's time of day (minutes after local midnight), or ``None``: no digest.
    digest_at: int | None = None
    #: The weekly report by e-mail (Monday 07.00, ``weekly.py``).
    weekly_report: bool = False

    def quiet_text(self, sep: str = ":") -> tuple[str, str]:
        return format_hhmm(self.quiet_start, sep), format_hhmm(self.quiet_end, sep)

    def digest_text(self, sep: str = ":") -> str:
        return format_hhmm(self.digest_at, sep)


def telegram_linked(session: Session, user: User) -> bool:
    profile = session.get(NotifyProfile, user.id)
    return profile is not None and profile.telegram_chat_id is not None


def offered(core: Core, linked: bool = False) -> list[str]:
    """The channels the form offers: the bell always, e-mail when SMTP is configured,
    Telegram when the bot is configured and this user has linked their chat."""
    out = [NotifyChannel.INAPP.value]
    if core.settings.smtp is not None:
        out.append(NotifyChannel.EMAIL.value)
    if core.settings.notify_telegram_token and linked:
        out.append(NotifyChannel.TELEGRAM.value)
    return out


#: The roles that lead: they may receive the weekly report (approvers: their unit's report;
#: admins: the whole region's). Anyone else gets it as an address (``ReportRecipient``).
LEADERS = (Role.APPROVER, Role.ADMIN)


def weekly_offered(core: Core, user: User) -> bool:
    """Whether the form offers the weekly report to ``user``."""
    return core.settings.smtp is not None and user.role in LEADERS


def load(session: Session, user: User) -> Preferences:
    chosen = dict(session.execute(select(NotifyPreference.kind, NotifyPreference.channel)
                                  .where(NotifyPreference.user_id == user.id)).all())
    profile = session.get(NotifyProfile, user.id)
    raw_digest = chosen.get(DIGEST_PREF)
    return Preferences({k: chosen.get(k, NotifyChannel.INAPP.value) for k in KINDS},
                       profile.quiet_start if profile else None,
                       profile.quiet_end if profile else None,
                       int(raw_digest) if raw_digest and raw_digest.isdigit() else None,
                       chosen.get(WEEKLY_REPORT) == NotifyChannel.EMAIL)


def parse(core: Core, form: Mapping[str, str], linked: bool = False) -> Preferences:
    """Read the form's fields (``kind-<kind>``, ``quiet-start``, ``quiet-end``)."""
    errors: dict[str, str] = {}
    allowed = offered(core, linked)
    channels: dict[str, str] = {}
    for kind in KINDS:
        value = (form.get(f"kind-{kind}") or NotifyChannel.INAPP.value).strip()
        if value not in allowed:
            if value == NotifyChannel.EMAIL:
                errors[f"kind-{kind}"] = Text("E-mail belum disiapkan di Warta ini.",
                                              "E-mail is not set up in this Warta.")
            elif value == NotifyChannel.TELEGRAM and core.settings.notify_telegram_token:
                errors[f"kind-{kind}"] = Text("Tautkan Telegram Anda dulu (di bawah).",
                                              "Link your Telegram first (below).")
            elif value == NotifyChannel.TELEGRAM:
                errors[f"kind-{kind}"] = Text("Telegram belum disiapkan di Warta ini.",
                                              "Telegram is not set up in this Warta.")
            else:
                errors[f"kind-{kind}"] = Text("Pilihan tidak dikenal.", "Unknown choice.")
        channels[kind] = value
    raw_start = (form.get("quiet-start") or "").strip()
    raw_end = (form.get("quiet-end") or "").strip()
    start, end = parse_hhmm(raw_start), parse_hhmm(raw_end)
    bad = Text("Tulis jam seperti 22.00.", "Write a time like 22:00.")
    missing = Text("Isi jam mulai dan jam selesai, atau kosongkan keduanya.",
                   "Fill in both the start and the end, or leave both empty.")
    for name, raw, minutes in (("quiet-start", raw_start, start), ("quiet-end", raw_end, end)):
        if raw and minutes is None:
            errors[name] = bad
    if not errors and bool(raw_start) != bool(raw_end):
        errors["quiet-end" if raw_start else "quiet-start"] = missing
    if not errors and start is not None and start == end:
        errors["quiet-end"] = Text("Jam selesai harus berbeda dari jam mulai.",
                                   "The end must differ from the start.")
    raw_digest = (form.get("digest-at") or "").strip()
    digest_at = parse_hhmm(raw_digest)
    if raw_digest and digest_at is None:
        errors["digest-at"] = bad
    weekly = (form.get("weekly-report") or "").strip() in ("1", "on", "yes")
    if weekly and core.settings.smtp is None:
        errors["weekly-report"] = Text("E-mail belum disiapkan di Warta ini.",
                                       "E-mail is not set up in this Warta.")
    if errors:
        raise Invalid("Periksa kembali pengaturan notifikasi.",
                      "Please check the notification settings.", fields=errors)
    return Preferences(channels, start, end, digest_at, weekly)


def save(core: Core, session: Session, user: User, form: Mapping[str, str]) -> Preferences:
    """Validate and store the form; in-app-only kinds keep no row (it is the default)."""
    prefs = parse(core, form, telegram_linked(session, user))
    if prefs.weekly_report and user.role not in LEADERS:
        raise Invalid("Periksa kembali pengaturan notifikasi.",
                      "Please check the notification settings.",
                      fields={"weekly-report": Text(
                          "Laporan mingguan untuk penyetuju dan admin.",
                          "The weekly report is for approvers and admins.")})
    session.execute(delete(NotifyPreference).where(NotifyPreference.user_id == user.id))
    for kind, channel in prefs.channels.items():
        if channel != NotifyChannel.INAPP:
            session.add(NotifyPreference(user_id=user.id, kind=kind, channel=channel))
    if prefs.digest_at is not None:  # the digest's hour lives in a row of its own pseudo-kind
        session.add(NotifyPreference(user_id=user.id, kind=DIGEST_PREF,
                                     channel=str(prefs.digest_at)))
    if prefs.weekly_report:  # a setting too: "send me the weekly report"
        session.add(NotifyPreference(user_id=user.id, kind=WEEKLY_REPORT,
                                     channel=NotifyChannel.EMAIL.value))
    profile = session.get(NotifyProfile, user.id)
    if profile is None:
        profile = NotifyProfile(user_id=user.id)
        session.add(profile)
    profile.quiet_start, profile.quiet_end = prefs.quiet_start, prefs.quiet_end
    profile.updated_at = core.now()
    audit.record(session, "user.notify_settings", "user", user.id, actor=user,
                 unit_id=user.unit_id,
                 data={"channels": {k: v for k, v in prefs.channels.items() if v != "inapp"},
                       "quiet": list(prefs.quiet_text()), "digest": prefs.digest_text(),
                       "weekly_report": prefs.weekly_report})
    return prefs
