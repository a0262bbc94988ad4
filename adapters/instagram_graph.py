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
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from adapters._comments import instagram_page, without_own
from adapters._containers import ContainerApi, ContainerFlow
from adapters._first_comment import graph_find, graph_post
from adapters._graph import chunks, insight_values, parse_time
from adapters._graph import connect as graph_connect
from adapters._ig_story import STORY_ASPECT, STORY_INSIGHTS, story_problems
from adapters._replies import instagram_find_reply, instagram_hide, instagram_reply
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    CommentPage,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import (
    AdapterError,
    Rejected,
)

DEFAULT_INSIGHTS = "views,reach,saved,shares"
HASHTAG_RE = re.compile(r"(?<!\w)#\w+")
MENTION_RE = re.compile(r"(?<!\w)@[\w.]+")
IG_TYPES = ("feed", "reel", "story")
IG_CONTAINERS = ContainerApi("instagram_graph", "Instagram", create_edge="media",
                             publish_edge="media_publish", limit_edge="content_publishing_limit",
                             status_field="status_code", error_field="status")


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
        needs_public_urls=True, reads_comments=True, replies_to_comments=True,
        hides_comments=True, media_by_range=True,
        # A comment holds what a caption holds (2,200; Meta gives no own figure: UNCONFIRMED).
        max_first_comment=2200,
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
        self.flow = ContainerFlow(IG_CONTAINERS, self.graph, self.ig_user_id,
                                  poll_seconds=self.poll_seconds, max_polls=self.max_polls,
                                  quota_wait=self.quota_wait, state=ctx.state, now=self._now)

    # -- validation -------------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = super().validate(post)
        ig_type = post.options.get("ig_type", "feed")
        if ig_type not in IG_TYPES:
            problems.append(Problem("options", "bad_ig_type",
                                    "Jenis Instagram harus 'feed', 'reel' atau 'story'.",
                                    "The Instagram type must be 'feed', 'reel' or 'story'."))
        if ig_type == "story":
            # Stories have their own rules (one item, 3–60 s, 100 MB) and no caption via the
            # API: the post's text is not sent, so its hashtag limits do not apply.
            return problems + story_problems(post)
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

    @classmethod
    def image_aspect_for(cls, options: Mapping[str, Any]) -> tuple[float, float] | None:
        """A Story image is full-screen: not padded to the feed's 4:5 … 1.91:1."""
        return STORY_ASPECT if options.get("ig_type") == "story" else cls.caps.image_aspect

    # -- publishing -------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        urls = [_public_url(self.platform, m) for m in post.media]
        self._check_quota()
        caption = post.body
        if post.options.get("ig_type") == "story":
            m = post.media[0]
            field = "video_url" if m.kind == "video" else "image_url"
            cid = self._create({"media_type": "STORIES", field: urls[0]})
            # The schedule travels with the pending state to the ``Published`` of ``poll``.
            return self._pending({"stage": "container", "container": cid,
                                  "metrics_schedule": "story"})
        if len(post.media) == 1:
            m = post.media[0]
            if m.kind == "video":
                data = {"media_type": "REELS", "video_url": urls[0], "caption": caption,
                        "share_to_feed": "true"}
            else:
                data = {"image_url": urls[0], "caption": caption, **_alt(m)}
            cid = self._create(data)
            return self._pending({"stage": "container", "container": cid})
        children = []
        for m, url in zip(post.media, urls, strict=True):
            item = ({"media_type": "VIDEO", "video_url": url} if m.kind == "video"
                    else {"image_url": url, **_alt(m)})
            children.append(self._create({**item, "is_carousel_item": "true"}))
        state = {"stage": "children", "children": children, "caption": caption}
        if all(m.kind == "image" for m in post.media):
            return self._pending(self._create_parent(state))
        return self._pending(state)

    def _create(self, data: dict[str, str]) -> str:
        return self.flow.create(data)

    def _create_parent(self, state: dict[str, Any]) -> dict[str, Any]:
        return self.flow.create_parent(state, "caption")

    def _pending(self, state: dict[str, Any], polls: int = 0) -> Pending:
        return self.flow.pending(state, polls)

    def poll(self, pending: Pending) -> Published | Pending:
        """The shared container flow (``adapters/_containers.py``): one status read, then
        ``media_publish`` when the container is ready."""
        return self.flow.poll(pending, self._create_parent)

    def _check_quota(self) -> None:
        self.flow.check_quota()

    # -- reconciliation, metrics, account ---------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        if post.options.get("ig_type") == "story":
            return self._lookup_story(post, since)
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

    def _lookup_story(self, post: OutgoingPost, since: datetime) -> Published | None:
        """A story has no caption to match: the oldest live story since the attempt, of the
        same kind (image/video), that no publication has taken yet (``/stories`` lists only
        the last 24 hours, which is all a story lives)."""
        result = self.graph.call("GET", f"{self.ig_user_id}/stories", params={
            "fields": "id,media_type,permalink,timestamp"})
        want = "VIDEO" if post.media and post.media[0].kind == "video" else "IMAGE"
        found = []
        for item in result.get("data", []) if isinstance(result, dict) else []:
            when = parse_time(item.get("timestamp"))
            if str(item.get("id")) in post.taken_ids or item.get("media_type") != want:
                continue
            if when is not None and when >= since:
                found.append((when, item))
        if not found:
            return None
        when, item = min(found, key=lambda f: f[0])
        return Published(str(item["id"]), item.get("permalink"), when,
                         metrics_schedule="story")

    def list_comments(self, external_id: str, cursor: Mapping[str, Any] | None) -> CommentPage:
        """The media's comments and their replies, a page at a time (``_comments.py``)."""
        return without_own(instagram_page(self.graph, external_id, cursor, int(
            self.ctx.settings.get("comments_page_size") or 50)), str(self.ig_user_id))

    def post_comment(self, external_id: str, text: str) -> str:
        """The account's first comment on its own media (``_first_comment.py``)."""
        return graph_post(self.graph, external_id, text)

    def find_comment(self, external_id: str, text: str, since: datetime) -> str | None:
        """The account's own comment with this text on the media (by ``from.id``)."""
        del since
        return graph_find(self.graph, external_id, text, self.ig_user_id, instagram=True)
    def reply_to_comment(self, comment_id: str, text: str) -> str:
        return instagram_reply(self.graph, comment_id, text)

    def find_comment_reply(self, comment_id: str, text: str) -> str | None:
        return instagram_find_reply(self.graph, comment_id, text, self.ig_user_id)

    def hide_comment(self, comment_id: str) -> None:
        instagram_hide(self.graph, comment_id)

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """Per chunk: one multi-id read for like/comment counts and ONE Graph batch request
        for the insights (Meta has no multi-media insights endpoint); failures of a single
        media's insights (too new, album child, not enough viewers) only blank that media."""
        out: dict[str, Metrics] = {}
        names = [n for n in self.insight_metrics.split(",") if n]
        for chunk in chunks(list(ids), self.ids_per_request):
            counts = self.graph.call("GET", "/", params={
                "ids": ",".join(chunk),
                "fields": "like_count,comments_count,media_product_type"})
            # Stories answer other metric names (a feed name fails the whole request).
            stories = {i for i in chunk if isinstance(counts, dict) and isinstance(
                counts.get(i), dict) and counts[i].get("media_product_type") == "STORY"}
            try:
                insights = self.graph.batch([
                    {"method": "GET", "relative_url": f"{i}/insights?metric="
                     f"{STORY_INSIGHTS if i in stories else ','.join(names)}"}
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


def _alt(m: MediaFile) -> dict[str, str]:
    """An image container's ``alt_text`` (images only, at most 1,000 characters; Meta's
    content publishing reference). Stories and reels take none."""
    return {"alt_text": m.alt_text[:1000]} if m.alt_text and m.kind == "image" else {}


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
