"""Logging that cannot leak secrets: every line, traceback included, passes through the same
redaction the adapters use for platform responses (tokens in URLs, bearer headers, passwords).

Lines are text by default, or one JSON object per line (``WARTA_LOG_FORMAT=json``) for a log
collector (journald, Loki, Elasticsearch); the JSON fields are redacted one by one, before
encoding, so JSON's escaping cannot hide a token from the patterns.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from adapters.errors import redact

#: A LogRecord's own attributes; anything else on a record came from ``extra=``.
_RECORD_FIELDS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName"}


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, and the
    traceback and any ``extra=`` fields, each redacted."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info:
            out["exc_info"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            out["stack_info"] = redact(self.formatStack(record.stack_info))
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in out:
                out[key] = value if isinstance(value, bool | int | float) or value is None \
                    else redact(str(value))
        return json.dumps(out, ensure_ascii=False)


class _Redacted(logging.Formatter):
    """Another formatter's output, redacted: for handlers someone else set up (gunicorn's,
    Flask's default) whose format we keep."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact(self.inner.format(record))


def redact_existing_handlers(*loggers: logging.Logger, json_lines: bool = False) -> None:
    """Route every handler of the root logger and of ``loggers`` through the redaction.

    ``warta`` commands configure logging themselves (``configure_logging``); an app started
    by another server (``gunicorn 'web.app:create_app()'``) logs through handlers that server
    installed, which would print a token in a urllib3 debug line or a traceback as it is.
    Handlers added after this call are not covered: configure logging before creating the app.
    With ``json_lines`` their lines become JSON objects too, so one collector reads them all.
    """
    for logger in (logging.getLogger(), *loggers):
        for handler in logger.handlers:
            if json_lines:
                if not isinstance(handler.formatter, JsonFormatter):
                    handler.setFormatter(JsonFormatter())
            elif not isinstance(handler.formatter, RedactingFormatter | _Redacted | JsonFormatter):
                handler.setFormatter(_Redacted(handler.formatter))


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    """The root logger of a ``warta`` command: one redacted stream, text or JSON lines."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # APScheduler logs two INFO lines a second (every tick), burying what an operator needs:
    # the URL, the demo accounts and one line per publication outcome.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
