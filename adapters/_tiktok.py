"""TikTok Content Posting API plumbing: the one error classifier, the JSON caller, chunk rules.

Every TikTok answer is ``{"data": {...}, "error": {"code", "message", "log_id"}}`` and succeeds
only when ``error.code == "ok"`` (platform-apis-2.md §2). ``classify`` maps the documented codes
to Warta's typed errors (§2.6): rate limits per token and minute, the creator's daily cap
(``spam_risk_too_many_posts``: wait for the next day, the whole account), the app's daily
active-poster cap, auth problems (reconnect), and permanent refusals with TikTok's own words.
A bare status from a proxy (no envelope) is classified by its status alone, as everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from adapters.base import OutgoingPost, Problem
from adapters.errors import (
    AdapterError,
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    StartOver,
    retry_after_seconds,
    safe_detail,
    wait_words,
)

PLATFORM = "tiktok"
MiB = 1024 * 1024
#: Chunk rules of the media transfer guide (platform-apis-2.md §2.3).
MIN_CHUNK = 5 * MiB
MAX_CHUNK = 64 * MiB
MAX_LAST_CHUNK = 128 * MiB
MAX_CHUNKS = 1000
#: Privacy levels TikTok knows; which of them a creator may use comes from creator_info.
PRIVACY_LEVELS = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR",
                  "SELF_ONLY")
AUTH_CODES = frozenset({"access_token_invalid", "token_expired", "invalid_token"})
#: Caps that last the day: the creator's posts (``spam_risk_too_many_posts``) and the app's
#: active posters (``reached_active_user_cap``).
DAILY_CAPS = frozenset({"spam_risk_too_many_posts", "reached_active_user_cap"})
#: Per-token windows are a minute long (init 6/min, status 30/min, creator_info 20/min).
RATE_WAIT = 60.0


def seconds_to_next_day(now: datetime) -> float:
    """Until the next UTC midnight, at least an hour: TikTok does not say when its daily caps
    reset (UNCONFIRMED: rolling 24 h or calendar day), and retrying sooner only burns attempts."""
    midnight = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1),
                                datetime.min.time(), UTC)
    return max(3600.0, (midnight - now).total_seconds())


def chunk_plan(size: int, preferred: int) -> tuple[int, int]:
    """``(chunk_size, total_chunk_count)`` for a FILE_UPLOAD of ``size`` bytes.

    TikTok's rules: a video under 5 MB, or one that fits in one chunk, is sent whole
    (``chunk_size = video_size``); otherwise every chunk is 5–64 MB, the count is
    ``floor(size / chunk_size)`` (1–1000) and the last chunk takes the remainder (< 128 MB)."""
    if size <= 0:
        raise ValueError("empty video")
    chunk = min(max(preferred, MIN_CHUNK), MAX_CHUNK)
    if size < MIN_CHUNK or size <= chunk:
        return size, 1
    if size // chunk > MAX_CHUNKS:
        chunk = -(-size // MAX_CHUNKS)
    return chunk, size // chunk


def chunk_ranges(size: int, chunk: int, count: int) -> list[tuple[int, int]]:
    """``(offset, length)`` of each chunk: all ``chunk`` long but the last (the remainder)."""
    out = [(i * chunk, chunk) for i in range(count - 1)]
    out.append(((count - 1) * chunk, size - (count - 1) * chunk))
    return out


def envelope_error(body: Any) -> dict[str, Any]:
    """The ``error`` object of a TikTok answer when it is not ``ok``; ``{}`` otherwise."""
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = dict(body["error"])
        if str(err.get("code") or "ok") != "ok":
            return err
    return {}


def classify(resp: requests.Response, *, stage: str, now: datetime,
             secrets: Iterable[str] = ()) -> AdapterError:
    """The typed error for a failed TikTok answer. ``stage="create"``: this answered the call
    that makes the post (the last chunk, a photo post's init), so a 5xx there is unknown."""
    try:
        err = envelope_error(resp.json())
    except ValueError:
        err = {}
    secrets = list(secrets)
    status = resp.status_code
    code = str(err.get("code") or "")
    said = safe_detail(str(err.get("message") or resp.reason or "").strip(), secrets, limit=300)
    kw: dict[str, Any] = {"detail": safe_detail(resp.text, secrets), "http_status": status}
    wait = retry_after_seconds(resp.headers.get("Retry-After"), now)
    when_id, when_en = wait_words(wait)

    if stage == "create" and status >= 500:
        return OutcomeUnknown(
            PLATFORM, "TikTok mengalami gangguan setelah unggahan dikirim; belum pasti sudah "
            "terbit. Warta memeriksa akun sebelum mencoba lagi.",
            "TikTok failed after the post was sent; it may or may not be published. Warta "
            "checks the account before trying again.", code="server_error_after_send", **kw)
    if code in DAILY_CAPS:
        day = seconds_to_next_day(now)
        who_id, who_en = (("akun ini", "this account") if code == "spam_risk_too_many_posts"
                          else ("aplikasi Warta", "Warta's app"))
        return RetryLater(
            PLATFORM, f"TikTok membatasi jumlah unggahan harian {who_id}; penayangan dilanjutkan "
            "otomatis besok.", f"TikTok's daily posting cap for {who_en} is reached; publishing "
            "resumes automatically tomorrow.", retry_after=day, scope="channel", code=code, **kw)
    if code == "rate_limit_exceeded" or status == 429:
        wait = wait or RATE_WAIT
        when_id, when_en = wait_words(wait)
        return RetryLater(PLATFORM, f"TikTok membatasi permintaan; dicoba lagi otomatis{when_id}.",
                          f"TikTok is rate-limiting requests; retrying automatically{when_en}.",
                          retry_after=wait, scope="channel", code="rate_limited", **kw)
    if code == "scope_not_authorized":
        return AuthExpired(
            PLATFORM, "Izin TikTok untuk Warta kurang (misalnya video.publish). Sambungkan ulang "
            "akun dan setujui semua izin yang diminta.", "Warta lacks a TikTok permission (such "
            "as video.publish). Reconnect the account and grant every permission asked for.",
            code="scope_not_authorized", **kw)
    if code in AUTH_CODES or status == 401:
        return AuthExpired(
            PLATFORM, "Token TikTok sudah tidak berlaku (kedaluwarsa atau dicabut). Sambungkan "
            "ulang akun TikTok.", "The TikTok token no longer works (expired or revoked). "
            "Reconnect the TikTok account.", code="auth_expired", **kw)
    if code == "unaudited_client_can_only_post_to_private_accounts":
        return Rejected(
            PLATFORM, "Aplikasi TikTok kantor ini belum lolos audit TikTok, jadi hanya boleh "
            "mengunggah dengan privasi 'Hanya saya' (SELF_ONLY). Pilih privasi itu, atau minta "
            "admin mengajukan audit aplikasi.", "This office's TikTok app has not passed "
            "TikTok's audit, so it may only post as 'Only me' (SELF_ONLY). Choose that privacy, "
            "or ask the admin to apply for the app audit.", code="unaudited_app", **kw)
    if code == "url_ownership_unverified":
        return Rejected(
            PLATFORM, "TikTok menolak mengambil foto dari alamat Warta karena domain "
            "WARTA_PUBLIC_URL belum diverifikasi di TikTok for Developers. Minta admin "
            "memverifikasinya (lihat panduan kredensial).", "TikTok refused to fetch the photos "
            "from Warta because the WARTA_PUBLIC_URL domain is not verified in TikTok for "
            "Developers. Ask the admin to verify it (see the credentials guide).",
            code="url_ownership_unverified", **kw)
    if code == "privacy_level_option_mismatch":
        return Rejected(
            PLATFORM, "Pilihan privasi ini tidak diizinkan TikTok untuk akun ini (lagi). Pilih "
            "ulang privasi di pengaturan TikTok unggahan.", "TikTok does not (or no longer) "
            "allow this privacy level for this account. Choose the privacy again in the post's "
            "TikTok settings.", code=code, **kw)
    if code == "spam_risk_user_banned_from_posting":
        return Rejected(
            PLATFORM, "TikTok melarang akun ini mengunggah untuk sementara. Periksa notifikasi di "
            "aplikasi TikTok.", "TikTok has banned this account from posting for now. Check the "
            "notifications in the TikTok app.", code=code, **kw)
    if status >= 500 or (not err and status >= 400 and status not in (400, 401)):
        return RetryLater(PLATFORM, f"Gangguan sementara di TikTok; dicoba lagi otomatis{when_id}.",
                          f"Temporary failure at TikTok; retrying automatically{when_en}.",
                          retry_after=wait, code="server_error", **kw)
    return Rejected(PLATFORM, f"TikTok menolak unggahan ini: {said or code or 'tanpa keterangan'}.",
                    f"TikTok rejected this post: {said or code or 'no explanation given'}.",
                    code=code or "invalid_param", **kw)


def network_error(exc: Exception, *, stage: str, secrets: Iterable[str]) -> AdapterError:
    """A timeout or a dropped connection: unknown after the call that makes the post."""
    detail = safe_detail(f"{type(exc).__name__}: {exc}", list(secrets))
    if stage == "create":
        return OutcomeUnknown(
            PLATFORM, "Koneksi ke TikTok terputus setelah unggahan dikirim; belum pasti sudah "
            "terbit. Warta memeriksa akun sebelum mencoba lagi.", "The connection to TikTok "
            "broke after the post was sent; it may or may not be published. Warta checks the "
            "account before trying again.", code="timeout", detail=detail)
    return RetryLater(PLATFORM, "TikTok tidak dapat dihubungi; dicoba lagi otomatis.",
                      "TikTok could not be reached; retrying automatically.", code="network",
                      detail=detail)


def privacy_options(info: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The privacy levels creator_info last allowed (cached in the channel state), or None
    when TikTok was never asked (the channel predates the cache, or the answer was empty)."""
    found = (info or {}).get("privacy_level_options")
    if not isinstance(found, list | tuple):
        return None
    options = tuple(str(p) for p in found if p)
    return options or None


def private_only(info: Mapping[str, Any] | None) -> bool:
    """True when the creator may post as "Only me" and nothing else: what TikTok answers for
    an app that has not passed its audit ("all content posted by unaudited clients will be
    restricted to private viewing mode", platform-apis-2.md §2.6), and the only sign of it
    before a post is refused with ``unaudited_client_can_only_post_to_private_accounts``."""
    return set(privacy_options(info) or ()) == {"SELF_ONLY"}


def rule_problems(post: OutgoingPost, info: dict[str, Any] | None) -> list[Problem]:
    """What the creator's rules (creator_info) say against this post: a privacy level not
    chosen or not allowed, a video longer than the account may post."""
    problems: list[Problem] = []
    privacy = post.options.get("privacy_level")
    allowed = list(privacy_options(info) or PRIVACY_LEVELS)
    if not privacy:
        problems.append(Problem(
            "options", "privacy_required",
            "Pilih siapa yang boleh melihat unggahan TikTok ini (privasi). TikTok "
            f"mewajibkan pilihan dari operator; untuk akun ini: {', '.join(allowed)}.",
            "Choose who may see this TikTok post (privacy). TikTok requires the operator "
            f"to choose; for this account: {', '.join(allowed)}."))
    elif privacy not in allowed:
        problems.append(Problem(
            "options", "privacy_not_allowed",
            f"Privasi {privacy} tidak diizinkan TikTok untuk akun ini; pilih salah satu: "
            f"{', '.join(allowed)}.",
            f"TikTok does not allow privacy {privacy} for this account; choose one of: "
            f"{', '.join(allowed)}."))
    limit = (info or {}).get("max_video_post_duration_sec")
    for m in post.media:
        if m.kind == "video" and isinstance(limit, int | float) and m.duration \
                and m.duration > limit:
            problems.append(Problem(
                "media", "video_too_long",
                f"Akun TikTok ini hanya boleh mengunggah video sampai {limit:.0f} detik "
                f"(video ini {m.duration:.0f} detik).",
                f"This TikTok account may post videos up to {limit:.0f} s (this one is "
                f"{m.duration:.0f} s)."))
    return problems


def failed_error(st: dict[str, Any]) -> AdapterError:
    """A ``FAILED`` status: dropped by the daily cap starts over (the init then waits for the
    next day); any other reason is final, in TikTok's words."""
    reason = str(st.get("fail_reason") or "unknown")
    if reason.startswith("spam_risk_too_many"):
        return StartOver(PLATFORM, "TikTok membatalkan unggahan karena batas harian akun; "
                         "dikirim ulang otomatis.", "TikTok dropped the post because of "
                         "the account's daily cap; it will be sent again automatically.",
                         code=reason, detail=str(st))
    return Rejected(PLATFORM, f"TikTok gagal memproses unggahan ({reason}). Periksa format, "
                    "durasi, ukuran dan frame rate berkas.", f"TikTok failed to process "
                    f"the post ({reason}). Check the file's format, duration, size and "
                    "frame rate.", code=reason[:40], detail=str(st))
