"""X (Twitter) adapter, API v2: text, up to 4 images or 1 video, batched public metrics.

Credentials are either an OAuth 2.0 user token with refresh (client id/secret, access and
refresh token, ``expires_at``) or OAuth 1.0a user keys (``api_key``, ``api_key_secret``,
``access_token``, ``access_token_secret``). Signing and token refresh go through
requests-oauthlib and Authlib, never hand-written crypto.

Media go through the v2 chunked upload (initialize / append / finalize). A video that X is
still processing yields ``Pending``; ``poll`` asks for the status once and, when it succeeded,
creates the post. ``POST /2/tweets`` is the only irreversible call: a timeout or 5xx after it is
``OutcomeUnknown``, and a "duplicate content" refusal is reconciled through ``lookup`` because
our own earlier attempt may be the post X is comparing against.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests
from requests_oauthlib import OAuth1
from twitter_text import parse_tweet

from adapters._stream import FileSlice, StreamingMultipart
from adapters._x_errors import PLATFORM, classify
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    CommentPage,
    Credentials,
    IncomingComment,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater, safe_detail
from adapters.oauth import refresh_access_token

MiB = 1024 * 1024
_URL = re.compile(r"https?://\S+")


def compose(post: OutgoingPost) -> str:
    """The text X receives: the body, plus the link when the body does not already hold it."""
    if post.link and post.link not in post.body:
        return f"{post.body}\n\n{post.link}" if post.body else post.link
    return post.body


def _normal(text: str) -> str:
    """Compare texts as X returns them: t.co-rewritten URLs and HTML entities removed."""
    return " ".join(_URL.sub(" ", html.unescape(text)).split())


def _time(value: Any) -> datetime | None:
    """X's ``2026-06-10T03:00:00.000Z``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def media_category(m: MediaFile) -> str:
    if m.kind == "video":
        return "tweet_video"
    return "tweet_gif" if m.mime == "image/gif" else "tweet_image"


