"""A real SMTP server for the tests (aiosmtpd on 127.0.0.1, a free port): it records every
message it accepts, and can refuse or defer recipients, break the connection during
``DATA``, or hold its reply to ``DATA`` (to kill a worker while it waits)."""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=default_policy)  # type: ignore[return-value]


@dataclass
class Recorder:
    """The server's behaviour, changed by tests between sends."""

    messages: list[Received] = field(default_factory=list)
    #: recipients refused for good (550) or for now (451)
    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    #: reply 451 to the next DATA this many times
    defer_data: int = 0
    #: record the message, then close the connection without replying
    drop_after_data: bool = False
    #: record the message, then wait for ``release`` before replying
    hold: bool = False
    release: threading.Event = field(default_factory=threading.Event)
    logins: list[tuple[str, str]] = field(default_factory=list)
    #: per accepted message: whether its session was encrypted (STARTTLS or SMTPS)
    encrypted: list[bool] = field(default_factory=list)

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return f"550 5.1.1 <{address}>: no such user here"
        if address in self.defer:
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.defer_data > 0:
            self.defer_data -= 1
            return "451 4.3.0 queue full, try again later"
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                      bytes(envelope.content)))
        self.encrypted.append(session.ssl is not None or server.transport.get_extra_info(
            "ssl_object") is not None)
        if self.drop_after_data:
            server.transport.close()
            return "421 closing"
        while self.hold and not self.release.is_set():
            await asyncio.sleep(0.05)
        return "250 2.0.0 accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SmtpServer:
    def __init__(self, *, user: str | None = None, password: str | None = None,
                 **tls: Any) -> None:
        """``tls``: aiosmtpd's own ``tls_context``/``require_starttls`` (STARTTLS) or
        ``ssl_context`` (TLS from the first byte, SMTPS)."""
        self.recorder = Recorder()
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if user is not None:
            def check(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
                ok = isinstance(data, LoginPassword) and (
                    data.login.decode(), data.password.decode()) == (user, password)
                if isinstance(data, LoginPassword):
                    self.recorder.logins.append((data.login.decode(), data.password.decode()))
                return AuthResult(success=ok, handled=False)
            kwargs = {"authenticator": check,
                      "auth_require_tls": bool(tls.get("tls_context"))}
        kwargs.update(tls)
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port,
                                     server_hostname="mail.test", ready_timeout=10, **kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.recorder.release.set()
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        return self.recorder.messages
