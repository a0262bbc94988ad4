"""Threads adapter (Threads API): text, one image or video, carousels of 2–20, insights in
batches. Publishing is the Meta container flow shared with Instagram
(``adapters/_containers.py``): the publishing limit (250 posts a rolling day) is read and
honoured before a container is made, ``publish`` creates the container(s) and returns
``Pending``, each ``poll`` reads the status once and, when ready, calls ``threads_publish`` (the
only irreversible call). Replies and quote posts are left for later.

Tokens: the long-lived token lasts 60 days and can be refreshed once it is a day old; the
adapter renews it whenever it is used with fewer than ``refresh_before_days`` (30) left, and
the worker's daily token sweep (``publisher/worker/tokens.py``) renews it on an idle channel
too, so no channel's token runs out while the office is not posting.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from adapters._containers import ContainerApi, ContainerFlow
from adapters._graph import GraphClient, chunks, insight_values, parse_time
from adapters._graph import connect as graph_connect
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    Credentials,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import AdapterError, AuthExpired, Rejected
from adapters.oauth.threads import OAUTH_BASE

PLATFORM = "threads"
MAX_TEXT = 500
THREADS_CONTAINERS = ContainerApi(PLATFORM, "Threads", create_edge="threads",
                                  publish_edge="threads_publish",
                                  limit_edge="threads_publishing_limit", status_field="status",
                                  error_field="error_message")
INSIGHTS = "views,likes,replies,reposts,quotes,shares"
DAY = 86_400


def threads_length(text: str) -> int:
    """Threads' count (platform-apis.md §7.2: "emoji counted as UTF-8 bytes"): an emoji (a
    symbol outside the Basic Multilingual Plane, or any "So" symbol) weighs its UTF-8 length,
    every other character one. UNCONFIRMED beyond that sentence, so it errs long."""
    return sum(len(ch.encode("utf-8")) if ord(ch) > 0xFFFF or
               unicodedata.category(ch) == "So" else 1 for ch in text)


class ThreadsAdapter(BaseAdapter):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "Threads"
    default_base_url: ClassVar[str | None] = "https://graph.threads.net/v1.0"
    renew_before_days: ClassVar[float | None] = 30.0
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"threads.net", "threads.com"}),
        max_text=MAX_TEXT, max_media=20, max_image_bytes=8_000_000,
        max_video_bytes=1_000_000_000, max_video_seconds=300,
        metrics=frozenset({"views", "likes", "comments", "shares"}), metrics_batch_size=50,
        renews_tokens=True, image_mimes=frozenset({"image/jpeg", "image/png"}),
        needs_public_urls=True, media_by_range=True,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("threads_user_id", "ID pengguna Threads", False),
        ("access_token", "Token akses Threads (berlaku 60 hari)", True),
    )

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.creds: dict[str, Any] = dict(ctx.credentials)
        s = ctx.settings
        self.oauth_base = str(s.get("oauth_url") or OAUTH_BASE).rstrip("/")
        self.refresh_before = float(s.get("refresh_before_days")
                                    or self.renew_before_days or 30) * DAY
        self.user_id, self.graph = graph_connect(
            PLATFORM, self.base_url, ctx, "threads_user_id",
            "ID pengguna Threads atau token akses belum diisi. Sambungkan akun.",
            "The Threads user id or access token is missing. Connect the account.")
        self.flow = ContainerFlow(THREADS_CONTAINERS, self.graph, self.user_id,
                                  poll_seconds=float(s.get("poll_seconds") or 30),
                                  max_polls=int(s.get("max_polls") or 30),
                                  quota_wait=float(s.get("quota_wait_seconds") or 3600),
                                  state=ctx.state, now=self._now)
        self._renewed = False

    # -- tokens -----------------------------------------------------------------------------
    def _renew_if_due(self) -> None:
        """Refresh a token with fewer than ``refresh_before`` seconds left (once per adapter).
        A failed early refresh is no failure: the token still works until it expires."""
        expires_at = float(self.creds.get("expires_at") or 0)
        now = self._now().timestamp()
        if self._renewed or not expires_at or expires_at - now > self.refresh_before:
            return
        self._renewed = True
        try:
            self.refresh()
        except AdapterError:
            if expires_at <= now:
                raise

    def refresh(self) -> Credentials | None:
        """``th_refresh_token``: a new 60-day token (allowed once the token is a day old)."""
        client = GraphClient(PLATFORM, self.oauth_base, self.graph.token, self.ctx.http,
                             self.ctx.timeout)
        try:
            result = client.call("GET", "refresh_access_token", params={
                "grant_type": "th_refresh_token", "access_token": self.graph.token})
        except (AuthExpired, Rejected):
            return None
        token = str(result.get("access_token") or "")
        if not token:
            return None
        now = int(self._now().timestamp())
        new = {**self.creds, "access_token": token, "refreshed_at": now,
               "expires_at": now + int(result.get("expires_in") or 60 * DAY)}
        self.creds = new
        self.graph.token = token
        self.ctx.save_credentials(new)
        return new

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        self._renew_if_due()
        return self.graph.call(method, path, **kw)

    # -- validation -------------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = [p for p in super().validate(post) if p.code != "too_long"]
        length = threads_length(self._text(post))
        if length > MAX_TEXT:
            problems.append(Problem(
                "body", "too_long",
                f"Teks Threads paling panjang {MAX_TEXT} karakter (emoji dihitung lebih); "
                f"sekarang {length}.",
                f"A Threads post is at most {MAX_TEXT} characters (emoji count more); this "
                f"one: {length}."))
        if not post.media and not post.body.strip():
            problems.append(Problem("body", "empty", "Unggahan Threads tanpa media perlu teks.",
                                    "A Threads post without media needs text."))
        return problems

    @staticmethod
    def _text(post: OutgoingPost) -> str:
        """The text Threads receives: a link joins the text of a media post (a text post
        carries it as ``link_attachment``)."""
        if post.media and post.link and post.link not in post.body:
            return f"{post.body}\n\n{post.link}".strip()
        return post.body

    # -- publishing -------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        urls = [_public_url(m) for m in post.media]
        self._renew_if_due()
        self.flow.check_quota()
        text = self._text(post)
        if not post.media:
            data = {"media_type": "TEXT", "text": text}
            if post.link and post.link not in post.body:
                data["link_attachment"] = post.link
            return self.flow.pending({"stage": "container", "container": self.flow.create(data)})
        if len(post.media) == 1:
            cid = self.flow.create({**_item(post.media[0], urls[0]), "text": text})
            return self.flow.pending({"stage": "container", "container": cid})
        children = [self.flow.create({**_item(m, u), "is_carousel_item": "true"})
                    for m, u in zip(post.media, urls, strict=True)]
        state: dict[str, Any] = {"stage": "children", "children": children,
                                 "caption": text or None}
        if all(m.kind == "image" for m in post.media):
            return self.flow.pending(self._parent(state))
        return self.flow.pending(state)

    def _parent(self, state: dict[str, Any]) -> dict[str, Any]:
        return self.flow.create_parent(state, "text")

    def poll(self, pending: Pending) -> Published | Pending:
        self._renew_if_due()
        return self.flow.poll(pending, self._parent)

    # -- reconciliation, metrics, account ---------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        result = self._call("GET", f"{self.user_id}/threads", params={
            "fields": "id,text,media_type,permalink,timestamp,children{id}", "limit": 50})
        want = " ".join(self._text(post).split())
        for item in result.get("data", []) if isinstance(result, dict) else []:
            when = parse_time(item.get("timestamp"))
            if str(item.get("id")) in post.taken_ids or (when is not None and when < since):
                continue
            if " ".join(str(item.get("text") or "").split()) != want:
                continue
            children = (item.get("children") or {}).get("data") or []
            count = len(children) if item.get("media_type") == "CAROUSEL_ALBUM" else (
                0 if item.get("media_type") == "TEXT_POST" else 1)
            if count == len(post.media):
                return Published(str(item["id"]), item.get("permalink"), when)
        return None

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """Threads has no multi-media insights: ONE Graph batch request per 50 media; a
        media whose insights failed is left out (its numbers stay "not available")."""
        out: dict[str, Metrics] = {}
        metric = str(self.ctx.settings.get("insight_metrics") or INSIGHTS)
        self._renew_if_due()
        for chunk in chunks(list(ids), self.caps.metrics_batch_size):
            answers = self.graph.batch([{"method": "GET",
                                         "relative_url": f"{i}/insights?metric={metric}"}
                                        for i in chunk])
            for media_id, answer in zip(chunk, answers, strict=True):
                if answer is None:
                    continue
                v = insight_values(answer)
                out[media_id] = Metrics(views=v.get("views"), likes=v.get("likes"),
                                        comments=v.get("replies"), shares=v.get("shares"))
        return out

    def account(self) -> AccountInfo:
        result = self._call("GET", self.user_id, params={"fields": "id,username,name"})
        return AccountInfo(str(result.get("id", self.user_id)),
                           str(result.get("name") or result.get("username") or ""),
                           result.get("username"))


def _item(m: MediaFile, url: str) -> dict[str, str]:
    """One media container's fields; an image's alt text as the container's ``alt_text``."""
    if m.kind == "video":
        return {"media_type": "VIDEO", "video_url": url}
    alt = {"alt_text": m.alt_text[:1000]} if m.alt_text else {}
    return {"media_type": "IMAGE", "image_url": url, **alt}


def _public_url(m: MediaFile) -> str:
    if not m.public_url:
        raise Rejected(PLATFORM, "Threads mengambil media dari URL publik, tetapi "
                       "WARTA_PUBLIC_URL belum diatur atau tidak dapat dijangkau dari internet. "
                       "Minta admin mengaturnya.", "Threads fetches media from a public URL, "
                       "but WARTA_PUBLIC_URL is not configured or not reachable from the "
                       "internet. Ask an admin to set it.", code="public_url_missing")
    return m.public_url