class XAdapter(BaseAdapter):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "X (Twitter)"
    default_base_url: ClassVar[str | None] = "https://api.x.com"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"x.com", "twitter.com"}),
        max_text=280, max_media=4, max_image_bytes=5_000_000, max_video_bytes=512 * MiB,
        max_image_pixels=8192 * 8192,
        metrics=frozenset({"likes", "comments", "shares", "views", "impressions", "saves"}),
        metrics_batch_size=100, renews_tokens=True, media_by_range=True,
        reads_comments=True, comments_newest_first=True, comments_opt_in=True,
        max_first_comment=280,  # a reply is a post: the same weighted 280
    )
    #: X's pay-per-use price of one post read (platform-apis-2.md §1.4: $0.005 per post
    #: returned, a post returned again the same UTC day not charged again), shown on the
    #: channel page next to the switch.
    REPLY_READ_USD: ClassVar[float] = 0.005
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("client_id", "OAuth 2.0 Client ID", False),
        ("client_secret", "OAuth 2.0 Client Secret (kosongkan untuk public client)", True),
        ("access_token", "Access token (OAuth 2.0 atau OAuth 1.0a)", True),
        ("refresh_token", "Refresh token (OAuth 2.0)", True),
        ("api_key", "API Key / Consumer Key (OAuth 1.0a saja)", False),
        ("api_key_secret", "API Key Secret (OAuth 1.0a saja)", True),
        ("access_token_secret", "Access Token Secret (OAuth 1.0a saja)", True),
    )

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.creds: dict[str, Any] = dict(ctx.credentials)
        self.oauth1 = bool(self.creds.get("access_token_secret"))
        self.token_url = str(ctx.settings.get("token_url") or f"{self.base_url}/2/oauth2/token")

    # -- plumbing -----------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [str(v) for k, v in self.creds.items()
                if v and k in ("client_secret", "access_token", "refresh_token",
                               "api_key_secret", "access_token_secret")]

    def _auth(self) -> dict[str, Any]:
        if self.oauth1:
            return {"auth": OAuth1(self.creds.get("api_key"), self.creds.get("api_key_secret"),
                                   self.creds.get("access_token"),
                                   self.creds.get("access_token_secret"))}
        expires_at = self.creds.get("expires_at")
        if (expires_at and self.creds.get("refresh_token")
                and float(expires_at) <= self._now().timestamp() + 60):
            self.refresh()  # the token is known to be stale: one refresh saves a failed call
        return {"headers": {"Authorization": f"Bearer {self.creds.get('access_token', '')}"}}

    def _request(self, method: str, path: str, *, stage: str = "read", **kw: Any) -> Any:
        """One HTTP call to X; errors classified, the JSON body returned."""
        auth = self._auth()
        headers = {**auth.get("headers", {}), **kw.pop("headers", {})}
        try:
            resp = self.ctx.http.request(method, f"{self.base_url}{path}", headers=headers,
                                         auth=auth.get("auth"), timeout=self.ctx.timeout, **kw)
        except requests.RequestException as exc:
            detail = safe_detail(f"{type(exc).__name__}: {exc}", self._secrets())
            if stage == "create":
                raise OutcomeUnknown(
                    PLATFORM, "Koneksi ke X terputus setelah unggahan dikirim; belum pasti "
                    "sudah terbit.", "The connection to X dropped after the post was sent; it "
                    "may or may not be published.", code="timeout", detail=detail) from None
            raise RetryLater(PLATFORM, "X tidak dapat dihubungi; dicoba lagi otomatis.",
                             "X could not be reached; retrying automatically.",
                             code="network", detail=detail) from None
        if resp.status_code >= 400:
            raise classify(resp, stage=stage, now=time.time() if not self.ctx.now
                           else self._now().timestamp(), settings=self.ctx.settings,
                           secrets=self._secrets())
        return resp.json() if resp.content else {}

    # -- validation ---------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        # X weighs characters (URLs 23, CJK and emoji 2): the base length check is replaced.
        # Sizes differ per kind (GIF 15 MB, photo 5 MB): the base size check is replaced too.
        problems = [p for p in super().validate(post)
                    if p.code not in ("too_long", "media_too_large")]
        text = compose(post)
        parsed = parse_tweet(text)
        if parsed.weightedLength > 280:
            problems.append(Problem(
                "body", "too_long",
                f"Teks terlalu panjang untuk X: bobot {parsed.weightedLength} dari maksimal 280 "
                "(tautan dihitung 23, emoji dan huruf CJK dihitung 2).",
                f"Text is too long for X: weight {parsed.weightedLength} of at most 280 "
                "(links count 23, emoji and CJK characters count 2)."))
        if not text.strip() and not post.media:
            problems.append(Problem("body", "empty", "Unggahan X tidak boleh kosong.",
                                    "An X post cannot be empty."))
        kinds = [media_category(m) for m in post.media]
        if ("tweet_video" in kinds or "tweet_gif" in kinds) and len(kinds) > 1:
            problems.append(Problem(
                "media", "media_mix",
                "X menerima paling banyak 4 foto, atau 1 GIF, atau 1 video per unggahan.",
                "X takes at most 4 photos, or 1 GIF, or 1 video per post."))
        max_seconds = float(self.ctx.settings.get("max_video_seconds") or 1200)
        for m in post.media:
            if m.kind == "video" and m.duration and m.duration > max_seconds:
                problems.append(Problem(
                    "media", "video_too_long",
                    f"Video terlalu panjang untuk X ({m.duration:.0f} detik, maks "
                    f"{max_seconds:.0f}).",
                    f"Video too long for X ({m.duration:.0f} s, max {max_seconds:.0f})."))
            cap = {"tweet_gif": 15_000_000, "tweet_image": 5_000_000}.get(
                media_category(m), self.caps.max_video_bytes or 0)
            if m.size > cap:
                problems.append(Problem(
                    "media", "media_too_large",
                    f"Berkas terlalu besar untuk X ({m.size / 1e6:.1f} MB, "
                    f"maks {cap / 1e6:.0f} MB).",
                    f"File too large for X ({m.size / 1e6:.1f} MB, max {cap / 1e6:.0f} MB)."))
        return problems

    # -- publishing ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        media_ids: list[str] = []
        for m in post.media:
            media_id, processing = self._upload(m)
            media_ids.append(media_id)
            if processing:
                return Pending({"key": post.key, "text": compose(post), "media_ids": media_ids,
                                "processing": media_id},
                               poll_after=float(processing.get("check_after_secs") or 5))
        return self._create(post.key, compose(post), media_ids)

    def poll(self, pending: Pending) -> Published | Pending:
        state = dict(pending.state)
        info = self._request("GET", "/2/media/upload", stage="upload",
                             params={"command": "STATUS", "media_id": state["processing"]})
        processing = (info.get("data") or {}).get("processing_info") or {}
        status = processing.get("state", "succeeded")
        if status in ("pending", "in_progress"):
            return Pending(state, poll_after=float(processing.get("check_after_secs") or 5))
        if status == "failed":
            error = processing.get("error") or {}
            said = safe_detail(str(error.get("message") or error.get("name") or ""),
                               self._secrets(), limit=300)
            raise Rejected(PLATFORM, f"X gagal memproses video: {said}",
                           f"X could not process the video: {said}", code="media_failed",
                           detail=safe_detail(str(info), self._secrets()))
        return self._create(str(state["key"]), str(state["text"]), list(state["media_ids"]))

    def _upload(self, m: MediaFile) -> tuple[str, dict[str, Any] | None]:
        """initialize / append chunks / finalize; returns the id and processing info, if any."""
        init = self._request("POST", "/2/media/upload/initialize", stage="upload",
                             json={"media_type": m.mime, "total_bytes": m.size,
                                   "media_category": media_category(m)})
        media_id = str(init["data"]["id"])
        chunk = int(self.ctx.settings.get("chunk_size") or 4 * MiB)
        for index, offset in enumerate(range(0, max(m.size, 1), chunk)):
            body = StreamingMultipart(
                {"segment_index": str(index)},
                {"media": (m.path, "application/octet-stream",
                           FileSlice.of(m, offset, min(chunk, m.size - offset)))})
            self._request("POST", f"/2/media/upload/{media_id}/append", stage="upload",
                          data=body, headers={"Content-Type": body.content_type})
            self.ctx.progress(min(offset + chunk, m.size), m.size)
        final = self._request("POST", f"/2/media/upload/{media_id}/finalize", stage="upload")
        if m.alt_text and m.kind == "image":
            # X takes alt text for images (and GIFs) as media metadata, before the post that
            # attaches them (``POST /2/media/metadata``; at most 1,000 characters).
            self._request("POST", "/2/media/metadata", stage="upload",
                          json={"id": media_id,
                                "metadata": {"alt_text": {"text": m.alt_text[:1000]}}})
        processing = (final.get("data") or {}).get("processing_info")
        if processing and processing.get("state") not in ("succeeded", None):
            return media_id, processing
        return media_id, None

    def _create(self, key: str, text: str, media_ids: list[str]) -> Published:
        payload: dict[str, Any] = {"text": text}
        if media_ids:
            payload["media"] = {"media_ids": media_ids}
        # A "duplicate content" 403 is a Rejected(code="duplicate"): the worker looks for our
        # own earlier attempt since this publication's submit time (never at a post another
        # publication holds) and otherwise fails with X's message.
        data = self._request("POST", "/2/tweets", stage="create", json=payload)["data"]
        post_id = str(data["id"])
        return Published(post_id, self.permalink(post_id), self._now())

    def permalink(self, post_id: str) -> str:
        username = self.ctx.state.get("username")
        if not username:
            try:
                username = self.account().username
            except (RetryLater, AuthExpired, Rejected):
                username = None  # the post is out; a missing name must not hide that
        return f"https://x.com/{username or 'i'}/status/{post_id}"

    @classmethod
    def first_comment_length(cls, text: str) -> int:
        return int(parse_tweet(text).weightedLength)

    def post_comment(self, external_id: str, text: str) -> str:
        """The first comment on X is the account's reply to its own post
        (platform-apis-2.md §1.4); a 5xx or dropped answer is ``OutcomeUnknown``."""
        data = self._request("POST", "/2/tweets", stage="create", json={
            "text": text, "reply": {"in_reply_to_tweet_id": external_id}})["data"]
        return str(data["id"])

    def find_comment(self, external_id: str, text: str, since: datetime) -> str | None:
        """The account's reply to ``external_id`` with this text, from its own timeline
        (replies included) since ``since``."""
        user_id = self.ctx.state.get("user_id") or self.account().external_id
        want = _normal(text)
        params: dict[str, Any] = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": 100, "tweet.fields": "created_at,text,referenced_tweets"}
        for _ in range(int(self.ctx.settings.get("lookup_max_pages") or 3)):
            page = self._request("GET", f"/2/users/{user_id}/tweets", params=params)
            for item in page.get("data") or []:
                parents = {str(r.get("id")) for r in item.get("referenced_tweets") or []
                           if r.get("type") == "replied_to"}
                if external_id in parents and _normal(str(item.get("text", ""))) == want:
                    return str(item["id"])
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = token
        return None

    # -- reading ------------------------------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        """Find the account's post with the same text since ``since`` (newest first)."""
        user_id = self.ctx.state.get("user_id") or self.account().external_id
        want = _normal(compose(post))
        params: dict[str, Any] = {
            "start_time": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": 100, "tweet.fields": "created_at,text", "exclude": "replies"}
        for _ in range(int(self.ctx.settings.get("lookup_max_pages") or 3)):
            page = self._request("GET", f"/2/users/{user_id}/tweets", params=params)
            for item in page.get("data") or []:
                if str(item.get("id")) in post.taken_ids:
                    continue  # another publication's post with the same text
                if _normal(str(item.get("text", ""))) == want:
                    created = item.get("created_at")
                    when = (datetime.fromisoformat(created.replace("Z", "+00:00"))
                            if created else None)
                    return Published(str(item["id"]), self.permalink(str(item["id"])), when)
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return None
            params["pagination_token"] = token
        return None

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        if len(ids) > self.caps.metrics_batch_size:
            raise ValueError("batch larger than metrics_batch_size")
        if not ids:
            return {}
        body = self._request("GET", "/2/tweets", params={
            "ids": ",".join(ids), "tweet.fields": "public_metrics"})
        out: dict[str, Metrics] = {}
        for item in body.get("data") or []:
            pm: Mapping[str, Any] = item.get("public_metrics") or {}

            def num(name: str, pm: Mapping[str, Any] = pm) -> int | None:
                value = pm.get(name)
                return int(value) if value is not None else None

            rt, qt = num("retweet_count"), num("quote_count")
            shares = None if rt is None and qt is None else (rt or 0) + (qt or 0)
            impressions = num("impression_count")
            out[str(item["id"])] = Metrics(
                likes=num("like_count"), comments=num("reply_count"), shares=shares,
                views=impressions, impressions=impressions, saves=num("bookmark_count"))
        return out

    def list_comments(self, external_id: str, cursor: Mapping[str, Any] | None) -> CommentPage:
        """Replies to the office's post at any depth (they share its ``conversation_id``),
        from recent search: the last 7 days only, newest first, ``next_token`` to go on
        (platform-apis-2.md §1.4). The office's own posts in the thread are left out (its
        user id comes from ``account``, cached in the state)."""
        params: dict[str, Any] = {
            "query": f"conversation_id:{external_id}",
            "max_results": int(self.ctx.settings.get("comments_page_size") or 100),
            "tweet.fields": "author_id,conversation_id,created_at,in_reply_to_user_id,"
                            "referenced_tweets",
            "expansions": "author_id", "user.fields": "username,name"}
        if cursor and cursor.get("next_token"):
            params["next_token"] = str(cursor["next_token"])
        own = self.ctx.state.get("user_id") or self.account().external_id
        body = self._request("GET", "/2/tweets/search/recent", params=params)
        body = body if isinstance(body, dict) else {}
        users = {str(u.get("id")): u for u in (body.get("includes") or {}).get("users") or []
                 if isinstance(u, dict)}
        out = []
        for item in body.get("data") or []:
            if not isinstance(item, dict) or not item.get("id"):
                continue
            author = str(item.get("author_id") or "")
            if author and author == str(own):
                continue
            parent = next((str(r.get("id")) for r in item.get("referenced_tweets") or []
                           if isinstance(r, dict) and r.get("type") == "replied_to"), None)
            user = users.get(author, {})
            out.append(IncomingComment(
                id=str(item["id"]), text=html.unescape(str(item.get("text") or "")),
                created_at=_time(item.get("created_at")),
                # A reply to the office's post itself is a top-level comment in the inbox.
                parent_id=None if parent in (None, external_id) else parent,
                author_name=str(user["name"]) if user.get("name") else None,
                author_handle=f"@{user['username']}" if user.get("username") else None))
        token = (body.get("meta") or {}).get("next_token")
        return CommentPage(tuple(out), {"next_token": str(token)} if token else None)

    def account(self) -> AccountInfo:
        data = self._request("GET", "/2/users/me")["data"]
        self.ctx.state["username"] = data.get("username")
        self.ctx.state["user_id"] = str(data["id"])
        return AccountInfo(str(data["id"]), str(data.get("name") or data.get("username")),
                           data.get("username"))

    def refresh(self) -> Credentials | None:
        """Rotate the OAuth 2.0 tokens (X's refresh tokens are single-use: save at once).

        Returns None when there is nothing to refresh (OAuth 1.0a keys do not expire) or X
        refuses the refresh token; the worker then asks a person to reconnect the account.
        """
        if self.oauth1 or not self.creds.get("refresh_token"):
            return None
        new = refresh_access_token(
            PLATFORM, "X", self.creds, token_url=self.token_url,
            auth_method="client_secret_basic" if self.creds.get("client_secret") else "none",
            timeout=self.ctx.timeout, now=self._now(), default_lifetime=7200,
            secrets=self._secrets())
        if new is None:
            return None
        self.creds = new
        self.ctx.save_credentials(new)
        return new
