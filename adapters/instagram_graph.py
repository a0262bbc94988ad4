"""Instagram (official Graph API) adapter for business and creator accounts.

Instagram fetches media itself from a public URL, so ``caps.needs_public_urls`` is set and the
core hands us signed, expiring ``MediaFile.public_url`` values. Publishing is the container
flow of platform-apis.md §2.2 done WITHOUT sleeping: ``publish`` checks the publishing quota,
creates the container(s) and returns ``Pending``; each ``poll`` reads the container status once
and either returns ``Pending`` again or calls ``media_publish`` (the only irreversible call) and
returns ``Published`` with the ``permalink`` Meta gives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

from adapters._graph import chunks, insight_values, parse_time
from adapters._graph import connect as graph_connect
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import (
    AdapterError,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    StartOver,
)

DEFAULT_INSIGHTS = "views,reach,saved,shares"
HASHTAG_RE = re.compile(r"(?<!\w)#\w+")
MENTION_RE = re.compile(r"(?<!\w)@[\w.]+")
IG_TYPES = ("feed", "reel")


class InstagramGraphAdapter(BaseAdapter):
    platform: ClassVar[str] = "instagram_graph"
    label: ClassVar[str] = "Instagram (resmi, akun bisnis/kreator)"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"instagram.com"}),
        max_text=2200, max_caption=2200, max_media=10, requires_media=True,
        max_image_bytes=8_000_000, max_video_bytes=300_000_000, metrics_batch_size=50,
        metrics=frozenset({"likes", "comments", "shares", "views", "reach", "saves"}),
        supports_link=False, option_names=frozenset({"ig_type"}),
        image_mimes=frozenset({"image/jpeg"}), image_aspect=(0.8, 1.91),
        needs_public_urls=True,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("ig_user_id", "ID akun Instagram bisnis (instagram_business_account)", False),
        ("access_token", "Token akses (token Halaman Facebook yang terhubung)", True),
    )
    default_base_url: ClassVar[str | None] = "https://graph.facebook.com/v25.0"

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.ig_user_id, self.graph = graph_connect(
            self.platform, self.base_url, ctx, "ig_user_id",
            "ID akun Instagram atau token akses belum diisi. Sambungkan akun.",
            "The Instagram account id or access token is missing. Connect the account.")
        s = ctx.settings
        self.poll_seconds = float(s.get("poll_seconds") or 20)
        self.max_polls = int(s.get("max_polls") or 30)
        self.insight_metrics = str(s.get("insight_metrics") or DEFAULT_INSIGHTS)
        self.ids_per_request = int(s.get("ids_per_request") or 50)
        self.quota_wait = float(s.get("quota_wait_seconds") or 3600)

    # -- validation -------------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = super().validate(post)
        ig_type = post.options.get("ig_type", "feed")
        if ig_type not in IG_TYPES:
            problems.append(Problem("options", "bad_ig_type",
                                    "Jenis Instagram harus 'feed' atau 'reel'.",
                                    "The Instagram type must be 'feed' or 'reel'."))
        if ig_type == "reel" and (len(post.media) != 1 or post.media[0].kind != "video"):
            problems.append(Problem("media", "reel_needs_one_video",
                                    "Reel Instagram memerlukan tepat satu video.",
                                    "An Instagram reel needs exactly one video."))
        problems += caption_problems(post.body)
        for m in post.media:
            if m.kind == "video" and m.duration is not None and not 3 <= m.duration <= 900:
                problems.append(Problem(
                    "media", "video_duration",
                    f"Durasi video Instagram harus 3 detik sampai 15 menit (sekarang "
                    f"{m.duration:.0f} detik).",
                    f"An Instagram video must last 3 seconds to 15 minutes (this one: "
                    f"{m.duration:.0f} s)."))
        return problems

    # -- publishing -------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        urls = [_public_url(self.platform, m) for m in post.media]
        self._check_quota()
        caption = post.body
        if len(post.media) == 1:
            m = post.media[0]
            if m.kind == "video":
                data = {"media_type": "REELS", "video_url": urls[0], "caption": caption,
                        "share_to_feed": "true"}
            else:
                data = {"image_url": urls[0], "caption": caption}
            cid = self._create(data)
            return self._pending({"stage": "container", "container": cid})
        children = []
        for m, url in zip(post.media, urls, strict=True):
            item = ({"media_type": "VIDEO", "video_url": url} if m.kind == "video"
                    else {"image_url": url})
            children.append(self._create({**item, "is_carousel_item": "true"}))
        state = {"stage": "children", "children": children, "caption": caption}
        if all(m.kind == "image" for m in post.media):
            return self._pending(self._create_parent(state))
        return self._pending(state)

    def _create(self, data: dict[str, str]) -> str:
        """Create one container. Not irreversible (nothing is public), so failures retry."""
        result = self.graph.call("POST", f"{self.ig_user_id}/media", data=data)
        if not isinstance(result, dict) or not result.get("id"):
            raise RetryLater(self.platform, "Instagram tidak memberi ID kontainer; dicoba lagi.",
                             "Instagram gave no container id; retrying.", code="no_id",
                             detail=str(result))
        return str(result["id"])

    def _create_parent(self, state: dict[str, Any]) -> dict[str, Any]:
        cid = self._create({"media_type": "CAROUSEL", "children": ",".join(state["children"]),
                            "caption": state["caption"]})
        return {"stage": "container", "container": cid}

    def _pending(self, state: dict[str, Any], polls: int = 0) -> Pending:
        return Pending({**state, "polls": polls}, poll_after=self.poll_seconds)

    def poll(self, pending: Pending) -> Published | Pending:
        state = dict(pending.state)
        polls = int(state.get("polls", 0)) + 1
        if polls > self.max_polls:
            raise StartOver(self.platform,
                             "Instagram terlalu lama memproses media; unggahan diulang otomatis.",
                             "Instagram took too long processing the media; the post will be "
                             "sent again automatically.", code="processing_timeout")
        if state.get("stage") == "children":
            result = self.graph.call("GET", "/", params={"ids": ",".join(state["children"]),
                                                         "fields": "status_code,status"})
            statuses = [result.get(c, {}) for c in state["children"]]
            for st in statuses:
                self._check_status(st, published_means_unknown=False)
            if all(st.get("status_code") == "FINISHED" for st in statuses):
                return self._pending(self._create_parent(state), polls)
            return self._pending(state, polls)
        cid = str(state["container"])
        status = self.graph.call("GET", cid, params={"fields": "status_code,status"})
        self._check_status(status, published_means_unknown=True)
        if status.get("status_code") != "FINISHED":
            return self._pending(state, polls)
        try:
            result = self.graph.call("POST", f"{self.ig_user_id}/media_publish",
                                     data={"creation_id": cid}, after_create=True)
        except RetryLater as exc:
            if exc.code == "not_ready":
                return self._pending(state, polls)
            raise
        media_id = str(result.get("id") or "")
        if not media_id:
            raise OutcomeUnknown(self.platform, "Instagram menjawab tanpa ID media.",
                                 "Instagram answered without a media id.", code="no_id",
                                 detail=str(result))
        self._record_publish()
        permalink = None
        try:  # best effort: the post IS published, a failed read must not make us retry
            permalink = self.graph.call("GET", media_id,
                                        params={"fields": "permalink"}).get("permalink")
        except AdapterError:
            pass
        return Published(media_id, permalink, self._now())

    def _check_status(self, st: dict[str, Any], *, published_means_unknown: bool) -> None:
        code = st.get("status_code")
        detail = str(st)
        if code == "ERROR":
            reason = str(st.get("status") or "-")
            raise Rejected(self.platform,
                           f"Instagram gagal memproses media ({reason}). Periksa format, ukuran "
                           "dan rasio berkas.",
                           f"Instagram failed to process the media ({reason}). Check the file "
                           "format, size and aspect ratio.",
                           code="processing_failed", detail=detail)
        if code == "EXPIRED":
            raise StartOver(self.platform,
                             "Kontainer Instagram kedaluwarsa; unggahan diulang otomatis.",
                             "The Instagram container expired; the post will be sent again.",
                             code="container_expired", detail=detail)
        if code == "PUBLISHED" and published_means_unknown:
            raise OutcomeUnknown(self.platform,
                                 "Kontainer ini sudah diterbitkan sebelumnya; Warta memeriksa "
                                 "akun untuk menemukan tautannya.",
                                 "This container was already published; Warta checks the "
                                 "account to find its link.", code="already_published",
                                 detail=detail)

    # -- publishing quota -------------------------------------------------------------------
    def _check_quota(self) -> None:
        result = self.graph.call("GET", f"{self.ig_user_id}/content_publishing_limit",
                                 params={"fields": "quota_usage,config"})
        try:
            entry = result["data"][0]
            used = int(entry["quota_usage"])
            total = int(entry["config"]["quota_total"])
            duration = float(entry["config"].get("quota_duration", 86400))
        except (KeyError, IndexError, TypeError, ValueError):
            return  # unreadable limit: let media_publish answer 9/2207042 if it is full
        if used < total:
            return
        wait = self.quota_wait
        ours = sorted(self._recent_publishes(duration))
        if ours:
            wait = max(60.0, (ours[0] + timedelta(seconds=duration) - self._now())
                       .total_seconds())
        raise RetryLater(self.platform,
                         f"Kuota harian Instagram ({used}/{total} unggahan per 24 jam) sudah "
                         "habis; penayangan dilanjutkan otomatis saat kuota kembali tersedia.",
                         f"The Instagram daily quota ({used}/{total} posts per 24 hours) is "
                         "used up; publishing resumes automatically when it frees up.",
                         retry_after=wait, scope="channel", code="publishing_quota",
                         detail=str(result))

    def _recent_publishes(self, duration: float = 86400) -> list[datetime]:
        cutoff = self._now() - timedelta(seconds=duration)
        times = [datetime.fromisoformat(t) for t in self.ctx.state.get("published_times", [])]
        return [t for t in times if t > cutoff]

    def _record_publish(self) -> None:
        times = self._recent_publishes() + [self._now()]
        self.ctx.state["published_times"] = [t.isoformat() for t in times[-200:]]

    # -- reconciliation, metrics, account ---------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        result = self.graph.call("GET", f"{self.ig_user_id}/media", params={
            "fields": "id,caption,media_type,permalink,timestamp,children{id}", "limit": 50})
        for item in result.get("data", []) if isinstance(result, dict) else []:
            when = parse_time(item.get("timestamp"))
            if str(item.get("id")) in post.taken_ids:
                continue
            if when is not None and when < since:
                continue
            if str(item.get("caption") or "").strip() != post.body.strip():
                continue
            children = (item.get("children") or {}).get("data") or []
            count = len(children) if item.get("media_type") == "CAROUSEL_ALBUM" else 1
            if count == len(post.media):
                return Published(str(item["id"]), item.get("permalink"), when)
        return None

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """Per chunk: one multi-id read for like/comment counts and ONE Graph batch request
        for the insights (Meta has no multi-media insights endpoint); failures of a single
        media's insights (too new, album child, not enough viewers) only blank that media."""
        out: dict[str, Metrics] = {}
        names = [n for n in self.insight_metrics.split(",") if n]
        for chunk in chunks(list(ids), self.ids_per_request):
            counts = self.graph.call("GET", "/", params={
                "ids": ",".join(chunk), "fields": "like_count,comments_count"})
            try:
                insights = self.graph.batch([
                    {"method": "GET", "relative_url": f"{i}/insights?metric={','.join(names)}"}
                    for i in chunk])
            except AdapterError:
                # The counts are read: keep them; the insights stay None ("not available")
                # and the next scheduled read fills them.
                insights = [None] * len(chunk)
            for i, ins in zip(chunk, insights, strict=True):
                obj = counts.get(i) if isinstance(counts, dict) else None
                if not isinstance(obj, dict) and ins is None:
                    continue
                obj = obj or {}
                values = insight_values(ins)
                out[i] = Metrics(likes=_int(obj.get("like_count")),
                                 comments=_int(obj.get("comments_count")),
                                 shares=values.get("shares"), views=values.get("views"),
                                 reach=values.get("reach"), saves=values.get("saved"))
        return out

    def account(self) -> AccountInfo:
        result = self.graph.call("GET", self.ig_user_id, params={"fields": "id,username,name"})
        return AccountInfo(str(result.get("id", self.ig_user_id)),
                           str(result.get("name") or result.get("username") or ""),
                           result.get("username"))


