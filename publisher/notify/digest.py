"""The daily digest: a person's non-urgent notifications, held and sent as one message per
channel at the hour they chose (in their own zone): one e-mail for those chosen by e-mail, one
Telegram message for those chosen by Telegram. Urgent kinds (``kinds.URGENT``) still go at
once, and so do approval requests by Telegram: they carry the Setujui/Tolak buttons, which
act on one post and are cleared from their message when pressed.

**Storage** (no table of its own): the chosen time is a ``notify_preferences`` row of the
pseudo-kind ``digest_at`` whose ``channel`` holds the minutes after local midnight ("450" =
07.30). A held delivery is an ordinary ``notify_deliveries`` row whose ``not_before`` is the
digest instant; instead of its own send job the fan-out enqueues one ``notify_digest`` job per
person, channel and instant (deduplicated), which gathers every due, pending, non-urgent
delivery of that person by that channel.

**Never twice**, the same way as one delivery (``deliver.py``): the gathered rows get this
message's Message-ID (for Telegram, an id of the same shape naming this run), and just before
SMTP ``DATA`` or ``sendMessage`` one conditional update moves exactly those rows
``pending -> sending``; if any of them was taken meanwhile (its own send job, another
digest) nothing is sent and the digest gathers again. A run that finds rows of an earlier
digest still ``sending`` marks them ``unconfirmed`` and does not send them again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from email.utils import make_msgid
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import postqueue
from postqueue import backoff_seconds
from publisher.core import Core
from publisher.jobs import NOTIFY_DIGEST
from publisher.models import (
    AuditEvent,
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
    NotifyPreference,
    NotifyProfile,
    User,
)
from publisher.notify import content, telegram, telegram_link
from publisher.notify.deliver import RETRY_BASE, RETRY_CAP, RetryAt, _drop, _rows, _text
from publisher.notify.email import build_email
from publisher.notify.errors import DeliveryError, Gone, Lost, TryLater, Unknown
from publisher.notify.i18n import translations
from publisher.notify.kinds import DIGEST_PREF, NEVER_DIGESTED, URGENT
from publisher.notify.smtp import SmtpNotifier
from publisher.timeutil import home_zone

log = logging.getLogger(__name__)
D = DeliveryStatus
#: Message-IDs of digests carry this, so a re-run recognises its own interrupted rows.
MARK = "warta-digest"
#: The domain of a Telegram digest's run id (it names no mail server).
TELEGRAM_DOMAIN = "telegram.invalid"
#: Items one Telegram digest lists (a message holds 4096 characters); the rest are counted.
TELEGRAM_ITEMS = 25
#: Kinds a Telegram digest never gathers besides ``NEVER_DIGESTED``: their buttons.
TELEGRAM_ALONE = frozenset({"approval_requested"})


def digest_minute(session: Session, user_id: int) -> int | None:
    raw = session.execute(select(NotifyPreference.channel).where(
        NotifyPreference.user_id == user_id, NotifyPreference.kind == DIGEST_PREF)
    ).scalar_one_or_none()
    return int(raw) if raw is not None and raw.isdigit() else None


def next_digest(now: datetime, zone: str, minute: int) -> datetime:
    """The first local ``minute`` of the day strictly after ``now`` (UTC), computed on the
    zone's local dates: 00.15 WIT asked at 23.45 WIT is in half an hour, on tomorrow's date."""
    local = now.astimezone(ZoneInfo(zone))
    wall = datetime.combine(local.date(), time(minute // 60, minute % 60),
                            tzinfo=ZoneInfo(zone))
    if wall <= local:
        wall = datetime.combine(local.date() + timedelta(days=1), wall.time(),
                                tzinfo=ZoneInfo(zone))
    return wall.astimezone(UTC)


def held_until(session: Session, user: User, kind: str, channel: str, now: datetime,
               default_zone: str) -> datetime | None:
    """When this delivery goes out with the digest, or ``None`` if it goes on its own."""
    if kind in URGENT or channel not in (NotifyChannel.EMAIL, NotifyChannel.TELEGRAM):
        return None
    if channel == NotifyChannel.TELEGRAM and kind in TELEGRAM_ALONE:
        return None
    minute = digest_minute(session, user.id)
    if minute is None:
        return None
    return next_digest(now, home_zone(user, default_zone), minute)


def enqueue(session: Session, user_id: int, due: datetime, now: datetime,
            channel: str = NotifyChannel.EMAIL) -> None:
    """The digest job of one person, channel and instant (an e-mail digest's key is the one
    it always had, so jobs queued before Telegram digests existed still deduplicate)."""
    payload: dict[str, object] = {"user_id": user_id}
    key = f"notify-digest:{user_id}:{due.isoformat()}"
    if channel != NotifyChannel.EMAIL:
        payload["channel"] = str(channel)
        key = f"notify-digest:{user_id}:{channel}:{due.isoformat()}"
    postqueue.enqueue(session, NOTIFY_DIGEST, payload, run_at=due, dedupe_key=key, now=now)


#: Notifications one digest message gathers at most: a job reads a bounded amount; a longer
#: backlog goes out as further messages, one right after the other.
MAX_ROWS = 200


def _mine(user_id: int, channel: str):  # type: ignore[no-untyped-def]
    return (NotifyDelivery.user_id == user_id, NotifyDelivery.channel == channel)


def _skipped(channel: str) -> frozenset[str]:
    return NEVER_DIGESTED | TELEGRAM_ALONE if channel == NotifyChannel.TELEGRAM \
        else NEVER_DIGESTED


def send_digest(core: Core, user_id: int,
                channel: str = NotifyChannel.EMAIL) -> RetryAt | None:
    """One run of a person's digest job for ``channel``; ``None`` when it is done."""
    now = core.now()
    with core.sessions.begin() as s:
        s.execute(update(NotifyDelivery).where(
            *_mine(user_id, channel), NotifyDelivery.status == D.SENDING,
            NotifyDelivery.message_id.like(f"%{MARK}@%")).values(
                status=D.UNCONFIRMED, updated_at=now,
                error="Ringkasan terputus saat dikirim; tidak dikirim ulang. / The digest was "
                      "interrupted mid-send; it is not sent again."))
        rows = list(s.execute(select(NotifyDelivery).where(
            *_mine(user_id, channel), NotifyDelivery.status == D.PENDING,
            NotifyDelivery.kind.not_in(_skipped(channel)), NotifyDelivery.not_before <= now)
            .order_by(NotifyDelivery.id).limit(MAX_ROWS + 1)).scalars())
        more = len(rows) > MAX_ROWS
        rows = rows[:MAX_ROWS]
        if not rows:
            return None
        user = s.get(User, user_id)
        out = (_telegram(core, s, user, rows) if channel == NotifyChannel.TELEGRAM
               else _email(core, s, user, rows))
        if isinstance(out, DeliveryError):
            for d in rows:
                _drop(s, d, out, now)
            return None
        address, message_id, send = out
        for d in rows:
            d.attempts += 1
            d.address, d.message_id, d.updated_at = address, message_id, now
        ids = [d.id for d in rows]
        attempt = max(d.attempts for d in rows)
    try:
        send(lambda: _claim(core, ids, message_id))
    except Lost:
        return RetryAt(core.now(), "some notifications were taken meanwhile: gather again")
    except TryLater as exc:
        return _later(core, message_id, attempt, exc)
    except Gone as exc:
        with core.sessions.begin() as s:
            for d in s.execute(select(NotifyDelivery).where(
                    NotifyDelivery.message_id == message_id,
                    NotifyDelivery.status.in_((D.PENDING, D.SENDING)))).scalars():
                _drop(s, d, exc, core.now())
        return None
    except Unknown as exc:
        _finish(core, message_id, D.UNCONFIRMED, _text(exc))
        return None
    _finish(core, message_id, D.SENT)
    log.info("digest of %d notifications sent by %s to user %s", len(ids), channel, user_id)
    if more:  # a backlog (a week away, a noisy day): the rest in the next message, at once
        return RetryAt(core.now(), "more notifications wait: the next digest message")
    return None


