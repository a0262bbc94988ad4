"""Logging that cannot leak secrets: every line, traceback included, passes through the same
redaction the adapters use for platform responses (tokens in URLs, bearer headers, passwords)."""

from __future__ import annotations

import logging

from adapters.errors import redact


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
