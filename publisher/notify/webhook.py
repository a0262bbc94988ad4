"""An office's outgoing webhook: one notification as a signed JSON ``POST``.

**Signature.** ``X-Warta-Signature: sha256=<hex>`` is HMAC-SHA256, keyed with the webhook's
secret, of ``<X-Warta-Timestamp>.<body>`` (the timestamp in Unix seconds, a dot, the exact
body bytes). A receiver recomputes it, compares in constant time, and refuses a timestamp
older than a few minutes: a recorded request cannot be replayed later. Each attempt is signed
afresh with its own time.

**Delivery** runs through the ordinary send job (``deliver.py``): ``begin()`` commits
"sending" just before the ``POST``. Unlike e-mail, a webhook is *at least once* when the
receiver does not answer in time or answers 5xx/429/408: the attempt is repeated with the
queue's backoff (honouring ``Retry-After``), and ``X-Warta-Delivery`` (the same on every
attempt) lets the receiver drop a repeat. A definite refusal (any other 4xx, or a redirect,
which is never followed) drops the delivery with the status named. Only a worker that died
mid-``POST`` leaves it ``unconfirmed`` (the machinery's crash rule).

The secret is opened from ``core.box`` only here, to sign; errors carry the status code,
never the secret, the signature or the receiver's body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import requests

from publisher.notify.errors import Gone, Lost, TryLater

#: (connect, read) seconds: a receiver that takes longer is tried again later.
TIMEOUT: tuple[float, float] = (5.0, 10.0)
USER_AGENT = "Warta-Webhook/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Warta-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: datetime,
           tolerance: float = 300.0) -> bool:
    """What a receiver does (and the tests' receiver uses): a fresh timestamp and a matching
    signature, compared in constant time."""
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(timestamp), body), signature)


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def _retry_after(resp: requests.Response) -> float | None:
    raw = (resp.headers.get("Retry-After") or "").strip()
    return float(raw) if raw.isdigit() else None


class WebhookNotifier:
    def __init__(self, url: str, secret: str, http: requests.Session | None = None,
                 timeout: tuple[float, float] = TIMEOUT) -> None:
        self.url = url
        self._secret = secret
        self.http = http or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:  # never the secret
        return f"WebhookNotifier({self.url!r})"

    def send(self, body: bytes, headers: dict[str, str], now: Callable[[], datetime],
             begin: Callable[[], bool]) -> None:
        if not begin():
            raise Lost()
        ts = int(now().timestamp())
        sent = {**headers, "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT, "X-Warta-Timestamp": str(ts),
                "X-Warta-Signature": sign(self._secret, ts, body)}
        try:
            resp = self.http.post(self.url, data=body, headers=sent, timeout=self.timeout,
                                  allow_redirects=False)
        except requests.Timeout as exc:
            raise TryLater("Penerima webhook tidak menjawab tepat waktu; dicoba lagi nanti.",
                           "The webhook receiver did not answer in time; trying again later.",
                           type(exc).__name__) from None
        except requests.RequestException as exc:
            raise TryLater("Penerima webhook tidak dapat dihubungi; dicoba lagi nanti.",
                           "The webhook receiver could not be reached; trying again later.",
                           type(exc).__name__) from None
        resp.close()
        code = resp.status_code
        if 200 <= code < 300:
            return
        if code in (408, 429) or code >= 500:
            raise TryLater(f"Penerima webhook menjawab HTTP {code}; dicoba lagi nanti.",
                           f"The webhook receiver answered HTTP {code}; trying again later.",
                           f"HTTP {code}", retry_after=_retry_after(resp))
        if 300 <= code < 400:
            raise Gone(f"Penerima webhook mengalihkan (HTTP {code}); isi alamat akhirnya.",
                       f"The webhook receiver redirected (HTTP {code}); set its final "
                       "address.", f"HTTP {code}")
        raise Gone(f"Penerima webhook menolak pesan ini (HTTP {code}); periksa alamat dan "
                   "rahasianya.",
                   f"The webhook receiver refused this message (HTTP {code}); check its "
                   "address and secret.", f"HTTP {code}")