Send = Callable[[Callable[[], bool]], None]


def _gone_user(user: User | None) -> Gone | None:
    if user is None or not user.active:
        return Gone("Akun penerima tidak aktif lagi.",
                    "The recipient's account is no longer active.")
    return None


def _email(core: Core, s: Session, user: User | None,
           rows: list[NotifyDelivery]) -> tuple[str, str, Send] | DeliveryError:
    """The e-mail digest: its address, Message-ID and send, or why it can never go."""
    smtp = core.settings.smtp
    address = ((user.email if user else None) or "").strip()
    gone = _gone_user(user)
    if gone is not None:
        return gone
    if smtp is None:
        return Gone("Pengiriman e-mail dimatikan di Warta ini.",
                    "E-mail is switched off in this Warta.")
    if "@" not in address or any(c in address for c in "\r\n <>,"):
        return Gone("Alamat e-mail akun ini tidak dapat dipakai.",
                    "This account's e-mail address cannot be used.")
    assert user is not None
    msg = build_email(_content(core, s, user, rows), sender=smtp.sender, to=address,
                      now=core.now())
    domain = smtp.sender.rsplit("@", 1)[-1].strip(" >") or None
    msg.replace_header("Message-ID", make_msgid(MARK, domain=domain))
    notifier = SmtpNotifier(smtp)
    return address, str(msg["Message-ID"]), lambda begin: notifier.send(msg, address, begin)


