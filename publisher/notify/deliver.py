"""The send job of one delivery: claim, send, mark — and never the same message twice.

1. One short transaction counts the attempt and renders the message (the recipient's
   address and language as they are now).
2. The notifier opens the conversation; just before the irreversible step (SMTP ``DATA``)
   it calls ``begin``, which commits ``pending -> sending`` for *this* attempt only (a
   conditional update on the attempt number). Another run of the same delivery — a second
   claim after a lease ran out — fails that update and stops without sending.
3. The outcome is recorded with conditional updates: ``sent``; back to ``pending`` with a
   backoff on a definite "not now"; ``dropped`` (and a line in the recipient's bell) when the
   address is gone; ``failed`` once the attempts run out.

**Crash policy: at most once.** A run that finds the delivery ``sending`` knows an earlier
run reached the irreversible step and never recorded its outcome: the process died, or the
connection broke before the server's reply. The server may well have accepted the message,
so it is marked ``unconfirmed`` and not sent again: a lost notification is a smaller harm
than the same message twice (its Message-ID is kept, to look it up in the mail server's log).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, update
from sqlalchemy.orm import Session

from postqueue import backoff_seconds
from publisher.core import Core
from publisher.models import (
    AuditEvent,
    DeliveryStatus,
    NotifyChannel,
    NotifyDelivery,
    NotifyProfile,
    NotifyWebhook,
    Post,
    PostStatus,
    User,
)
from publisher.notify import (
    content,
    telegram,
    telegram_approve,
    telegram_link,
    thumbnail,
    webhook,
    webhooks,
    weekly_mail,
)
from publisher.notify.email import build_email
from publisher.notify.errors import DeliveryError, Gone, Lost, TryLater, Unknown
from publisher.notify.kinds import UNDELIVERABLE, WEEKLY_REPORT
from publisher.notify.smtp import SmtpNotifier
from publisher.services import audit

log = logging.getLogger(__name__)
D = DeliveryStatus
DONE = None
FINAL = (D.SENT, D.DROPPED, D.FAILED, D.UNCONFIRMED)
#: Backoff between attempts: one minute, doubling, at most an hour.
RETRY_BASE, RETRY_CAP = 60.0, 3600.0


@dataclass(frozen=True)
class RetryAt:
    """Run the send job again then (the worker turns it into the queue's retry)."""

    when: datetime
    error: str = ""


def send_delivery(core: Core, delivery_id: int) -> RetryAt | None:
    """One run of a delivery's send job; ``None`` when the job is done."""
    now = core.now()
    early = _weekly_early(core, delivery_id, now)
    with core.sessions.begin() as s:
        d = s.get(NotifyDelivery, delivery_id)
        if d is None or d.status in FINAL:
            return DONE
        if d.status == D.SENDING:
            d.status, d.updated_at = D.UNCONFIRMED, now
            d.error = ("Pengiriman terputus setelah pesan diserahkan ke server; mungkin sudah "
                       "terkirim, tidak dikirim ulang. / The send was interrupted after the "
                       "message was handed over; it may have arrived and is not sent again.")
            log.warning("notification delivery %s was interrupted mid-send: unconfirmed, "
                        "not sent again (Message-ID %s)", d.id, d.message_id)
            return DONE
        if d.not_before > now:
            return RetryAt(d.not_before, "quiet hours")
        prepared = early if early is not None else _prepare(core, s, d)
        if isinstance(prepared, DeliveryError):
            _drop(s, d, prepared, now)
            return DONE
        out = prepared
        user_id, channel = d.user_id, d.channel
        d.attempts += 1
        attempt = d.attempts
        d.address, d.message_id, d.updated_at = out.address, out.message_id, now
    begin = lambda: _mark_sending(core, delivery_id, attempt)  # noqa: E731
    try:
        out.send(begin)
    except Lost:
        return DONE
    except TryLater as exc:
        return _later(core, delivery_id, attempt, exc)
    except Gone as exc:
        with core.sessions.begin() as s:
            d = s.get(NotifyDelivery, delivery_id)
            if d is not None and d.attempts == attempt:
                _drop(s, d, exc, core.now())
        return DONE
    except Unknown as exc:
        _finish(core, delivery_id, attempt, D.UNCONFIRMED, error=_text(exc))
        log.warning("notification delivery %s: %s", delivery_id, exc.detail)
        return DONE
    _finish(core, delivery_id, attempt, D.SENT)
    log.info("notification delivery %s sent by %s to user %s", delivery_id, channel, user_id)
    return DONE


@dataclass(frozen=True)
class Outgoing:
    """A rendered message and how to send it (``send(begin)``)."""

    address: str
    message_id: str | None
    send: Callable[[Callable[[], bool]], None]


def _weekly_early(core: Core, delivery_id: int, now: datetime) -> Outgoing | DeliveryError | None:
    """A due weekly report, rendered before the send's write transaction: computing a week of
    figures and a workbook takes a while, and on SQLite that transaction holds the one write
    lock every request and worker waits for. ``None`` for any other delivery."""
    with weekly_mail.reading(core) as rs:
        d = rs.get(NotifyDelivery, delivery_id)
        if d is None or d.kind != WEEKLY_REPORT or d.status != D.PENDING or d.not_before > now:
            return None
        return _weekly(core, rs, d)


def _weekly(core: Core, s: Session, d: NotifyDelivery) -> Outgoing | DeliveryError:
    """A weekly report's message (a user's, or an address's without a user)."""
    rendered = weekly_mail.render(core, s, d)
    if isinstance(rendered, DeliveryError):
        return rendered
    address, msg = rendered
    assert core.settings.smtp is not None
    notifier = SmtpNotifier(core.settings.smtp)
    return Outgoing(address, str(msg["Message-ID"]),
                    lambda begin: notifier.send(msg, address, begin))


def _prepare(core: Core, s: Session, d: NotifyDelivery) -> Outgoing | DeliveryError:
    """The message and its address, or why it can never be sent."""
    if d.kind == WEEKLY_REPORT:
        return _weekly(core, s, d)
    if d.channel == NotifyChannel.WEBHOOK:
        return _prepare_webhook(core, s, d)
    user = s.get(User, d.user_id)
    event = s.get(AuditEvent, d.event_id)
    if user is None or not user.active or event is None:
        return Gone("Akun penerima tidak aktif lagi.", "The recipient's account is no longer "
                    "active.")
    if d.channel == NotifyChannel.TELEGRAM:
        return _prepare_telegram(core, s, d, user, event)
    smtp = core.settings.smtp
    if d.channel != NotifyChannel.EMAIL or smtp is None:
        return Gone("Pengiriman e-mail dimatikan di Warta ini.",
                    "E-mail is switched off in this Warta.")
    address = (user.email or "").strip()
    if "@" not in address or any(c in address for c in "\r\n <>,"):
        return Gone("Alamat e-mail akun ini tidak dapat dipakai.",
                    "This account's e-mail address cannot be used.")
    body = content.build(s, user, event, d.kind, core.settings.public_url,
                         core.settings.timezone)
    msg = build_email(body, sender=smtp.sender, to=address, now=core.now(),
                      thumbnail=thumbnail.for_event(core.settings, s, event, d.kind))
    notifier = SmtpNotifier(smtp)
    return Outgoing(address, str(msg["Message-ID"]),
                    lambda begin: notifier.send(msg, address, begin))


def _prepare_telegram(core: Core, s: Session, d: NotifyDelivery, user: User,
                      event: AuditEvent) -> Outgoing | DeliveryError:
    bot = telegram_link.bot(core)
    profile = s.get(NotifyProfile, user.id)
    if bot is None:
        return Gone("Notifikasi Telegram dimatikan di Warta ini.",
                    "Telegram notifications are switched off in this Warta.")
    if profile is None or profile.telegram_chat_id is None:
        return Gone("Telegram Anda belum tertaut lagi; tautkan di halaman profil.",
                    "Your Telegram is not linked any more; link it on the profile page.")
    chat_id = int(profile.telegram_chat_id)
    body = content.build(s, user, event, d.kind, core.settings.public_url,
                         core.settings.timezone)
    text = telegram.plain_text(body.subject, body.lines, body.facts, body.action_label,
                               body.action_url)
    markup = None
    if d.kind == "approval_requested" and event.object_type == "post" and event.object_id:
        post = s.get(Post, event.object_id)
        if post is not None and post.status == PostStatus.SUBMITTED:
            markup = telegram_approve.buttons(user.locale, post)
    return Outgoing(str(chat_id), None,
                    lambda begin: bot.send(chat_id, text, begin, reply_markup=markup))


def _prepare_webhook(core: Core, s: Session, d: NotifyDelivery) -> Outgoing | DeliveryError:
    """The signed POST of a webhook delivery (``webhook.py``), or why it can never go."""
    raw_id = (d.address or "").removeprefix("webhook:")
    hook = s.get(NotifyWebhook, int(raw_id)) if raw_id.isdigit() else None
    event = s.get(AuditEvent, d.event_id)
    if hook is None or not hook.active or event is None:
        return Gone("Webhook ini sudah dihapus atau dimatikan.",
                    "This webhook was removed or switched off.")
    try:
        secret = str(core.box.open(hook.secret_encrypted)["secret"])
    except (ValueError, KeyError):
        return Gone("Rahasia webhook tidak dapat dibuka (WARTA_ENCRYPTION_KEY berubah); "
                    "tambahkan webhook ini lagi.",
                    "The webhook's secret cannot be opened (WARTA_ENCRYPTION_KEY changed); "
                    "add this webhook again.")
    body = webhook.encode(webhooks.payload(core, s, d, hook, event))
    headers = {"X-Warta-Delivery": str(d.id), "X-Warta-Event": d.kind}
    notifier = webhook.WebhookNotifier(hook.url, secret)
    return Outgoing(d.address or "", None,
                    lambda begin: notifier.send(body, headers, core.now, begin))


def _mark_sending(core: Core, delivery_id: int, attempt: int) -> bool:
    """Commit ``sending`` for this attempt just before the irreversible step."""
    now = core.now()
    with core.sessions.begin() as s:
        result = s.execute(update(NotifyDelivery).where(
            NotifyDelivery.id == delivery_id, NotifyDelivery.status == D.PENDING,
            NotifyDelivery.attempts == attempt).values(status=D.SENDING, sending_at=now,
                                                       updated_at=now))
        return _rows(result) == 1


def _finish(core: Core, delivery_id: int, attempt: int, status: str,
            error: str | None = None) -> bool:
    """Record this attempt's outcome, unless another attempt has taken over. ``sent`` also
    replaces an ``unconfirmed`` that a re-run wrote while this call was still going."""
    now = core.now()
    values: dict[str, Any] = {"status": status, "updated_at": now, "error": error}
    if status == D.SENT:
        values["sent_at"] = now
    with core.sessions.begin() as s:
        result = s.execute(update(NotifyDelivery).where(
            NotifyDelivery.id == delivery_id, NotifyDelivery.attempts == attempt,
            NotifyDelivery.status.in_((D.SENDING, D.UNCONFIRMED))).values(**values))
        return _rows(result) == 1


def _later(core: Core, delivery_id: int, attempt: int, exc: TryLater) -> RetryAt | None:
    """A definite "not delivered": try again with a backoff, or give up after the last
    attempt and tell the recipient in the bell."""
    now = core.now()
    with core.sessions.begin() as s:
        d = s.get(NotifyDelivery, delivery_id)
        if d is None or d.attempts != attempt or d.status not in (D.PENDING, D.SENDING):
            return DONE
        if attempt >= core.settings.max_attempts:
            _drop(s, d, exc, now, status=D.FAILED)
            return DONE
        d.status, d.error, d.updated_at = D.PENDING, _text(exc), now
    when = now + timedelta(seconds=backoff_seconds(attempt, base=RETRY_BASE, cap=RETRY_CAP,
                                                   retry_after=exc.retry_after))
    log.info("notification delivery %s: %s; again at %s", delivery_id, exc.message_en,
             when.isoformat())
    return RetryAt(when, exc.message_en)


def _drop(s: Session, d: NotifyDelivery, exc: DeliveryError, now: Any,
          status: str = D.DROPPED) -> None:
    """Give a delivery up for good, with a line in the recipient's bell saying why. A chat
    that is gone is unlinked (Telegram said so; the next message would fail the same way)."""
    d.status, d.error, d.updated_at = status, _text(exc), now
    user = s.get(User, d.user_id) if d.user_id is not None else None
    if d.channel == NotifyChannel.TELEGRAM and isinstance(exc, Gone) and user is not None:
        telegram_link.unlink_chat(s, user, now)
    log.warning("notification delivery %s %s: %s %s", d.id, status, exc.message_en, exc.detail)
    if user is not None and user.active:
        audit.record(s, UNDELIVERABLE, "user", user.id, unit_id=user.unit_id, at=now,
                     data={"delivery_id": d.id, "event_id": d.event_id, "kind": d.kind,
                           "channel": d.channel, "reason": exc.message_id,
                           "reason_en": exc.message_en})


def _text(exc: DeliveryError) -> str:
    return f"{exc.message_id} / {exc.message_en} ({exc.detail})" if exc.detail else \
        f"{exc.message_id} / {exc.message_en}"


def _rows(result: Any) -> int:
    return int(result.rowcount) if isinstance(result, CursorResult) else 0
