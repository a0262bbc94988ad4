"""YouTube adapter (Data API v3): resumable video upload, batched statistics, uploads lookup.

A video is sent with Google's resumable protocol straight from disk in chunks (multiples of
256 KiB), so a 2 GB file never sits in memory. After a broken chunk the adapter asks the server
how much it has (``Content-Range: bytes */total`` → 308 + ``Range``) and continues from there;
if the break hit the final chunk, that status query tells whether the video already exists, so
it is never uploaded twice. Only when even that cannot be known is it ``OutcomeUnknown``.

Quota (10,000 units a day by default, reset at midnight Pacific) is tracked per channel in
``ctx.state`` so an upload that cannot fit waits for the next day instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests

from adapters._comments import without_own, youtube_page
from adapters._first_comment import youtube_find, youtube_post
from adapters._google import (
    PLATFORM,
    classify,
    pacific_day,
    quota_error,
    reserve_error,
    seconds_to_pacific_midnight,
)
from adapters._replies import youtube_find_reply
from adapters._stream import FileSlice
from adapters._youtube_meta import check_options, video_resource
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    CommentPage,
    Credentials,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import AuthExpired, OutcomeUnknown, Rejected, RetryLater, safe_detail
from adapters.oauth import refresh_access_token

KiB = 1024
CHUNK_UNIT = 256 * KiB
LIST_COST = 1
#: comments.insert and comments.setModerationStatus (platform-apis-2.md §1.5).
WRITE_COST = 50
THUMBNAIL_COST = 50


class YouTubeAdapter(BaseAdapter):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "YouTube"
    default_base_url: ClassVar[str | None] = "https://www.googleapis.com"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"youtube.com", "youtu.be"}),
        max_text=5000, max_title=100, media_kinds=frozenset({"video", "image"}), max_media=2,
        requires_media=True, max_image_bytes=2_000_000, max_video_bytes=256 * 1024 ** 3,
        metrics=frozenset({"views", "likes", "comments"}), metrics_batch_size=50,
        renews_tokens=True, reads_comments=True, comments_newest_first=True,
        max_first_comment=10_000,  # platform-apis-2.md §1.5: UNCONFIRMED
        replies_to_comments=True, hides_comments=True,
        media_by_range=True,
        option_names=frozenset({"privacy", "publish_at", "made_for_kids", "notify_subscribers",
                                "tags", "category", "description"}),
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("client_id", "Google OAuth Client ID", False),
        ("client_secret", "Google OAuth Client Secret", True),
        ("refresh_token", "Refresh token", True),
    )

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.creds: dict[str, Any] = dict(ctx.credentials)
        s = ctx.settings
        self.api = f"{self.base_url}/youtube/v3"
        self.upload_url = str(s.get("upload_url") or f"{self.base_url}/upload/youtube/v3/videos")
        self.thumbnail_url = str(s.get("thumbnail_url")
                                 or f"{self.base_url}/upload/youtube/v3/thumbnails/set")
        self.token_url = str(s.get("token_url") or "https://oauth2.googleapis.com/token")
        chunk = int(s.get("chunk_size") or 32 * CHUNK_UNIT)  # 8 MiB
        self.chunk = max(CHUNK_UNIT, chunk - chunk % CHUNK_UNIT)
        self.budget = int(s.get("daily_quota") or 10_000)
        self.upload_cost = int(s.get("upload_cost") or 1600)
        self.max_resumes = int(s.get("max_resumes") or 3)

    # -- plumbing -----------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [str(self.creds.get(k)) for k in ("client_secret", "refresh_token", "access_token")
                if self.creds.get(k)]

    def _quota_used(self) -> int:
        quota = self.ctx.state.get("quota") or {}
        return int(quota.get("used", 0)) if quota.get("day") == pacific_day(self._now()) else 0

    def _spend(self, units: int) -> None:
        self.ctx.state["quota"] = {"day": pacific_day(self._now()),
                                   "used": self._quota_used() + units}

    def _headers(self) -> dict[str, str]:
        expires_at = float(self.creds.get("expires_at") or 0)
        if not self.creds.get("access_token") or expires_at <= self._now().timestamp() + 60:
            if self.refresh() is None:
                raise AuthExpired(
                    PLATFORM, "Google menolak token penyegaran kanal ini. Sambungkan ulang akun "
                    "YouTube.", "Google refused this channel's refresh token. Reconnect the "
                    "YouTube account.", code="invalid_grant")
        return {"Authorization": f"Bearer {self.creds['access_token']}"}

    def _call(self, method: str, url: str, *, stage: str = "read", cost: int = LIST_COST,
              **kw: Any) -> requests.Response:
        headers = {**self._headers(), **kw.pop("headers", {})}
        try:
            resp = self.ctx.http.request(method, url, headers=headers, timeout=self.ctx.timeout,
                                         **kw)
        except requests.RequestException as exc:
            raise RetryLater(PLATFORM, "YouTube tidak dapat dihubungi; dicoba lagi otomatis.",
                             "YouTube could not be reached; retrying automatically.",
                             code="network", detail=safe_detail(str(exc), self._secrets())
                             ) from None
        self._spend(cost)  # Google charges failed requests too
        if resp.status_code >= 400:
            error = classify(resp, stage=stage, now=self._now(), secrets=self._secrets())
            if error.code == "quota_exceeded":
                self.ctx.state["quota"] = {"day": pacific_day(self._now()), "used": self.budget}
            raise error
        return resp

    # -- validation ---------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = [p for p in super().validate(post) if p.code != "too_many_media"]
        videos = [m for m in post.media if m.kind == "video"]
        images = [m for m in post.media if m.kind == "image"]
        if len(videos) != 1 or len(images) > 1:
            problems.append(Problem(
                "media", "one_video",
                "YouTube memerlukan tepat satu video (dan boleh satu gambar sebagai thumbnail).",
                "YouTube needs exactly one video (and optionally one image as the thumbnail)."))
        problems += check_options(post, self._now())
        scheduled = post.scheduled_at
        same_day = scheduled is None or pacific_day(scheduled) == pacific_day(self._now())
        need = self.upload_cost + (THUMBNAIL_COST if images else 0)
        if same_day and self._quota_used() + need > self.budget:
            problems.append(Problem(
                "media", "quota",
                f"Kuota YouTube hari ini tidak cukup ({self._quota_used()} dari {self.budget} "
                f"unit terpakai, unggahan perlu {need}). Jadwalkan setelah tengah malam waktu "
                "Pasifik (15.00 WIB).",
                f"Today's YouTube quota is not enough ({self._quota_used()} of {self.budget} "
                f"units used, an upload needs {need}). Schedule it after midnight Pacific time."))
        return problems

    # -- publishing ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is None or not isinstance(post.options.get("made_for_kids"), bool):
            raise Rejected(PLATFORM, "Unggahan YouTube perlu satu video dan pilihan 'dibuat "
                           "untuk anak-anak'.", "A YouTube upload needs one video and the "
                           "'made for kids' choice.", code="invalid_post")
        thumb = next((m for m in post.media if m.kind == "image"), None)
        if self._quota_used() + self.upload_cost > self.budget:
            raise quota_error(self._now())
        location = self._initiate(post, video)
        video_id = self._upload(location, video)
        if thumb is not None:
            self._thumbnail(video_id, thumb)
        return Published(video_id, f"https://www.youtube.com/watch?v={video_id}", self._now())

    def _initiate(self, post: OutgoingPost, video: MediaFile) -> str:
        notify = post.options.get("notify_subscribers", True)
        resp = self._call(
            "POST", self.upload_url, cost=self.upload_cost,
            params={"uploadType": "resumable", "part": "snippet,status",
                    "notifySubscribers": "true" if notify else "false"},
            json=video_resource(post, self.ctx.settings),
            headers={"X-Upload-Content-Length": str(video.size),
                     "X-Upload-Content-Type": video.mime or "application/octet-stream"})
        location = resp.headers.get("Location")
        if not location:
            raise RetryLater(PLATFORM, "YouTube tidak memberi alamat unggahan; dicoba lagi.",
                             "YouTube gave no upload address; retrying.", code="no_location",
                             detail=safe_detail(resp.text, self._secrets()))
        return location

    def _upload(self, location: str, video: MediaFile) -> str:
        """Send the file chunk by chunk; resume from the server's ``Range`` after a break."""
        total, offset, breaks = video.size, 0, 0
        while True:
            end = min(offset + self.chunk, total)
            final = end == total
            resp: requests.Response | None
            try:
                resp = self.ctx.http.put(
                    location, data=FileSlice.of(video, offset, end - offset),
                    headers={**self._headers(), "Content-Type": video.mime,
                             "Content-Range": f"bytes {offset}-{end - 1}/{total}"},
                    timeout=self.ctx.timeout)
            except requests.RequestException:
                resp = None
            if resp is not None and resp.status_code in (200, 201):
                self.ctx.progress(total, total)
                return str(resp.json()["id"])
            if resp is not None and resp.status_code == 308:
                new = _next_offset(resp)
                if new > offset:
                    offset = new
                    self.ctx.progress(offset, total)
                    continue
            elif resp is not None and resp.status_code < 500:
                if resp.status_code in (404, 410):
                    raise RetryLater(PLATFORM, "Sesi unggah YouTube kedaluwarsa; unggahan diulang "
                                     "dari awal.", "The YouTube upload session expired; the "
                                     "upload starts again.", code="session_expired",
                                     http_status=resp.status_code,
                                     detail=safe_detail(resp.text, self._secrets()))
                raise classify(resp, stage="upload", now=self._now(), secrets=self._secrets())
            breaks += 1
            status = self._upload_status(location, total) if breaks <= self.max_resumes else None
            if isinstance(status, str):
                self.ctx.progress(total, total)
                return status  # the break hit the end, but the video is there: not re-sent
            if status is None:
                detail = safe_detail(resp.text if resp is not None else "connection broken",
                                     self._secrets())
                if final:
                    raise OutcomeUnknown(
                        PLATFORM, "Koneksi putus saat bagian terakhir video dikirim dan status "
                        "unggahan tidak dapat dipastikan. Periksa YouTube Studio sebelum "
                        "mengunggah ulang.", "The connection broke while the last part of the "
                        "video was sent and the upload state is unknown. Check YouTube Studio "
                        "before uploading again.", code="upload_unknown", detail=detail)
                raise RetryLater(PLATFORM, "Unggahan video YouTube terputus; dicoba lagi "
                                 "otomatis.", "The YouTube video upload broke off; retrying "
                                 "automatically.", code="upload_broken", detail=detail)
            offset = status
            self.ctx.progress(offset, total)

    def _upload_status(self, location: str, total: int) -> str | int | None:
        """Ask how much arrived: the video id if complete, the next offset, or None."""
        try:
            resp = self.ctx.http.put(location, data=b"",
                                     headers={**self._headers(),
                                              "Content-Range": f"bytes */{total}"},
                                     timeout=self.ctx.timeout)
        except requests.RequestException:
            return None
        if resp.status_code in (200, 201):
            return str(resp.json()["id"])
        if resp.status_code == 308:
            return _next_offset(resp)
        return None

    def _thumbnail(self, video_id: str, image: MediaFile) -> None:
        """A failed thumbnail must not fail a published video: it is noted in ctx.state."""
        try:
            self._call("POST", self.thumbnail_url, cost=THUMBNAIL_COST,
                       params={"videoId": video_id},
                       data=FileSlice.of(image),
                       headers={"Content-Type": image.mime})
        except (RetryLater, Rejected, AuthExpired, OutcomeUnknown) as exc:
            self.ctx.state["thumbnail_failed"] = {"video_id": video_id, "code": exc.code,
                                                  "detail": exc.detail}

    # -- reading ------------------------------------------------------------------------
    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        if len(ids) > self.caps.metrics_batch_size:
            raise ValueError("batch larger than metrics_batch_size")
        if not ids:
            return {}
        body = self._call("GET", f"{self.api}/videos",
                          # videos.list takes no maxResults together with id (reference)
                          params={"part": "statistics", "id": ",".join(ids)}).json()
        out: dict[str, Metrics] = {}
        for item in body.get("items") or []:
            stats = item.get("statistics") or {}

            def num(name: str, stats: dict[str, Any] = stats) -> int | None:
                value = stats.get(name)
                return int(value) if value not in (None, "") else None

            out[str(item["id"])] = Metrics(views=num("viewCount"), likes=num("likeCount"),
                                           comments=num("commentCount"))
        return out

    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        """Search the channel's uploads playlist (1 unit a page), never search.list (100)."""
        playlist = self.ctx.state.get("uploads_playlist") or self._channel()["uploads"]
        since = since - timedelta(minutes=5)
        params: dict[str, Any] = {"part": "snippet", "playlistId": playlist, "maxResults": 50}
        for _ in range(int(self.ctx.settings.get("lookup_max_pages") or 3)):
            body = self._call("GET", f"{self.api}/playlistItems", params=params).json()
            for item in body.get("items") or []:
                snippet = item.get("snippet") or {}
                when = datetime.fromisoformat(str(snippet.get("publishedAt")).replace("Z",
                                                                                      "+00:00"))
                if when < since:
                    return None  # newest first: everything further is older
                vid = str((snippet.get("resourceId") or {}).get("videoId"))
                if vid in post.taken_ids:
                    continue  # another publication's video with the same title
                if (snippet.get("title") or "").strip() == (post.title or "").strip():
                    return Published(vid, f"https://www.youtube.com/watch?v={vid}", when)
            if not body.get("nextPageToken"):
                return None
            params["pageToken"] = body["nextPageToken"]
        return None

    def list_comments(self, external_id: str, cursor: Mapping[str, Any] | None) -> CommentPage:
        """A page of the video's comment threads, newest first (``_comments.py``). Reading
        comments never spends the quota one upload needs: past that it waits for the reset."""

        def get(resource: str, params: dict[str, Any]) -> Mapping[str, Any]:
            if self._quota_used() + LIST_COST > self.budget - self.upload_cost:
                raise reserve_error(self._now())
            body = self._call("GET", f"{self.api}/{resource}", params=params).json()
            return body if isinstance(body, dict) else {}

        # The channel's own comments (a first comment, replies sent from Warta) are left out
        # once its id is known (cached by a reply lookup); asking for it would cost a unit.
        own = self.ctx.state.get("channel_id")
        return without_own(youtube_page(get, external_id, cursor, int(
            self.ctx.settings.get("comments_page_size") or 100)), str(own) if own else None)

    def post_comment(self, external_id: str, text: str) -> str:
        """The channel's first comment on its own video: a new comment thread (50 units)."""
        return youtube_post(self._call, self.api, external_id, text)

    def find_comment(self, external_id: str, text: str, since: datetime) -> str | None:
        """The channel's own top-level comment with this text on the video."""
        del since  # newest first: ours is on the first page unless citizens outran it
        own = self._channel()["id"]  # 1 unit; a lookup is rare

        def get(params: dict[str, Any]) -> Mapping[str, Any]:
            body = self._call("GET", f"{self.api}/commentThreads", params=params).json()
            return body if isinstance(body, dict) else {}

        return youtube_find(get, external_id, text, str(own))
    # -- replies and moderation (platform-apis-2.md §1.5) --------------------------------
    def _spare(self, cost: int) -> None:
        """A reply or a moderation call never spends the quota one upload needs."""
        if self._quota_used() + cost > self.budget - self.upload_cost:
            raise reserve_error(self._now())

    def reply_to_comment(self, comment_id: str, text: str) -> str:
        """``comments.insert`` with ``parentId`` (50 units). No answer after sending (a
        dropped connection, a 5xx) is an unknown outcome: the worker looks before resending."""
        self._spare(WRITE_COST)
        try:
            resp = self._call("POST", f"{self.api}/comments", stage="create", cost=WRITE_COST,
                              params={"part": "snippet"},
                              json={"snippet": {"parentId": comment_id, "textOriginal": text}})
        except RetryLater as exc:
            if exc.code != "network":
                raise
            raise OutcomeUnknown(PLATFORM, "Sambungan ke YouTube putus setelah balasan "
                                 "dikirim; belum pasti balasan sudah tayang.",
                                 "The connection to YouTube broke after the reply was sent; "
                                 "it may or may not exist.", code="network",
                                 detail=exc.detail) from None
        try:
            body = resp.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or not body.get("id"):
            raise OutcomeUnknown(PLATFORM, "Jawaban YouTube tanpa id balasan.",
                                 "YouTube's answer carried no reply id.", code="bad_response")
        return str(body["id"])

    def find_comment_reply(self, comment_id: str, text: str) -> str | None:
        def get(resource: str, params: dict[str, Any]) -> Mapping[str, Any]:
            body = self._call("GET", f"{self.api}/{resource}", params=params).json()
            return body if isinstance(body, dict) else {}

        channel_id = self.ctx.state.get("channel_id") or self._channel()["id"]
        self.ctx.state["channel_id"] = channel_id
        return youtube_find_reply(get, comment_id, text, str(channel_id))

    def hide_comment(self, comment_id: str) -> None:
        """``comments.setModerationStatus`` ``heldForReview`` (50 units; 204): held, not
        rejected, so an office can still publish it again from YouTube Studio."""
        self._spare(WRITE_COST)
        self._call("POST", f"{self.api}/comments/setModerationStatus", cost=WRITE_COST,
                   params={"id": comment_id, "moderationStatus": "heldForReview"})

    def _channel(self) -> dict[str, Any]:
        body = self._call("GET", f"{self.api}/channels",
                          params={"part": "snippet,contentDetails", "mine": "true"}).json()
        items = body.get("items") or []
        if not items:
            raise Rejected(PLATFORM, "Akun Google ini belum memiliki kanal YouTube.",
                           "This Google account has no YouTube channel.", code="no_channel")
        item = items[0]
        uploads = item["contentDetails"]["relatedPlaylists"]["uploads"]
        self.ctx.state["uploads_playlist"] = uploads
        self.ctx.state["channel_id"] = str(item["id"])  # its own comments are no citizen's
        snippet = item.get("snippet") or {}
        return {"id": item["id"], "title": snippet.get("title"), "uploads": uploads,
                "custom_url": snippet.get("customUrl")}

    def account(self) -> AccountInfo:
        channel = self._channel()
        return AccountInfo(str(channel["id"]), str(channel["title"] or channel["id"]),
                           channel["custom_url"],
                           extra={"quota_used_today": self._quota_used(),
                                  "quota_resets_in_s": seconds_to_pacific_midnight(self._now())})

    def refresh(self) -> Credentials | None:
        """A new access token from the refresh token; None when Google refuses it."""
        new = refresh_access_token(
            PLATFORM, "Google", self.creds, token_url=self.token_url,
            auth_method="client_secret_post", timeout=self.ctx.timeout, now=self._now(),
            default_lifetime=3600, secrets=self._secrets())
        if new is None:
            return None
        self.creds = new
        self.ctx.save_credentials(new)
        return new


def _next_offset(resp: requests.Response) -> int:
    """308's ``Range: bytes=0-N`` means N+1 bytes arrived; no Range means none did."""
    rng = resp.headers.get("Range", "")
    if "-" not in rng:
        return 0
    return int(rng.rsplit("-", 1)[1]) + 1
