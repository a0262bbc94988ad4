"""Facebook Page adapter (Graph API): text, link, photo(s) and video posts on a Page.

Credentials are a Page id and a Page access token (from ``GET /me/accounts``, see
``adapters/oauth/meta.py`` or the manual form). Photos and videos are uploaded as bytes from
the local file (streamed, never read whole), so Facebook needs no public URL.

Metrics come from ONE multi-id read per batch (``GET /?ids=…&fields=reactions.summary(…),
comments.summary(…),shares,insights.metric(…)``): counts from the object summaries and
views/reach from post insights expanded in the same call, using the post-2025 metric names
(``post_media_view``, ``post_total_media_view_unique``; ``post_impressions*`` were removed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, ClassVar

from adapters._comments import facebook_page, without_own
from adapters._fb_reels import DEFAULT_UPLOAD_URL, ReelsFlow
from adapters._fb_rules import fb_type, type_problems
from adapters._first_comment import graph_find, graph_post
from adapters._graph import (
    chunks,
    insight_values,
    parse_time,
    summary_count,
)
from adapters._graph import connect as graph_connect
from adapters._replies import facebook_find_reply, facebook_hide, facebook_reply
from adapters._stream import FileSlice, StreamingMultipart
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
from adapters.errors import AdapterError, OutcomeUnknown, Rejected

DEFAULT_INSIGHTS = "post_media_view,post_total_media_view_unique"
#: Reels insights (``/{video-id}/video_insights``): plays and the accounts reached.
DEFAULT_REEL_INSIGHTS = "blue_reels_play_count,post_impressions_unique"
COUNT_FIELDS = "reactions.summary(total_count).limit(0),comments.summary(true).limit(0)"


class FacebookAdapter(BaseAdapter):
    platform: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook (Halaman)"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"facebook.com", "fb.com", "fb.watch"}),
        max_text=63_206, max_media=10, max_image_bytes=10_000_000,
        max_video_bytes=1_000_000_000, metrics_batch_size=50,
        metrics=frozenset({"likes", "comments", "shares", "views", "reach"}),
        option_names=frozenset({"fb_type"}),
        reads_comments=True, replies_to_comments=True, hides_comments=True, media_by_range=True,
        # Comment length: Meta documents none; 8,000 is what Pages take (UNCONFIRMED).
        max_first_comment=8000,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("page_id", "ID Halaman Facebook", False),
        ("access_token", "Token akses Halaman (Page access token)", True),
    )
    default_base_url: ClassVar[str | None] = "https://graph.facebook.com/v25.0"
    #: Meta may still create the post after a 5xx, and the feed shows it with a delay.
    recheck_seconds: ClassVar[float] = 120.0

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.page_id, self.graph = graph_connect(
            self.platform, self.base_url, ctx, "page_id",
            "ID Halaman atau token akses Facebook belum diisi. Sambungkan akun.",
            "The Facebook Page id or access token is missing. Connect the account.")
        self.insight_metrics = str(ctx.settings.get("insight_metrics") or DEFAULT_INSIGHTS)
        self.ids_per_request = int(ctx.settings.get("ids_per_request") or 50)
        #: A video upload may take minutes (``WARTA_FACEBOOK_VIDEO_TIMEOUT``, default 300 s).
        self.video_timeout = float(ctx.settings.get("video_timeout")
                                   or max(ctx.timeout, 300))
        self.permalink_base = str(ctx.settings.get("permalink_base")
                                  or "https://www.facebook.com").rstrip("/")
        self.reel_insights = str(ctx.settings.get("reel_insights") or DEFAULT_REEL_INSIGHTS)
        s = ctx.settings
        self.reels = ReelsFlow(
            self.platform, self.graph, self.page_id, ctx.http,
            upload_url=str(s.get("upload_url") or DEFAULT_UPLOAD_URL), state=ctx.state,
            save_state=ctx.save_state, now=self._now, permalink_base=self.permalink_base,
            timeout=self.video_timeout, poll_seconds=float(s.get("reel_poll_seconds") or 15),
            max_polls=int(s.get("reel_max_polls") or 40),
            reels_per_day=int(s.get("reels_per_day") or 30),
            grace=timedelta(seconds=float(s.get("lookup_grace_seconds") or 2700)))

    # -- validation -------------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = super().validate(post)
        if fb_type(post) != "feed":
            # Reels and Stories have their own media rules (one item, 9:16, durations).
            return problems + type_problems(post)
        videos = [m for m in post.media if m.kind == "video"]
        if videos and len(post.media) > 1:
            problems.append(Problem(
                "media", "video_not_alone",
                "Video di Facebook harus diunggah sendiri, tanpa foto atau video lain.",
                "A Facebook video must be posted on its own, without other photos or videos."))
        return problems

    # -- publishing -------------------------------------------------------------------------
    def _message(self, post: OutgoingPost) -> str:
        """The text Facebook will show: for media posts the link (if any) goes in the text,
        because only ``/feed`` takes a ``link`` parameter. ``lookup`` compares with this."""
        if post.media and post.link and post.link not in post.body:
            return f"{post.body}\n\n{post.link}".strip()
        return post.body

    def _published(self, post_id: str) -> Published:
        return Published(post_id, f"{self.permalink_base}/{post_id}", self._now())

    def publish(self, post: OutgoingPost) -> Published | Pending:
        message = self._message(post)
        if fb_type(post) == "reel":
            return self.reels.publish_reel(post, message)
        if fb_type(post) == "story":
            return self.reels.publish_story(post, self._unpublished_photo)
        if not post.media:
            data = {"message": message}
            if post.link:
                data["link"] = post.link
            result = self.graph.call("POST", f"{self.page_id}/feed", data=data, after_create=True)
            return self._published(self._id(result, "id"))
        if len(post.media) == 1 and post.media[0].kind == "video":
            m = post.media[0]
            fields = {"description": message}
            if post.title:
                fields["title"] = post.title
            body = self._upload_body(fields, m)
            result = self.graph.call("POST", f"{self.page_id}/videos", body=body,
                                     after_create=True, timeout=self.video_timeout)
            video_id = self._id(result, "id")
            link = f"{self.permalink_base}/{self.page_id}/videos/{video_id}/"
            return Published(video_id, link, self._now())
        if len(post.media) == 1:
            m = post.media[0]
            body = self._upload_body({"caption": message, "published": "true", **_alt(m)}, m)
            result = self.graph.call("POST", f"{self.page_id}/photos", body=body,
                                     after_create=True)
            return self._published(self._id(result, "post_id", "id"))
        # Several photos: upload each unpublished (reversible, so failures here are RetryLater),
        # then ONE feed post that attaches them (the irreversible call).
        photo_ids = [self._unpublished_photo(m) for m in post.media]
        data = {"message": message}
        for i, pid in enumerate(photo_ids):
            data[f"attached_media[{i}]"] = f'{{"media_fbid":"{pid}"}}'
        result = self.graph.call("POST", f"{self.page_id}/feed", data=data, after_create=True)
        return self._published(self._id(result, "id"))

    def _unpublished_photo(self, m: MediaFile) -> str:
        """An unpublished photo (reversible: failures here are RetryLater): an album's part
        or a photo story's media."""
        body = self._upload_body({"published": "false", **_alt(m)}, m)
        return self._id(self.graph.call("POST", f"{self.page_id}/photos", body=body), "id")

    def poll(self, pending: Pending) -> Published | Pending:
        """Only a reel is ever pending: one read of its processing status."""
        return self.reels.poll(pending)

    def _upload_body(self, fields: dict[str, str], m: MediaFile) -> StreamingMultipart:
        """The file as Graph's ``source`` part, streamed from disk with progress reported."""
        return StreamingMultipart(fields, {"source": (m.path, m.mime, FileSlice.of(m))},
                                  progress=self.ctx.progress)

    def _id(self, result: Any, *keys: str) -> str:
        for key in keys:
            if isinstance(result, dict) and result.get(key):
                return str(result[key])
        raise OutcomeUnknown(self.platform,
                             "Facebook menjawab tanpa ID unggahan; belum pasti sudah terbit.",
                             "Facebook answered without a post id; it may or may not be "
                             "published.", code="no_id", detail=str(result))

    # -- reconciliation ---------------------------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        """Find our post in the Page feed since ``since`` by its text and media count; a
        reel or a story by its own saved upload id (``adapters/_fb_reels.py``)."""
        if fb_type(post) in ("reel", "story"):
            return self.reels.lookup(post, since, fb_type(post), self._message(post))
        result = self.graph.call("GET", f"{self.page_id}/feed", params={
            "since": int(since.timestamp()), "limit": 50,
            "fields": "id,message,permalink_url,created_time,"
                      "attachments{media_type,subattachments.limit(20){media_type}}"})
        want_text = self._message(post).strip()
        for item in result.get("data", []) if isinstance(result, dict) else []:
            if str(item.get("id")) in post.taken_ids:
                continue
            if str(item.get("message") or "").strip() != want_text:
                continue
            if _media_count(item) != len(post.media):
                continue
            when = parse_time(item.get("created_time"))
            return Published(str(item["id"]),
                             item.get("permalink_url") or f"{self.permalink_base}/{item['id']}",
                             when)
        return None

    # -- metrics ----------------------------------------------------------------------------
    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """One multi-id read per ``ids_per_request`` ids (normally one call per batch).

        Videos (bare ids, no ``page_post`` underscore) have no ``shares`` or post insights, so
        they go in their own read with the count fields only. If Meta rejects the read (a
        deleted post makes the whole multi-id read fail, an insight metric may be renamed), a
        single Graph batch request retries the ids one by one so the others still get numbers.
        """
        out: dict[str, Metrics] = {}
        posts = [i for i in ids if "_" in i]
        videos = [i for i in ids if "_" not in i]
        post_fields = f"{COUNT_FIELDS},shares,insights.metric({self.insight_metrics})"
        for group, fields in ((posts, post_fields), (videos, COUNT_FIELDS)):
            for chunk in chunks(group, self.ids_per_request):
                out.update(self._read_metrics(chunk, fields))
        for chunk in chunks(videos, 50):
            self._add_video_insights(chunk, out)
        return out

    def _add_video_insights(self, ids: Sequence[str], out: dict[str, Metrics]) -> None:
        """Plays and reach of reels from ``/{video-id}/video_insights``, in ONE Graph batch
        per 50 videos (no multi-video insights read exists); a video that is no reel refuses
        the reel metric names, which leaves only its own numbers None."""
        try:
            subs = self.graph.batch([{"method": "GET", "relative_url":
                                      f"{i}/video_insights?metric={self.reel_insights}"}
                                     for i in ids])
        except AdapterError:
            return  # the counts stand; the next scheduled read fills the insights
        for i, sub in zip(ids, subs, strict=True):
            values = insight_values(sub)
            views = values.get("blue_reels_play_count")
            reach = values.get("post_impressions_unique")
            if views is None and reach is None:
                continue
            base = out.get(i) or Metrics()
            out[i] = replace(base, views=views, reach=reach)

    def _read_metrics(self, ids: Sequence[str], fields: str) -> dict[str, Metrics]:
        try:
            result = self.graph.call("GET", "/", params={"ids": ",".join(ids), "fields": fields})
        except Rejected:
            subs = self.graph.batch([{"method": "GET", "relative_url": f"{i}?fields={fields}"}
                                     for i in ids])
            result = {i: s for i, s in zip(ids, subs, strict=True) if s is not None}
        return {i: _metrics(obj) for i, obj in (result or {}).items()
                if i in ids and isinstance(obj, dict)}

    # -- comments ---------------------------------------------------------------------------
    def list_comments(self, external_id: str, cursor: Mapping[str, Any] | None) -> CommentPage:
        """Every level, oldest first, from the saved ``after`` cursor (``_comments.py``)."""
        return without_own(facebook_page(self.graph, external_id, cursor, int(
            self.ctx.settings.get("comments_page_size") or 100)), str(self.page_id))

    def post_comment(self, external_id: str, text: str) -> str:
        """The Page's first comment on its own post (``_first_comment.py``)."""
        return graph_post(self.graph, external_id, text)

    def find_comment(self, external_id: str, text: str, since: datetime) -> str | None:
        """The Page's own comment with this text on the post, if it exists."""
        del since  # a post's comments are few and the listing is oldest first
        return graph_find(self.graph, external_id, text, self.page_id, instagram=False)
    def reply_to_comment(self, comment_id: str, text: str) -> str:
        return facebook_reply(self.graph, comment_id, text)

    def find_comment_reply(self, comment_id: str, text: str) -> str | None:
        return facebook_find_reply(self.graph, comment_id, text, self.page_id)

    def hide_comment(self, comment_id: str) -> None:
        facebook_hide(self.graph, comment_id)

    # -- account ----------------------------------------------------------------------------
    def account(self) -> AccountInfo:
        result = self.graph.call("GET", self.page_id, params={"fields": "id,name,link"})
        return AccountInfo(str(result.get("id", self.page_id)), str(result.get("name", "")),
                           None, {"link": result.get("link")} if result.get("link") else {})


