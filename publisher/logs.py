"""Logging that cannot leak secrets: every line, traceback included, passes through the same
redaction the adapters use for platform responses (tokens in URLs, bearer headers, passwords)."""

from __future__ import annotations

import logging

from adapters.errors import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _Redacted(logging.Formatter):
    """Another formatter's output, redacted: for handlers someone else set up (gunicorn's,
    Flask's default) whose format we keep."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def redact_existing_handlers(*loggers: logging.Logger) -> None:
    """Route every handler of the root logger and of ``loggers`` through the redaction.

    ``warta`` commands configure logging themselves (``configure_logging``); an app started
    by another server (``gunicorn 'web.app:create_app()'``) logs through handlers that server
    installed, which would print a token in a urllib3 debug line or a traceback as it is.
    Handlers added after this call are not covered: configure logging before creating the app.
    """
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            if not isinstance(handler.formatter, RedactingFormatter | _Redacted):
                handler.setFormatter(_Redacted(handler.formatter))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs two INFO lines a second (every tick), burying what an operator needs:
    # the URL, the demo accounts and one line per publication outcome.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
