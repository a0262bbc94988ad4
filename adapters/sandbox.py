"""A real adapter that publishes into a local outbox directory instead of a social network.

It serves training workshops (operators can practise the whole flow), the demo, and the tests.
Each channel is a folder ``<outbox>/<account>/``; each published post is one JSON file there,
with its media copied beside it, so "published exactly once" can be checked by counting files.

A trainer or a test steers a channel by writing ``<outbox>/<account>/control.json``::

    {"mode": "ok" | "throttle" | "quota" | "transient" | "reject" | "auth_expired"
             | "timeout_after_accept" | "pending",
     "times": 2,              # how many calls misbehave before it behaves again (default: forever)
     "retry_after": 30,       # seconds, for "throttle" (default 30) and "quota" (default 3600)
     "refresh_ok": true,      # whether refresh() can mend an "auth_expired"
     "delay": 2.5,            # TEST ONLY: seconds publish() sleeps before writing the post
     "delay_after": 2.5,      # TEST ONLY: seconds publish() sleeps after writing, before returning
     "latency": {"text": [0.5, 5], "image": [1, 8], "video": [30, 120]},
                              # TEST/BENCH ONLY: per post, sleep a long-tailed time before writing:
                              # [median, p99] seconds of a log-normal by the post's kind (video if
                              # it has a video, image if it has media, else text), seeded by the
                              # post's key, so a run is repeatable
     "lookup": "error" | "timeout" | "ambiguous" | "unavailable"}
                              # how lookup() fails (default: it answers); "unavailable" acts as
                              # a platform without one (Telegram)

The file is read on every call, so behaviour can be changed while a worker runs.

``refresh_ok``: ``refresh()`` issues a token starting with ``refreshed-``, which the sandbox then
accepts even while the mode is ``auth_expired`` (as a platform accepts a freshly refreshed token).

``lookup`` makes ``lookup()`` unable to tell whether the post is there, as a platform can: ``error``
a 503 (``RetryLater``), ``timeout`` a network timeout escaping the adapter (``TimeoutError``),
``ambiguous`` several candidates that match (``OutcomeUnknown``). It does not use up ``times``.

Each outbox record also carries ``called_at``, when ``publish()`` was entered: the bench measures
lateness from it (the call's start), not from the end of a slow upload.

``delay``/``delay_after``/``latency`` break the adapter rule "never sleep" on purpose and only
here: they make a publish slow and observable so the crash tests can SIGKILL a worker before or
after the post reached the outbox, and the bench can model real platforms' latency. Real
adapters must never sleep.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    Credentials,
    Metrics,
    OutgoingPost,
    Pending,
    Published,
)
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater


def latency_of(post: OutgoingPost, profile: dict[str, Any]) -> float:
    """A repeatable long-tailed call time for this post: log-normal with the profile's
    [median, p99] for the post's kind (z of the 99th percentile is 2.326)."""
    kinds = {m.kind for m in post.media}
    kind = "video" if "video" in kinds else "image" if kinds else "text"
    median, p99 = (float(x) for x in profile.get(kind) or profile.get("text") or (0, 0))
    if median <= 0:
        return 0.0
    sigma = math.log(max(p99, median) / median) / 2.326
    seed = int(hashlib.sha256(post.key.encode()).hexdigest()[:12], 16)
    u = (seed % 1_000_003 + 0.5) / 1_000_003  # uniform in (0, 1)
    return median * math.exp(sigma * _probit(u))


def _probit(u: float) -> float:
    """The standard normal quantile (Acklam's rational approximation; plenty for a bench)."""
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    if u < 0.02425:
        q = math.sqrt(-2 * math.log(u))
        return (((((c[0]*q+c[1])*q+c[2])*q+c[3])*q+c[4])*q+c[5]) / \
            ((((d[0]*q+d[1])*q+d[2])*q+d[3])*q+1)
    if u > 1 - 0.02425:
        return -_probit(1 - u)
    q = u - 0.5
    r = q * q
    return (((((a[0]*r+a[1])*r+a[2])*r+a[3])*r+a[4])*r+a[5])*q / \
        (((((b[0]*r+b[1])*r+b[2])*r+b[3])*r+b[4])*r+1)


_ACCOUNT_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


