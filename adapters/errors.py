"""Typed adapter errors: each one tells the worker *what to do next*, and the operator why.

A bare ``bool`` or a generic exception cannot say whether to retry, re-authorise or give up, so
every failure an adapter reports is one of these four kinds (plus ``NotSupported`` for a
capability the platform lacks). Each carries a message in Bahasa Indonesia and in English,
written for the operator, and a ``detail`` (the platform's own response) cut to a safe length
with secrets removed, for the publish-attempt log.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

DETAIL_LIMIT = 2000

_SECRET_PATTERNS = [
    # Bearer first, so "Authorization: Bearer x" loses the token, not the word "Bearer".
    re.compile(r"(Bearer\s+)([A-Za-z0-9._~+/=-]+)", re.I),
    # Telegram's /bot<token>/ path: whatever the token looks like (pasted with a "bot"
    # prefix, or with a "."), the whole path segment goes.
    re.compile(r"(/bot)([^/\s?#\"']+)"),
    re.compile(r"(access_token|refresh_token|client_secret|password|token|sessionid|"
               r"authorization|api_key|secret)([\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)"
               r"([^\s\"'&,}]+)", re.I),
]


#: Names of credential fields whose values are secrets (matched anywhere in the key).
_SECRET_KEY = re.compile(r"token|secret|password|passwd|session|cookie|key|auth|bearer|"
                         r"csrf|signature|pin|credential", re.I)
#: The secret values of every channel this process has built an adapter for: redaction by
#: value catches a token in any shape, wherever it is echoed (a URL, an exception, a log line).
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
_KNOWN_MAX = 10_000


def secret_values(credentials: Mapping[str, Any] | Any, declared: Iterable[str] = (),
                  *, everything: bool = False) -> set[str]:
    """The secret strings in a channel's credentials: values of the fields the adapter
    declares secret or whose name says so (token, secret, password, session, cookie …), nested
    values included; with ``everything`` every string in them (for echoing the caller's own
    input back in an error)."""
    declared = set(declared)
    found: set[str] = set()

    def walk(value: Any, secret: bool) -> None:
        if isinstance(value, str):
            if secret and len(value.strip()) >= 4:
                found.add(value)
                found.add(value.strip())
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, secret or str(k) in declared or bool(_SECRET_KEY.search(str(k))))
        elif isinstance(value, list | tuple | set):
            for v in value:
                walk(v, secret)
        elif value is not None and secret and not isinstance(value, bool | int | float):
            walk(str(value), secret)

    walk(credentials, everything)
    return found


def remember_secrets(values: Iterable[str]) -> None:
    """Redact these values from everything ``redact`` sees from now on (this process)."""
    with _KNOWN_LOCK:
        if len(_KNOWN) > _KNOWN_MAX:
            _KNOWN.clear()
        _KNOWN.update(v for v in values if v and len(v) >= 4)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secret values and anything shaped like a credential from ``text``."""
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)
    for secret in [*sorted(secrets, key=len, reverse=True), *known]:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + (m.group(2) if m.lastindex == 3 else "") + "***",
                           text)
    return text


