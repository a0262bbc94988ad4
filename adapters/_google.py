"""Google API plumbing for the YouTube adapter: error classification, token refresh, quota days.

Google errors arrive as ``{"error": {"code", "message", "errors": [{"domain", "reason"}]}}``;
the token endpoint answers ``{"error": "invalid_grant"}``. ``classify`` is the one place that
maps them to Warta's typed errors, keyed on ``reason``; a rate-limit or server error's wait
comes from its ``Retry-After`` header when Google sends one. YouTube's quota resets at
midnight Pacific time, so the quota day and the wait until the next one are computed in that
zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

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

PLATFORM = "youtube"
PACIFIC = ZoneInfo("America/Los_Angeles")
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded",
                          "concurrentLimitExceeded"})
AUTH_REASONS = frozenset({"authError", "invalid_grant", "unauthorized", "invalidCredentials",
                          "youtubeSignupRequired", "insufficientPermissions"})

AdapterErrorLike = RetryLater | AuthExpired | Rejected | OutcomeUnknown


def pacific_day(now: datetime) -> str:
    return now.astimezone(PACIFIC).date().isoformat()


def seconds_to_pacific_midnight(now: datetime) -> float:
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return max(60.0, (midnight - local).total_seconds())


def reason_of(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, str):  # token endpoint: {"error": "invalid_grant"}
        return error
    if isinstance(error, Mapping):
        errors = error.get("errors") or []
        if errors and isinstance(errors[0], Mapping):
            return str(errors[0].get("reason") or "")
        return str(error.get("status") or "")
    return ""


def message_of(body: Mapping[str, Any]) -> str:
    error = body.get("error")
    if isinstance(error, Mapping):
        return str(error.get("message") or "")
    return str(body.get("error_description") or error or "")


def quota_error(now: datetime, detail: str = "", status: int | None = None) -> RetryLater:
    wait = seconds_to_pacific_midnight(now)
    return RetryLater(
        PLATFORM,
        "Kuota harian YouTube API untuk akun ini habis. Warta mencoba lagi otomatis setelah "
        f"kuota direset (tengah malam waktu Pasifik, sekitar {wait / 3600:.0f} jam lagi).",
        "The daily YouTube API quota of this account is used up. Warta retries automatically "
        f"after the quota resets (midnight Pacific time, in about {wait / 3600:.0f} hours).",
        retry_after=wait, scope="channel", code="quota_exceeded", http_status=status,
        detail=detail)


def reserve_error(now: datetime) -> RetryLater:
    """Warta's own stop for a read or a reply that would spend the quota the next upload
    needs. Scoped to the job, not the channel: the upload that the reserve is kept for must
    not be held by it (a channel-wide wait pauses publishing too)."""
    wait = seconds_to_pacific_midnight(now)
    return RetryLater(
        PLATFORM,
        "Sisa kuota YouTube hari ini disimpan untuk unggahan video; membaca dan membalas "
        f"komentar dilanjutkan otomatis setelah kuota direset (sekitar {wait / 3600:.0f} jam "
        "lagi).",
        "Today's remaining YouTube quota is kept for video uploads; reading and answering "
        f"comments continues automatically after the quota resets (in about "
        f"{wait / 3600:.0f} hours).",
        retry_after=wait, scope="post", code="quota_reserved")


def classify(resp: requests.Response, *, stage: str, now: datetime,
             secrets: list[str]) -> AdapterErrorLike:
    """The error to raise for a non-2xx Google answer. ``stage`` "create" = final upload."""
    try:
        body = resp.json()
        if not isinstance(body, dict):
            body = {}
    except ValueError:
        body = {}
    status = resp.status_code
    reason = reason_of(body)
    detail = safe_detail(resp.text, secrets)
    said = safe_detail(message_of(body), secrets, limit=300)
    if reason in QUOTA_REASONS:
        return quota_error(now, detail, status)
    wait = retry_after_seconds(resp.headers.get("Retry-After"), now)
    when_id, when_en = wait_words(wait)
    if reason in RATE_REASONS or status == 429:
        return RetryLater(PLATFORM, f"YouTube membatasi permintaan; dicoba lagi otomatis{when_id}.",
                          f"YouTube is rate limiting; retrying automatically{when_en}.",
                          retry_after=wait, code="rate_limited", http_status=status,
                          detail=detail)
    if status == 401 or reason in AUTH_REASONS:
        return AuthExpired(
            PLATFORM,
            "Akses Warta ke kanal YouTube ini tidak berlaku lagi (izin dicabut atau kedaluwarsa). "
            "Sambungkan ulang akun YouTube.",
            "Warta's access to this YouTube channel is no longer valid (revoked or expired). "
            "Reconnect the YouTube account.",
            code="auth", http_status=status, detail=detail)
    if status >= 500:
        if stage == "create":
            return OutcomeUnknown(
                PLATFORM, "YouTube mengalami gangguan saat video selesai diunggah; belum pasti "
                "video sudah dibuat. Periksa YouTube Studio sebelum mengunggah ulang.",
                "YouTube failed as the upload finished; the video may or may not exist. Check "
                "YouTube Studio before uploading again.",
                code="server_error", http_status=status, detail=detail)
        return RetryLater(PLATFORM,
                          f"Gangguan sementara di YouTube; dicoba lagi otomatis{when_id}.",
                          f"Temporary YouTube failure; retrying automatically{when_en}.",
                          retry_after=wait, code="server_error", http_status=status,
                          detail=detail)
    return Rejected(PLATFORM, f"YouTube menolak unggahan: {said or reason}",
                    f"YouTube rejected the upload: {said or reason}",
                    code=reason or "rejected", http_status=status, detail=detail)