class SandboxAdapter(BaseAdapter):
    platform: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox (latihan)"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"*"}), permalink_schemes=frozenset({"sandbox"}),
        max_text=5000, max_media=10, metrics_batch_size=100,
        max_image_bytes=30_000_000, max_video_bytes=500_000_000,
        option_names=frozenset({"note"}),
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("account", "Nama akun (huruf kecil, angka, titik, garis bawah)", False),
        ("token", "Token (bebas, untuk latihan)", True),
    )

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        account = str(ctx.credentials.get("account", ""))
        if not _ACCOUNT_RE.match(account):
            raise Rejected(self.platform, "Nama akun sandbox tidak valid.",
                           "The sandbox account name is not valid.", code="bad_credentials")
        root = ctx.settings.get("outbox") or self.base_url or "var/outbox"
        self.root = Path(str(root).removeprefix("file://"))
        self.dir = self.root / account
        self.account_name = account

    # -- behaviour control ------------------------------------------------------------------
    def _raw_control(self) -> dict[str, Any]:
        path = self.dir / "control.json"
        try:
            return dict(json.loads(path.read_text("utf-8")))
        except (FileNotFoundError, json.JSONDecodeError):
            return {"mode": "ok"}

    def _control(self) -> dict[str, Any]:
        """The control for one platform call; a misbehaving call uses up one of ``times``."""
        control = self._raw_control()
        mode = control.get("mode", "ok")
        times = control.get("times")
        if mode != "ok" and times is not None:
            used = int(self.ctx.state.get("misbehaved", 0))
            if used >= int(times):
                return {k: v for k, v in control.items() if k.startswith("delay")} | {"mode": "ok"}
            self.ctx.state["misbehaved"] = used + 1
        return control

    def _check_auth(self, control: dict[str, Any]) -> None:
        token = str(self.ctx.credentials.get("token", ""))
        mended = control.get("refresh_ok") and token.startswith("refreshed-")
        if (control.get("mode") == "auth_expired" and not mended) or token == "expired":
            raise AuthExpired(self.platform,
                              "Sesi akun sandbox berakhir. Sambungkan ulang akun ini.",
                              "The sandbox account session expired. Reconnect this account.",
                              code="auth_expired", http_status=401)

    # -- contract ---------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        control = self._control()
        mode = control.get("mode", "ok")
        self._check_auth(control)
        if mode == "throttle":
            raise RetryLater(self.platform, "Terlalu banyak permintaan; dicoba lagi otomatis.",
                             "Too many requests; retrying automatically.",
                             retry_after=float(control.get("retry_after", 30)),
                             code="rate_limited", http_status=429)
        if mode == "quota":  # the account's quota is spent: the whole channel waits
            raise RetryLater(self.platform, "Kuota harian akun sandbox habis; penayangan "
                             "dilanjutkan otomatis saat kuota kembali.",
                             "The sandbox account's daily quota is spent; publishing resumes "
                             "automatically when it refills.",
                             retry_after=float(control.get("retry_after", 3600)),
                             scope="channel", code="quota_exceeded", http_status=429)
        if mode == "transient":
            raise RetryLater(self.platform, "Gangguan sementara di platform; dicoba lagi otomatis.",
                             "Temporary platform failure; retrying automatically.",
                             code="server_error", http_status=503)
        if mode == "reject":
            raise Rejected(self.platform,
                           str(control.get("message", "Platform menolak unggahan ini.")),
                           str(control.get("message", "The platform rejected this post.")),
                           code=str(control.get("code", "rejected")), http_status=400,
                           detail=json.dumps(control))
        called_at = self._now()
        if control.get("delay"):
            time.sleep(float(control["delay"]))
        if control.get("latency"):
            time.sleep(latency_of(post, control["latency"]))
        published = self._write(post, called_at)
        if control.get("delay_after"):
            time.sleep(float(control["delay_after"]))
        if mode == "timeout_after_accept":
            raise OutcomeUnknown(self.platform,
                                 "Waktu habis setelah unggahan dikirim; belum pasti sudah terbit.",
                                 "Timed out after the post was sent; not sure it was published.",
                                 code="timeout")
        if mode == "pending":
            return Pending({"external_id": published.external_id}, poll_after=5)
        return published

    def _write(self, post: OutgoingPost, called_at: datetime | None = None) -> Published:
        self.dir.mkdir(parents=True, exist_ok=True)
        external_id = uuid.uuid4().hex[:16]
        media_names = []
        if post.media:
            media_dir = self.dir / "media"
            media_dir.mkdir(exist_ok=True)
            for m in post.media:
                target = media_dir / f"{m.sha256[:16]}{Path(m.path).suffix}"
                if not target.exists():
                    shutil.copyfile(m.path, target)
                media_names.append(target.name)
        published_at = self._now()
        record = {
            "id": external_id, "key": post.key, "body": post.body, "link": post.link,
            "title": post.title, "options": dict(post.options), "media": media_names,
            "published_at": published_at.isoformat(),
            "called_at": (called_at or published_at).isoformat(),
        }
        tmp = self.dir / f".{external_id}.tmp"
        tmp.write_text(json.dumps(record, ensure_ascii=False), "utf-8")
        os.replace(tmp, self.dir / f"{external_id}.json")
        return Published(external_id, self._permalink(external_id), published_at)

    def _permalink(self, external_id: str) -> str:
        return f"sandbox://{self.account_name}/{external_id}"

    def poll(self, pending: Pending) -> Published | Pending:
        external_id = str(pending.state["external_id"])
        record = self._read(external_id)
        if record is None:
            raise Rejected(self.platform, "Unggahan hilang dari sandbox.",
                           "The post disappeared from the sandbox.", code="gone")
        return Published(external_id, self._permalink(external_id),
                         datetime.fromisoformat(record["published_at"]))

    def _read(self, external_id: str) -> dict[str, Any] | None:
        try:
            return json.loads((self.dir / f"{external_id}.json").read_text("utf-8"))
        except FileNotFoundError:
            return None

    def records(self) -> list[dict[str, Any]]:
        """Every post in this channel's outbox (for lookup, tests and the bench)."""
        if not self.dir.is_dir():
            return []
        out = []
        for path in self.dir.glob("*.json"):
            if path.name == "control.json":
                continue
            try:
                out.append(json.loads(path.read_text("utf-8")))
            except (json.JSONDecodeError, FileNotFoundError):
                continue
        return out

    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        """Match on Warta's key; a real platform would match body and media since ``since``."""
        failure = self._raw_control().get("lookup")
        if failure == "error":
            raise RetryLater(self.platform, "Platform tidak dapat dibaca sementara.",
                             "The platform cannot be read right now.", code="server_error",
                             http_status=503)
        if failure == "timeout":
            raise TimeoutError("sandbox lookup timed out")
        if failure == "ambiguous":
            raise OutcomeUnknown(self.platform, "Beberapa unggahan cocok; tidak dapat dipastikan.",
                                 "Several posts match; cannot tell which one.", code="ambiguous")
        if failure == "unavailable":
            raise OutcomeUnknown(self.platform, "Pencarian unggahan tidak tersedia.",
                                 "Looking up posts is not available.", code="no_lookup")
        for record in self.records():
            if record.get("key") == post.key:
                when = datetime.fromisoformat(record["published_at"])
                return Published(record["id"], self._permalink(record["id"]), when)
        return None

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        if len(ids) > self.caps.metrics_batch_size:
            raise ValueError("batch larger than metrics_batch_size")
        self.ctx.state["metrics_calls"] = int(self.ctx.state.get("metrics_calls", 0)) + 1
        now = self._now()
        out: dict[str, Metrics] = {}
        for external_id in ids:
            record = self._read(external_id)
            if record is None:
                continue
            hours = max(0.0, (now - datetime.fromisoformat(record["published_at"]))
                        .total_seconds() / 3600)
            seed = int(hashlib.sha256(external_id.encode()).hexdigest()[:6], 16)
            base = 20 + seed % 200
            growth = math.log1p(hours)
            views = int(base * 10 * growth)
            out[external_id] = Metrics(
                likes=int(base * growth), comments=int(base * growth / 8),
                shares=int(base * growth / 12), views=views, impressions=int(views * 1.4),
                reach=int(views * 0.8), saves=int(base * growth / 20))
        return out

    def account(self) -> AccountInfo:
        self._check_auth(self._control())
        self.dir.mkdir(parents=True, exist_ok=True)
        return AccountInfo(self.account_name, f"Sandbox {self.account_name}", self.account_name)

    def refresh(self) -> Credentials | None:
        # Reading the control here does not use up one of "times": refresh is not a publish.
        control = self._raw_control()
        if control.get("refresh_ok"):
            return {**self.ctx.credentials, "token": "refreshed-" + uuid.uuid4().hex}
        return None
