"""Shared Meta Graph API plumbing for the Facebook Page and Instagram (official) adapters.

Both platforms speak the same Graph error envelope (``{"error": {"code", "error_subcode",
"message", "error_user_msg", "is_transient"}}``) and the same usage headers, so the decision
"retry, re-authorise, give up or reconcile" lives here, in ONE function (``classify``), keyed on
Meta's codes and headers — never on substrings of messages.

The token travels in the ``Authorization: Bearer`` header rather than the ``access_token``
parameter so that it never appears in a URL, a proxy log or an error detail.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from adapters._stream import StreamingMultipart
from adapters.base import API_USAGE
from adapters.errors import (
    AdapterError,
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    retry_after_seconds,
    safe_detail,
    wait_words,
)

#: Throttling codes (reference §1.6/§1.7): app, user, Page, custom, app-limit, Pages/IG BUC.
THROTTLE_CODES = frozenset({4, 17, 32, 341, 613, 80001, 80002, 80005, 80006, 80008})
#: Token problems: expired/revoked (190 family), API session expired (102).
AUTH_CODES = frozenset({190, 102})
#: Missing permission (3, 10, 200–299): fixable only by reconnecting with the right scopes.
PERMISSION_CODES = frozenset({3, 10, *range(200, 300)})
#: Media the platform could not take (bad image, unreachable video URL, upload problem, size).
MEDIA_CODES = frozenset({324, 352, 382, 389, 6000, 36000, 36001, 36003, 36004})
DUPLICATE_CODES = frozenset({506})
DUPLICATE_SUBCODES = frozenset({1366051})
#: 459/464: the person must act on facebook.com (checkpoint, unconfirmed account).
USER_ACTION_SUBCODES = frozenset({459, 464})
#: Instagram container / publishing subcodes (reference §2.8).
IG_NOT_READY = (9007, 2207027)
IG_QUOTA = (9, 2207042)
IG_RETRY_SUBCODES = frozenset({2207001, 2207003, 2207020, 2207032, 2207053})
IG_SPAM_SUBCODE = 2207051
POLICY_BLOCK = 368
FAST_POSTING_SUBCODE = 1390008
#: Wait when Meta throttles but the headers give no estimate (reference: "backoff ≥ 15 min").
DEFAULT_THROTTLE_WAIT = 900.0
#: Wait for a policy block (368) or a spam restriction: long, and for the whole channel.
DEFAULT_BLOCK_WAIT = 6 * 3600.0


def usage_wait_seconds(headers: Mapping[str, str]) -> float | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) in Meta's usage headers, in s.

    ``X-Business-Use-Case-Usage`` maps business ids to lists of usage objects; ``X-App-Usage``
    and ``X-Page-Usage`` are flat objects. Unparseable headers are ignored (they are advisory).
    """
    minutes: list[float] = []
    for entry in _usage_entries(headers):
        value = entry.get("estimated_time_to_regain_access")
        if isinstance(value, int | float) and value > 0:
            minutes.append(float(value))
    return max(minutes) * 60.0 if minutes else None


def usage_percent(headers: Mapping[str, str]) -> float | None:
    """The highest usage percentage in Meta's usage headers (any of ``call_count``,
    ``total_cputime``, ``total_time`` of any entry), 100 for an entry already throttled
    (``estimated_time_to_regain_access`` > 0); None when no header is readable."""
    pcts: list[float] = []
    for entry in _usage_entries(headers):
        for key in ("call_count", "total_cputime", "total_time"):
            value = entry.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                pcts.append(float(value))
        regain = entry.get("estimated_time_to_regain_access")
        if isinstance(regain, int | float) and regain > 0:
            pcts.append(100.0)
    return max(pcts) if pcts else None


def _usage_entries(headers: Mapping[str, str]) -> list[dict[str, Any]]:
    """The usage objects of every usage header (the BUC header's lists flattened)."""
    out: list[dict[str, Any]] = []
    for name in ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage",
                 "X-Ad-Account-Usage"):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
            out.extend(e for value in data.values() for e in value if isinstance(e, dict))
        elif isinstance(data, dict):
            out.append(data)
    return out


def record_usage(state: MutableMapping[str, Any], headers: Mapping[str, str],
                 now: datetime) -> None:
    """Keep the usage Meta reported on the channel's last call in its state
    (``adapters.base.API_USAGE``: ``{"pct", "at", "regain_s"}``), for comment collection's
    headroom guard (``publisher/worker/comments.py``). Nothing is kept from a call without
    readable headers: the last known figure stays."""
    pct = usage_percent(headers)
    if pct is None:
        return
    state[API_USAGE] = {"pct": round(pct, 1), "at": now.isoformat(),
                        "regain_s": usage_wait_seconds(headers) or 0.0}


