"""Sending one e-mail over SMTP, with every failure classified for the delivery loop.

The conversation is taken step by step (connect, TLS, login, ``MAIL``, ``RCPT``, then
``DATA``) rather than with ``send_message``, because only ``DATA`` is irreversible:
``begin()`` is called between ``RCPT`` and ``DATA`` and commits "sending"; a failure before it
is certainly not a delivery (try later, or drop on a permanent ``RCPT`` refusal), a definite
reply to ``DATA`` is a definite answer, and a broken connection after it is ``Unknown``.

The password goes to ``login`` and nowhere else: errors carry the server's code and a short
text, never the credentials (smtplib's own debug output is never switched on).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from publisher.config import SmtpSettings
from publisher.notify.errors import Gone, Lost, TryLater, Unknown


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"[:300]


def _certificate(exc: ssl.SSLCertVerificationError) -> TryLater:
    """The server's certificate was refused: a configuration problem, named as one (an
    expired, self-signed or wrongly named certificate, or a missing ``WARTA_SMTP_CA_FILE``)."""
    reason = str(getattr(exc, "verify_message", "") or exc.reason or exc)
    return TryLater("Sertifikat TLS server e-mail tidak diterima "
                    f"({reason}); periksa WARTA_SMTP_HOST dan WARTA_SMTP_CA_FILE.",
                    f"The e-mail server's TLS certificate was not accepted ({reason}); check "
                    "WARTA_SMTP_HOST and WARTA_SMTP_CA_FILE.", f"SSLCertVerificationError: "
                    f"{reason}"[:300])


def _tls(exc: Exception) -> TryLater:
    return TryLater("Sambungan TLS ke server e-mail gagal; periksa WARTA_SMTP_SECURITY dan "
                    "WARTA_SMTP_PORT.",
                    "The TLS connection to the e-mail server failed; check "
                    "WARTA_SMTP_SECURITY and WARTA_SMTP_PORT.",
                    f"{type(exc).__name__}: {exc}"[:300])


def _away(exc: BaseException) -> TryLater:
    return TryLater("Server e-mail tidak dapat dihubungi; dicoba lagi nanti.",
                    "The e-mail server could not be reached; trying again later.",
                    f"{type(exc).__name__}: {exc}"[:300])


class SmtpNotifier:
    """One connection per message: notifications are few, and a fresh connection never
    carries a previous message's half-finished state."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        # Certificates and host names are always checked; an office's own authority is
        # trusted through WARTA_SMTP_CA_FILE, never by switching the check off.
        context = ssl.create_default_context(cafile=s.ca_file or None)
        if s.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                  context=context)
        else:
            conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            conn.ehlo()
            if s.security == "starttls":
                try:
                    conn.starttls(context=context)
                except smtplib.SMTPNotSupportedError as exc:
                    raise _tls(exc) from None
                conn.ehlo()
            if s.user:
                self._login(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def _login(self, conn: smtplib.SMTP) -> None:
        """Log in; the password goes to smtplib and nowhere else (not into any error)."""
        s = self.settings
        try:
            conn.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            raise TryLater("Server e-mail menolak login Warta; periksa WARTA_SMTP_USER dan "
                           "WARTA_SMTP_PASSWORD.",
                           "The e-mail server refused Warta's login; check "
                           "WARTA_SMTP_USER and WARTA_SMTP_PASSWORD.",
                           _reply(exc.smtp_code, exc.smtp_error)) from None
        except smtplib.SMTPNotSupportedError:
            raise TryLater("Server e-mail tidak menawarkan login (AUTH); periksa "
                           "WARTA_SMTP_SECURITY dan WARTA_SMTP_USER.",
                           "The e-mail server offers no login (AUTH); check "
                           "WARTA_SMTP_SECURITY and WARTA_SMTP_USER.") from None

    def send(self, msg: EmailMessage, to: str, begin: Callable[[], bool]) -> None:
        """Deliver ``msg`` to ``to``. ``begin()`` must commit "sending" and say whether this
        run may go on (``False``: another run got there first, raise ``Lost``)."""
        try:
            conn = self._connect()
        except TryLater:
            raise
        except ssl.SSLCertVerificationError as exc:
            raise _certificate(exc) from None
        except ssl.SSLError as exc:
            raise _tls(exc) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _away(exc) from None
        try:
            self._envelope(conn, to)
            if not begin():
                raise Lost()
            self._data(conn, msg)
        finally:
            try:
                conn.quit()
            except (OSError, smtplib.SMTPException):
                conn.close()

    def _envelope(self, conn: smtplib.SMTP, to: str) -> None:
        try:
            code, text = conn.mail(self.settings.sender)
            if code != 250:
                raise TryLater("Server e-mail menolak pengirim; dicoba lagi nanti.",
                               "The e-mail server refused the sender; trying again later.",
                               _reply(code, text))
            code, text = conn.rcpt(to)
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            raise _away(exc) from None
        if code in (250, 251):
            return
        if 500 <= code < 600:
            raise Gone("Alamat e-mail ini ditolak server penerima.",
                       "The receiving server refused this e-mail address.", _reply(code, text))
        raise TryLater("Server e-mail menunda penerima; dicoba lagi nanti.",
                       "The e-mail server deferred the recipient; trying again later.",
                       _reply(code, text))

    def _data(self, conn: smtplib.SMTP, msg: EmailMessage) -> None:
        try:
            code, reply = conn.data(msg.as_bytes(policy=SMTP_POLICY))
            if code != 250:  # smtplib raises only for the reply to DATA itself, not the last
                raise smtplib.SMTPDataError(code, reply)
        except smtplib.SMTPDataError as exc:  # a definite reply: the message was not taken
            if 500 <= exc.smtp_code < 600:
                raise Gone("Server e-mail menolak pesan ini.",
                           "The e-mail server refused this message.",
                           _reply(exc.smtp_code, exc.smtp_error)) from None
            raise TryLater("Server e-mail menunda pesan ini; dicoba lagi nanti.",
                           "The e-mail server deferred this message; trying again later.",
                           _reply(exc.smtp_code, exc.smtp_error)) from None
        except (TimeoutError, OSError, smtplib.SMTPException) as exc:
            raise Unknown("Sambungan ke server e-mail putus saat pesan dikirim; pesan mungkin "
                          "sudah terkirim dan tidak dikirim ulang.",
                          "The connection to the e-mail server broke while the message was "
                          "handed over; it may have arrived and is not sent again.",
                          f"{type(exc).__name__}: {exc}"[:300]) from None