def caption_problems(body: str) -> list[Problem]:
    """Instagram caption rules shared by both Instagram adapters (≤ 30 hashtags, ≤ 20 @)."""
    problems = []
    tags = len(HASHTAG_RE.findall(body))
    if tags > 30:
        problems.append(Problem("body", "too_many_hashtags",
                                f"Instagram menerima paling banyak 30 tagar (ada {tags}).",
                                f"Instagram accepts at most 30 hashtags (found {tags})."))
    mentions = len(MENTION_RE.findall(body))
    if mentions > 20:
        problems.append(Problem("body", "too_many_mentions",
                                f"Instagram menerima paling banyak 20 sebutan @ (ada {mentions}).",
                                f"Instagram accepts at most 20 @mentions (found {mentions})."))
    return problems


def _public_url(platform: str, m: MediaFile) -> str:
    if not m.public_url:
        raise Rejected(platform,
                       "Instagram mengambil media dari URL publik, tetapi WARTA_PUBLIC_URL belum "
                       "diatur atau tidak dapat dijangkau dari internet. Minta admin mengaturnya.",
                       "Instagram fetches media from a public URL, but WARTA_PUBLIC_URL is not "
                       "configured or not reachable from the internet. Ask an admin to set it.",
                       code="public_url_missing")
    return m.public_url


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