def error_body(resp: requests.Response) -> dict[str, Any]:
    """The ``error`` object of a Graph response, or ``{}`` when there is none."""
    try:
        data = resp.json()
    except ValueError:
        return {}
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return data["error"]
    return {}


def classify(platform: str, resp: requests.Response, *, after_create: bool,
             secrets: Iterable[str] = ()) -> AdapterError:
    """Turn one failed Graph response into the typed error that tells the worker what to do.

    ``after_create`` says whether this response answers the irreversible call (the feed post,
    a published photo/video, ``media_publish``): a 5xx there means nobody knows whether the
    post exists, so it is ``OutcomeUnknown`` and the worker reconciles instead of retrying.
    """
    err = error_body(resp)
    code = _int(err.get("code"))
    sub = _int(err.get("error_subcode"))
    status = resp.status_code
    secrets = list(secrets)
    # Meta's own words reach the operator: cleaned like the detail (an error can echo a token).
    meta_msg = safe_detail(str(err.get("error_user_msg") or err.get("message") or resp.reason
                               or "").strip(), secrets, limit=300)
    detail = safe_detail(resp.text, secrets)
    kw: dict[str, Any] = {"detail": detail, "http_status": status}

    if after_create and status >= 500:
        return OutcomeUnknown(
            platform,
            "Meta mengalami gangguan setelah unggahan dikirim; belum pasti sudah terbit. "
            "Warta akan memeriksa halaman/akun sebelum mencoba lagi.",
            "Meta failed after the post was sent; it may or may not be published. "
            "Warta will check the account before trying again.",
            code="server_error_after_send", **kw)
    if code in DUPLICATE_CODES or sub in DUPLICATE_SUBCODES:
        return Rejected(
            platform,
            f"Meta menolak unggahan ini karena sama dengan unggahan sebelumnya: {meta_msg}. "
            "Ubah teksnya bila memang ingin diterbitkan lagi.",
            f"Meta rejected this post as a duplicate of an earlier one: {meta_msg}. "
            "Change the text if it really should be published again.",
            code="duplicate", **kw)
    if (code, sub) == IG_NOT_READY:
        return RetryLater(
            platform, "Media masih diproses Instagram; diperiksa lagi otomatis.",
            "Instagram is still processing the media; checking again automatically.",
            retry_after=30.0, code="not_ready", **kw)
    if code == IG_QUOTA[0] or sub == IG_QUOTA[1]:
        return RetryLater(
            platform,
            "Batas harian unggahan Instagram melalui API sudah tercapai; penayangan akan "
            "dilanjutkan otomatis saat kuota kembali tersedia.",
            "The Instagram daily API publishing limit is reached; publishing resumes "
            "automatically when the quota frees up.",
            retry_after=3600.0, scope="channel", code="publishing_quota", **kw)
    if code in AUTH_CODES or sub == 492 or status == 401:
        if sub in USER_ACTION_SUBCODES:
            msg_id = ("Akun Facebook pemilik token perlu tindakan di facebook.com (verifikasi "
                      "keamanan). Masuk ke facebook.com, selesaikan pemeriksaannya, lalu "
                      "sambungkan ulang akun ini di Warta.")
            msg_en = ("The Facebook account behind the token needs action on facebook.com (a "
                      "security checkpoint). Log in there, complete it, then reconnect this "
                      "account in Warta.")
        else:
            msg_id = ("Token akses Meta sudah tidak berlaku (kedaluwarsa, dicabut, atau kata "
                      "sandi diganti). Sambungkan ulang akun ini di Warta.")
            msg_en = ("The Meta access token no longer works (expired, revoked or the password "
                      "changed). Reconnect this account in Warta.")
        return AuthExpired(platform, msg_id, msg_en, code="auth_expired", **kw)
    if code in PERMISSION_CODES:
        return AuthExpired(
            platform,
            f"Izin aplikasi Meta kurang untuk tindakan ini ({meta_msg}). Sambungkan ulang akun "
            "dan setujui semua izin yang diminta.",
            f"The Meta app lacks a permission for this ({meta_msg}). Reconnect the account and "
            "grant every permission asked for.",
            code="permission_missing", **kw)
    if code in THROTTLE_CODES:
        wait = usage_wait_seconds(resp.headers) or DEFAULT_THROTTLE_WAIT
        return RetryLater(
            platform,
            f"Meta membatasi jumlah permintaan (kode {code}); penayangan dilanjutkan otomatis "
            f"dalam ±{max(1, round(wait / 60))} menit.",
            f"Meta is rate-limiting requests (code {code}); publishing resumes automatically "
            f"in about {max(1, round(wait / 60))} minutes.",
            retry_after=wait, scope="channel", code="rate_limited", **kw)
    if code == POLICY_BLOCK or sub == FAST_POSTING_SUBCODE or sub == IG_SPAM_SUBCODE:
        wait = usage_wait_seconds(resp.headers) or DEFAULT_BLOCK_WAIT
        return RetryLater(
            platform,
            f"Meta memblokir sementara unggahan dari akun ini ({meta_msg}). Warta menunggu "
            "beberapa jam; periksa notifikasi di akun Meta Anda.",
            f"Meta temporarily blocked posting from this account ({meta_msg}). Warta waits "
            "some hours; check the notifications in your Meta account.",
            retry_after=wait, scope="channel", code="temporarily_blocked", **kw)
    if sub in IG_RETRY_SUBCODES or code in (1, 2, -1, -2) or err.get("is_transient") is True:
        return RetryLater(
            platform, "Gangguan sementara di Meta; dicoba lagi otomatis.",
            "Temporary failure at Meta; retrying automatically.",
            code="transient", **kw)
    if code in MEDIA_CODES or sub == 2207057:
        return Rejected(
            platform,
            f"Meta tidak dapat memproses media ini: {meta_msg}. Periksa format dan ukuran berkas.",
            f"Meta could not process this media: {meta_msg}. Check the file format and size.",
            code="invalid_media", **kw)
    if code == 1609005:
        return Rejected(
            platform, f"Meta tidak dapat membaca tautan ini: {meta_msg}. Periksa tautannya.",
            f"Meta could not read this link: {meta_msg}. Check the link.",
            code="invalid_link", **kw)
    if status == 429:
        # No Graph envelope: a proxy or Meta's edge refused the request before Graph saw it
        # (nothing was done, even after a create call); its Retry-After is the only wait.
        bare_wait = retry_after_seconds(resp.headers.get("Retry-After"), datetime.now(UTC))
        when_id, when_en = wait_words(bare_wait)
        return RetryLater(
            platform, f"Meta membatasi permintaan; dicoba lagi otomatis{when_id}.",
            f"Meta is rate-limiting requests; retrying automatically{when_en}.",
            retry_after=bare_wait, code="rate_limited", **kw)
    if status >= 500 or (not err and status >= 400 and status != 400):
        bare_wait = retry_after_seconds(resp.headers.get("Retry-After"), datetime.now(UTC))
        when_id, when_en = wait_words(bare_wait)
        return RetryLater(
            platform, f"Gangguan sementara di Meta; dicoba lagi otomatis{when_id}.",
            f"Temporary failure at Meta; retrying automatically{when_en}.",
            retry_after=bare_wait, code="server_error", **kw)
    return Rejected(
        platform, f"Meta menolak permintaan ini: {meta_msg or 'tanpa keterangan'}.",
        f"Meta rejected the request: {meta_msg or 'no explanation given'}.",
        code="invalid_parameter" if code == 100 else f"graph_{code}", **kw)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def connect(platform: str, base_url: str, ctx: Any, id_field: str,
            missing_id: str, missing_en: str) -> tuple[str, GraphClient]:
    """The account id and a client from a Graph adapter's credentials (``id_field`` and
    ``access_token``); either missing is ``AuthExpired`` with the adapter's own words, since
    only connecting the account again helps."""
    account_id = str(ctx.credentials.get(id_field, "")).strip()
    token = str(ctx.credentials.get("access_token", "")).strip()
    if not account_id or not token:
        raise AuthExpired(platform, missing_id, missing_en, code="missing_credentials")
    return account_id, GraphClient(platform, base_url, token, ctx.http, ctx.timeout,
                                   usage_state=ctx.state, now=ctx.now)


