"""The one place that turns an X API v2 response into a typed adapter error.

X answers with RFC 7807-style problems (``title``/``detail``/``type``/``status``) and, on some
endpoints, the legacy ``{"errors": [{"code": 88}]}`` body; ``type`` is matched by its suffix
because both ``api.twitter.com`` and ``api.x.com`` prefixes occur. Waits come from the rate-limit
headers (Unix epoch seconds), never from a fixed guess; a bare 429 or 5xx from a proxy in front
of X (an HTML page, no JSON, no ``x-rate-limit-*``) waits for its ``Retry-After`` when it has one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from adapters.errors import (
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    retry_after_seconds,
    safe_detail,
    wait_words,
)

PLATFORM = "x"
HOUR = 3600.0


def _problem_type(body: Mapping[str, Any]) -> str:
    return str(body.get("type") or "").rstrip("/").rsplit("/", 1)[-1]


def _legacy_codes(body: Mapping[str, Any]) -> set[int]:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return set()
    return {int(e["code"]) for e in errors
            if isinstance(e, dict) and str(e.get("code", "")).isdigit()}


def problem_detail(body: Mapping[str, Any]) -> str:
    """X's own sentence about what went wrong, for the operator."""
    if body.get("detail"):
        return str(body["detail"])
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("message") or errors[0].get("detail") or "")
    return str(body.get("title") or "")


def is_duplicate(status: int, body: Mapping[str, Any]) -> bool:
    # X has no machine code for duplicates in v2 (type is about:blank); the sentence is the
    # documented signal. Legacy code 187 is "Status is a duplicate".
    return (status == 403 and "duplicate content" in problem_detail(body).lower()) or (
        187 in _legacy_codes(body))


def classify(resp: requests.Response, *, stage: str, now: float, settings: Mapping[str, Any],
             secrets: list[str]) -> AdapterErrorLike:
    """Return the error to raise for a non-2xx ``resp``.

    ``stage`` is ``"create"`` for ``POST /2/tweets`` (a 5xx there means the outcome is unknown),
    ``"upload"`` or ``"read"`` otherwise.
    """
    try:
        body = resp.json()
        if not isinstance(body, dict):
            body = {}
    except ValueError:
        body = {}
    status = resp.status_code
    detail = safe_detail(resp.text, secrets)
    said = safe_detail(problem_detail(body), secrets, limit=300)
    kind = _problem_type(body)
    h = resp.headers
    # A proxy's 429/503 carries no x-rate-limit-* headers, only (sometimes) Retry-After.
    retry_after = retry_after_seconds(h.get("Retry-After"), datetime.fromtimestamp(now, UTC))
    if status == 402 or kind == "credits-depleted":
        hours = float(settings.get("credits_retry_hours") or 6)
        return RetryLater(
            PLATFORM,
            "Kredit API X untuk aplikasi ini habis. Admin perlu mengisi ulang kredit di "
            f"console.x.com; Warta mencoba lagi otomatis setiap {hours:g} jam.",
            "The X API credits of this app are used up. An admin must top up credits at "
            f"console.x.com; Warta retries automatically every {hours:g} hours.",
            retry_after=hours * HOUR, scope="channel", code="credits_depleted",
            http_status=status, detail=detail)
    if status == 429 and (kind == "usage-capped" or body.get("title") == "UsageCapExceeded"):
        hours = float(settings.get("usage_cap_retry_hours") or 24)
        return RetryLater(
            PLATFORM,
            f"Batas pemakaian API X ({body.get('period', 'periode ini')}) tercapai. Warta "
            f"mencoba lagi otomatis dalam {hours:g} jam; admin dapat menaikkan paket di "
            "console.x.com.",
            f"The X API usage cap ({body.get('period', 'this period')}) is reached. Warta "
            f"retries automatically in {hours:g} hours; an admin can raise the plan at "
            "console.x.com.",
            retry_after=hours * HOUR, scope="channel", code="usage_capped",
            http_status=status, detail=detail)
    if status == 429 or 88 in _legacy_codes(body):
        reset, scope = h.get("x-rate-limit-reset"), "post"
        if h.get("x-user-limit-24hour-remaining") == "0" and h.get("x-user-limit-24hour-reset"):
            reset, scope = h.get("x-user-limit-24hour-reset"), "channel"
        wait = max(1.0, float(reset) - now) if reset and reset.isdigit() else retry_after
        when_id, when_en = wait_words(wait)
        return RetryLater(
            PLATFORM, f"X membatasi permintaan; dicoba lagi otomatis{when_id or ' nanti'}.",
            f"X is rate limiting; retrying automatically{when_en or ' in a while'}.",
            retry_after=wait, scope=scope, code="rate_limited", http_status=status,
            detail=detail)
    if status == 401:
        return AuthExpired(
            PLATFORM,
            "Akses Warta ke akun X ini tidak berlaku lagi. Sambungkan ulang akun X.",
            "Warta's access to this X account is no longer valid. Reconnect the X account.",
            code="auth", http_status=status, detail=detail)
    if is_duplicate(status, body):
        return Rejected(
            PLATFORM,
            "X menolak unggahan karena isinya sama dengan unggahan lain yang baru terbit. Ubah "
            "teksnya bila memang ingin menerbitkan lagi.",
            "X refused the post because it duplicates a recent post. Change the text if you "
            "really want to publish it again.",
            code="duplicate", http_status=status, detail=detail)
    if status >= 500:
        if stage == "create":
            return OutcomeUnknown(
                PLATFORM,
                "X mengalami gangguan setelah unggahan dikirim; belum pasti sudah terbit.",
                "X failed after the post was sent; it may or may not be published.",
                code="server_error", http_status=status, detail=detail)
        when_id, when_en = wait_words(retry_after)
        return RetryLater(PLATFORM, f"Gangguan sementara di X; dicoba lagi otomatis{when_id}.",
                          f"Temporary X failure; retrying automatically{when_en}.",
                          retry_after=retry_after, code="server_error", http_status=status,
                          detail=detail)
    return Rejected(PLATFORM, f"X menolak unggahan: {said}", f"X rejected the post: {said}",
                    code=kind or "rejected", http_status=status, detail=detail)


AdapterErrorLike = RetryLater | AuthExpired | Rejected | OutcomeUnknown
