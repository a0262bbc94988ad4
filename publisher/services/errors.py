"""Errors a use case reports to its caller (API, UI, CLI), each with a sentence for a person.

``fields`` maps an input field to its message, so a form or a JSON client can point at it.
Messages are Indonesian first; ``message_en`` is the English twin.
"""

from __future__ import annotations

from typing import Any


class Text(str):
    """A field message in Bahasa Indonesia (the string itself) with its English twin in
    ``en``: the UI shows one language at a time (a page used to show "ID / EN" together), and
    a JSON client or the CLI that reads it as a plain string gets the Indonesian."""

    en: str

    def __new__(cls, message: str, en: str) -> Text:
        text = super().__new__(cls, message)
        text.en = en
        return text


def in_english(fields: dict[str, str]) -> dict[str, str]:
    """The English side of each field message that has one."""
    return {k: getattr(v, "en", v) for k, v in fields.items()}


class ServiceError(Exception):
    """``audit``: keyword arguments of ``audit.record`` for a refusal that must stay in the
    audit log although the use case's transaction is rolled back (an attempt to point a
    channel at another account, say). The caller that rolls back records it afterwards
    (``keep_audit``)."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, message_en: str | None = None, *,
                 fields: dict[str, str] | None = None, code: str | None = None,
                 audit: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message
        self.fields = fields or {}
        self.audit = audit
        if code:
            self.code = code


class Invalid(ServiceError):
    status = 400
    code = "invalid"


class NotFound(ServiceError):
    """Also used for objects of another unit: they must look absent, not forbidden."""

    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    status = 409
    code = "conflict"