def _telegram(core: Core, s: Session, user: User | None,
              rows: list[NotifyDelivery]) -> tuple[str, str, Send] | DeliveryError:
    """The Telegram digest: one plain-text direct message to the linked chat."""
    gone = _gone_user(user)
    if gone is not None:
        return gone
    bot = telegram_link.bot(core)
    if bot is None:
        return Gone("Notifikasi Telegram dimatikan di Warta ini.",
                    "Telegram notifications are switched off in this Warta.")
    assert user is not None
    profile = s.get(NotifyProfile, user.id)
    if profile is None or profile.telegram_chat_id is None:
        return Gone("Telegram Anda belum tertaut lagi; tautkan di halaman profil.",
                    "Your Telegram is not linked any more; link it on the profile page.")
    chat_id = int(profile.telegram_chat_id)
    body = _content(core, s, user, rows)
    facts = body.facts[:TELEGRAM_ITEMS]
    more = ""
    if len(body.facts) > len(facts):
        more = translations(body.locale).gettext(
            "…and %(num)s more in Warta.") % {"num": len(body.facts) - len(facts)}
    text = telegram.plain_text(body.subject, body.lines, facts, body.action_label,
                               body.action_url, more)
    run_id = make_msgid(MARK, domain=TELEGRAM_DOMAIN)
    return str(chat_id), run_id, lambda begin: bot.send(chat_id, text, begin)


class _Taken(Exception):
    """Some of the digest's rows were taken by another run meanwhile."""


def _claim(core: Core, ids: list[int], message_id: str) -> bool:
    """All of the digest's rows ``pending -> sending``, or none (then nothing is sent)."""
    try:
        return _claim_all(core, ids, message_id)
    except _Taken:
        return False


def _claim_all(core: Core, ids: list[int], message_id: str) -> bool:
    now = core.now()
    with core.sessions.begin() as s:
        result = s.execute(update(NotifyDelivery).where(
            NotifyDelivery.id.in_(ids), NotifyDelivery.status == D.PENDING,
            NotifyDelivery.message_id == message_id).values(status=D.SENDING, sending_at=now,
                                                            updated_at=now))
        if _rows(result) != len(ids):
            raise _Taken()  # rolls the partial claim back
    return True


def _finish(core: Core, message_id: str, status: str, error: str | None = None) -> None:
    now = core.now()
    values: dict = {"status": status, "updated_at": now, "error": error}
    if status == D.SENT:
        values["sent_at"] = now
    with core.sessions.begin() as s:
        s.execute(update(NotifyDelivery).where(
            NotifyDelivery.message_id == message_id,
            NotifyDelivery.status.in_((D.SENDING, D.UNCONFIRMED))).values(**values))


def _later(core: Core, message_id: str, attempt: int, exc: TryLater) -> RetryAt | None:
    now = core.now()
    with core.sessions.begin() as s:
        rows = list(s.execute(select(NotifyDelivery).where(
            NotifyDelivery.message_id == message_id,
            NotifyDelivery.status.in_((D.PENDING, D.SENDING)))).scalars())
        for d in rows:
            if attempt >= core.settings.max_attempts:
                _drop(s, d, exc, now, status=D.FAILED)
            else:
                d.status, d.error, d.updated_at = D.PENDING, _text(exc), now
    if not rows or attempt >= core.settings.max_attempts:
        return None
    when = now + timedelta(seconds=backoff_seconds(attempt, base=RETRY_BASE, cap=RETRY_CAP,
                                                   retry_after=exc.retry_after))
    return RetryAt(when, exc.message_en)


def _content(core: Core, s: Session, user: User,
             rows: list[NotifyDelivery]) -> content.Content:
    """One message listing every held notification: its subject and its link."""
    base = core.settings.public_url
    items = []
    for d in rows:
        event = s.get(AuditEvent, d.event_id)
        if event is not None:
            items.append(content.build(s, user, event, d.kind, base, core.settings.timezone))
    locale = user.locale if user.locale in ("id", "en") else "id"
    _ = translations(locale).gettext
    return content.Content(
        locale=locale,
        subject=_("Daily digest: %(num)s notifications") % {"num": len(items)},
        greeting=_("Hello %(name)s,") % {"name": user.name},
        lines=[_("What happened in Warta since your last digest:")],
        facts=[(c.subject, c.action_url) for c in items],
        action_label=_("Open notifications"), action_url=base + "/notifikasi",
        settings_label=_("Notification settings"), settings_url=base + "/profil/notifikasi",
        footer=_("You receive this e-mail because of your notification settings in Warta."))