def _alt(m: MediaFile) -> dict[str, str]:
    """A photo's alt text as Graph's Photo ``alt_text_custom`` ("user provided accessible
    alternative description"); nothing when the operator wrote none (Facebook then keeps its
    automatic one)."""
    return {"alt_text_custom": m.alt_text} if m.alt_text and m.kind == "image" else {}


def _metrics(obj: dict[str, Any]) -> Metrics:
    shares = obj.get("shares")
    insights = insight_values(obj.get("insights"))
    # Meta omits "shares" on a post nobody shared (reference §1.4, UNCONFIRMED): without the
    # field we cannot tell 0 from "not given", so it stays None ("not available").
    share_count = shares.get("count") if isinstance(shares, dict) else None
    return Metrics(likes=summary_count(obj, "reactions"), comments=summary_count(obj, "comments"),
                   shares=share_count, views=insights.get("post_media_view"),
                   reach=insights.get("post_total_media_view_unique"))


def _media_count(item: dict[str, Any]) -> int:
    count = 0
    for att in (item.get("attachments") or {}).get("data", []):
        subs = (att.get("subattachments") or {}).get("data")
        if subs:
            count += sum(1 for s in subs if s.get("media_type") in ("photo", "video"))
        elif att.get("media_type") in ("photo", "video"):
            count += 1
    return count