class GraphClient:
    """A thin Graph API caller: one method that sends, checks and classifies, and keeps the
    usage Meta reports on each answer in ``usage_state`` (the channel's state) when given."""

    def __init__(self, platform: str, base_url: str, token: str, http: requests.Session,
                 timeout: float, *, usage_state: MutableMapping[str, Any] | None = None,
                 now: Callable[[], datetime] | None = None) -> None:
        self.platform = platform
        self.usage_state = usage_state
        self.now = now or (lambda: datetime.now(UTC))
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = http
        self.timeout = timeout

    def call(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
             data: Mapping[str, Any] | None = None, body: StreamingMultipart | None = None,
             after_create: bool = False, timeout: float | None = None) -> Any:
        """Send one request; return the JSON body or raise the classified ``AdapterError``."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        headers = {"Authorization": f"Bearer {self.token}"}
        kwargs: dict[str, Any] = {"params": params, "headers": headers,
                                  "timeout": timeout or self.timeout}
        if body is not None:
            headers["Content-Type"] = body.content_type
            kwargs["data"] = body
        elif data is not None:
            kwargs["data"] = data
        try:
            resp = self.http.request(method, url, **kwargs)
        except (requests.Timeout, requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError) as exc:
            # ChunkedEncodingError: the connection broke in the middle of the answer (requests
            # does not count it as a ConnectionError); Meta may have acted all the same.
            raise self._network_error(exc, after_create) from None
        if self.usage_state is not None:
            record_usage(self.usage_state, resp.headers, self.now())
        if resp.status_code >= 400 or (resp.status_code == 200 and error_body(resp)):
            raise classify(self.platform, resp, after_create=after_create, secrets=[self.token])
        try:
            return resp.json()
        except ValueError:
            if after_create:
                raise OutcomeUnknown(
                    self.platform, "Jawaban Meta tidak terbaca setelah unggahan dikirim.",
                    "Meta's answer was unreadable after the post was sent.",
                    code="bad_response", detail=safe_detail(resp.text, [self.token]),
                    http_status=resp.status_code) from None
            raise RetryLater(
                self.platform, "Jawaban Meta tidak terbaca; dicoba lagi otomatis.",
                "Meta's answer was unreadable; retrying automatically.",
                code="bad_response", detail=safe_detail(resp.text, [self.token]),
                http_status=resp.status_code) from None

    def batch(self, requests_: Sequence[Mapping[str, str]]) -> list[dict[str, Any] | None]:
        """One Graph batch request (≤ 50 sub-requests). Returns each sub-response's parsed body,
        or ``None`` for a sub-request that failed — those failures stay isolated."""
        out: list[dict[str, Any] | None] = []
        result = self.call("POST", "/", data={"batch": json.dumps(list(requests_)),
                                             "include_headers": "false"})
        for item in result if isinstance(result, list) else []:
            if not isinstance(item, dict) or item.get("code") != 200:
                out.append(None)
                continue
            try:
                parsed = json.loads(item.get("body") or "null")
            except ValueError:
                parsed = None
            out.append(parsed if isinstance(parsed, dict) else None)
        out.extend([None] * (len(requests_) - len(out)))
        return out

    def _network_error(self, exc: Exception, after_create: bool) -> AdapterError:
        detail = safe_detail(f"{type(exc).__name__}: {exc}", [self.token])
        if after_create:
            return OutcomeUnknown(
                self.platform,
                "Koneksi ke Meta terputus setelah unggahan dikirim; belum pasti sudah terbit. "
                "Warta akan memeriksa akun sebelum mencoba lagi.",
                "The connection to Meta dropped after the post was sent; it may or may not be "
                "published. Warta will check the account before trying again.",
                code="timeout_after_send", detail=detail)
        return RetryLater(
            self.platform, "Koneksi ke Meta gagal; dicoba lagi otomatis.",
            "Could not reach Meta; retrying automatically.", code="network", detail=detail)


def summary_count(obj: Any, edge: str) -> int | None:
    """``obj[edge].summary.total_count`` or None when Meta did not give it."""
    try:
        value = obj[edge]["summary"]["total_count"]
    except (KeyError, TypeError):
        return None
    return value if isinstance(value, int) else None


def insight_values(obj: Any) -> dict[str, int]:
    """``{"data": [{"name": ..., "values": [{"value": n}]}]}`` → ``{name: n}`` (ints only)."""
    out: dict[str, int] = {}
    data = obj.get("data") if isinstance(obj, dict) else None
    for item in data or []:
        try:
            value = item["values"][-1]["value"]
        except (KeyError, IndexError, TypeError):
            continue
        if isinstance(value, int):
            out[str(item.get("name"))] = value
    return out


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    size = max(1, size)
    return [items[i:i + size] for i in range(0, len(items), size)]


def parse_time(value: Any) -> datetime | None:
    """Graph's timestamps (``2026-09-01T10:00:00+0000``); ``None`` when absent or odd."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        return None