def safe_detail(text: str | bytes | None, secrets: Iterable[str] = (),
                limit: int = DETAIL_LIMIT) -> str:
    """A platform response made safe to store and show: secrets removed, length capped."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = redact(text, secrets)
    return text if len(text) <= limit else text[:limit] + "…"


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A ``Retry-After`` header (RFC 9110 §10.2.3) as seconds from ``now``: either
    delay-seconds (``120``) or an HTTP-date (``Thu, 01 Oct 2026 12:05:00 GMT``). None when
    absent or unreadable: the queue's backoff decides then. A date already past waits 1 s.

    Shared by every adapter: a proxy or load balancer in front of a platform answers a bare
    429 or 503 with this header and no platform error body, so it is the only wait there is.
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": an HTTP-date is always GMT
        when = when.replace(tzinfo=UTC)
    return max(1.0, (when - now).total_seconds())


def wait_words(wait: float | None) -> tuple[str, str]:
    """' dalam 2 menit' / ' in 2 minutes' for a known wait, nothing otherwise."""
    if wait is None:
        return "", ""
    if wait < 90:
        return f" dalam {wait:.0f} detik", f" in {wait:.0f} seconds"
    return f" dalam {wait / 60:.0f} menit", f" in {wait / 60:.0f} minutes"


class AdapterError(Exception):
    """Base of every error an adapter raises on purpose.

    ``message_id`` / ``message_en`` are for the operator (what happened, what to do);
    ``detail`` is the platform's response for the attempt log; ``code`` is a short
    machine-readable reason (``"duplicate"``, ``"invalid_media"``, ``"rate_limited"`` …).
    """

    kind: str = "error"

    def __init__(self, platform: str, message_id: str, message_en: str, *, detail: str = "",
                 code: str = "", http_status: int | None = None) -> None:
        super().__init__(message_en)
        self.platform = platform
        self.message_id = message_id
        self.message_en = message_en
        self.detail = safe_detail(detail)
        self.code = code
        self.http_status = http_status

    def message(self, locale: str = "id") -> str:
        return self.message_id if locale.startswith("id") else self.message_en

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.platform!r}, {self.code!r}, {self.message_en!r})"


class RetryLater(AdapterError):
    """The platform asked us to wait; nothing was published.

    ``retry_after`` is seconds from now (``None``: use the queue's backoff). ``scope`` is
    ``"post"`` for an ordinary transient failure or ``"channel"`` when the whole account must
    wait (daily quota spent, credits depleted, feedback_required): the worker then pauses every
    publication of the channel until ``retry_after`` instead of retrying each one every minute.
    """

    kind = "retry"

    def __init__(self, platform: str, message_id: str, message_en: str, *,
                 retry_after: float | None = None, scope: str = "post", **kw: object) -> None:
        super().__init__(platform, message_id, message_en, **kw)  # type: ignore[arg-type]
        if scope not in ("post", "channel"):
            raise ValueError(f"scope must be 'post' or 'channel', not {scope!r}")
        self.retry_after = retry_after
        self.scope = scope


class AuthExpired(AdapterError):
    """The credentials no longer work; a person must reconnect the account.

    The worker tries ``refresh()`` once; if that fails the channel becomes ``needs_reauth`` and
    its publications wait (they do not fail) until it is reconnected.
    """

    kind = "auth"


class Rejected(AdapterError):
    """The platform refused this post for good (invalid media, policy, duplicate). Never retried."""

    kind = "rejected"


class OutcomeUnknown(AdapterError):
    """The create call was sent but we do not know whether the platform took it.

    Raised for a timeout or 5xx *after* the irreversible request. The worker must not publish
    again blindly: it reconciles through ``lookup`` or marks the publication ``unconfirmed``.
    """

    kind = "unknown"


class StartOver(AdapterError):
    """Nothing was published, and the platform-side work must begin again (an expired media
    container, processing that never finished). Raised by ``poll``: the worker re-queues the
    publication from the start instead of polling a container that can no longer succeed."""

    kind = "start_over"


class NotSupported(AdapterError):
    """The platform cannot do this at all (e.g. Telegram bots cannot list a channel's posts)."""

    kind = "unsupported"


class CredentialFieldError(AuthExpired):
    """One credential field is malformed before anything is sent (a 2FA key that is not
    base32, say). Naming the field lets the connect form put the message beside it instead of
    blaming the platform or the media for a typo; while publishing it is what it is for the
    worker: the channel needs reconnecting."""

    def __init__(self, platform: str, field: str, message_id: str, message_en: str) -> None:
        super().__init__(platform, message_id, message_en, code="malformed_credentials")
        self.field = field


__all__ = ["AdapterError", "AuthExpired", "CredentialFieldError", "NotSupported",
           "OutcomeUnknown", "Rejected", "RetryLater", "StartOver", "redact", "remember_secrets",
           "retry_after_seconds", "safe_detail", "secret_values", "wait_words"]
