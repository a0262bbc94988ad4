"""A fake YouTube Data API v3 + Google token endpoint with real resumable-upload semantics.

Resumable upload: ``POST /upload/youtube/v3/videos?uploadType=resumable`` → 200 + ``Location``;
``PUT <Location>`` with ``Content-Range: bytes a-b/total`` → 308 + ``Range: bytes=0-N`` until the
last byte, then 201 with the video resource; ``Content-Range: bytes */total`` asks for the state.
Uploaded bytes go to a temporary file (never held in memory) and are hashed on completion.

Failure switches: ``fake.fail(route, mode, times=1)`` for routes ``initiate``, ``videos``,
``channels``, ``playlistItems``, ``thumbnail``, ``token`` with modes ``quota``, ``rate``,
``too_many`` (HTTP 429), ``auth``, ``invalid_title``, ``server_error``, ``invalid_grant``
(token); ``fake.retry_after`` (seconds or an HTTP-date) is sent as ``Retry-After`` on every
429 and 503 answer; and
``fake.break_chunk(n, keep=bytes, how="503"|"drop")`` to break the n-th data PUT (1-based) after
keeping ``keep`` bytes of it (``how="drop"`` with a final chunk keeps everything, completes the
video, then drops the connection). ``fake.status_fails`` makes status queries answer 503.
Every mode, ``how`` and ``status_fails`` also takes a bare proxy status of
``_wsgi_fake.proxy_failure`` (``proxy-503``, ``proxy-429-120``; ``how="accept-proxy-504"``
keeps the whole chunk, then answers 504): an HTML or text body, no JSON envelope.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import (
    FakeServer,
    Recorded,
    broken_response,
    json_response,
    proxy_failure,
)
from tests.fakes.youtube_comments import YouTubeComments

QUOTA_MSG = ("The request cannot be completed because you have exceeded your "
             "<a href=\"/youtube/v3/getting-started#quota\">quota</a>.")
ERRORS = {
    "quota": (403, "youtube.quota", "quotaExceeded", QUOTA_MSG),
    "rate": (403, "usageLimits", "userRateLimitExceeded", "User rate limit exceeded."),
    "too_many": (429, "global", "rateLimitExceeded",
                 "Resource has been exhausted (e.g. check quota)."),
    "auth": (401, "global", "authError", "Invalid Credentials"),
    "invalid_title": (400, "youtube.video", "invalidTitle", "The request metadata specifies an "
                      "invalid or empty video title."),
    "server_error": (503, "global", "backendError", "Backend Error"),
}
CHANNEL = {"id": "UCfakeChannel01", "title": "Diskominfo Uji", "customUrl": "@diskominfouji"}


def google_error(mode: str) -> Response:
    proxy = proxy_failure(mode)
    if proxy is not None:
        return proxy.response()
    status, domain, reason, message = ERRORS[mode]
    return json_response({"error": {"code": status, "message": message,
                                    "errors": [{"message": message, "domain": domain,
                                                "reason": reason}]}}, status)


class FakeYouTube(FakeServer, YouTubeComments):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.mkdtemp(prefix="fake-youtube-")
        self.access_token = "ya29.fake-1"
        self.refresh_token = "1//fake-refresh"
        self.client_id, self.client_secret = "fake-client.apps.googleusercontent.com", "GOCSPX-x"
        self.failures: dict[str, list[str]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.breaks: dict[int, tuple[int, str]] = {}
        self.status_fails: bool | str = False
        self.retry_after: str | None = None
        self.data_puts = 0
        self.codes: set[str] = set()
        #: A clock (a callable returning an aware datetime) for new videos' ``publishedAt``
        #: (None: a fixed day in 2026-10).
        self.clock: Any = None
        self._ids = itertools.count(1)
        #: Comment threads by id (``youtube_comments.py``).
        self.threads: dict[str, dict[str, Any]] = {}
        self.insert_faults: list[str] = []

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def fail(self, route: str, mode: str, times: int = 1) -> None:
        self.failures.setdefault(route, []).extend([mode] * times)

    def break_chunk(self, n: int, keep: int = 0, how: str = "503") -> None:
        self.breaks[n] = (keep, how)

    def seed(self, n: int, **stats: str) -> list[str]:
        ids = []
        for i in range(n):
            vid = f"vid{next(self._ids):08d}"
            self.videos[vid] = {"id": vid, "title": f"seed {i}",
                                "publishedAt": "2026-10-01T01:00:00Z",
                                "statistics": {"viewCount": str(100 + i), "likeCount": "7",
                                               "favoriteCount": "0", "commentCount": "2",
                                               **stats}}
            ids.append(vid)
        return ids

    def _mode(self, route: str) -> str | None:
        pending = self.failures.get(route)
        return pending.pop(0) if pending else None

    # -- body sink for upload PUTs --------------------------------------------------------
    def sink(self, request: Request) -> BinaryIO | None:
        upload_id = request.args.get("upload_id")
        session = self.sessions.get(upload_id or "")
        match = re.match(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("Content-Range", ""))
        if request.method != "PUT" or session is None or not match:
            return None
        fh = open(session["file"], "r+b")  # noqa: SIM115 - closed by the base after writing
        fh.seek(int(match.group(1)))
        return fh

    # -- routing ------------------------------------------------------------------------
    def handle(self, request: Request, rec: Recorded) -> Response:
        response = self._handle(request, rec)
        if self.retry_after is not None and response.status_code in (429, 503):
            response.headers["Retry-After"] = self.retry_after
        return response

    def _handle(self, request: Request, rec: Recorded) -> Response:
        path = request.path
        if path == "/token":
            return self._token(rec)
        if rec.headers.get("authorization") != f"Bearer {self.access_token}":
            return google_error("auth")
        if path == "/upload/youtube/v3/videos" and request.method == "POST":
            return self._initiate(request, rec)
        if path == "/upload/youtube/v3/videos" and request.method == "PUT":
            return self._put(request, rec)
        if path == "/upload/youtube/v3/thumbnails/set":
            mode = self._mode("thumbnail")
            if mode:
                return google_error(mode)
            self.videos[rec.query["videoId"]]["thumbnail_bytes"] = rec.body_len
            return json_response({"items": [{"default": {"url": "https://i.ytimg.com/x.jpg"}}]})
        route = path.rsplit("/", 1)[-1]
        mode = self._mode(route)
        if mode:
            return google_error(mode)
        if path == "/youtube/v3/videos":
            return self._videos(rec)
        comments = self.comment_route(path, rec)
        if comments is not None:
            return comments
        if path == "/youtube/v3/channels":
            return json_response({"items": [{
                "id": CHANNEL["id"], "snippet": {"title": CHANNEL["title"],
                                                 "customUrl": CHANNEL["customUrl"]},
                "contentDetails": {"relatedPlaylists": {"uploads": "UUfakeChannel01"}}}]})
        if path == "/youtube/v3/playlistItems":
            items = [{"snippet": {"publishedAt": v["publishedAt"], "title": v["title"],
                                  "resourceId": {"kind": "youtube#video", "videoId": v["id"]}}}
                     for v in sorted(self.videos.values(), key=lambda v: v["publishedAt"],
                                     reverse=True)]
            return json_response({"items": items[:50], "pageInfo": {"totalResults": len(items)}})
        return json_response({"error": {"code": 404, "message": "Not Found", "errors": []}}, 404)

    def _token(self, rec: Recorded) -> Response:
        mode = self._mode("token")
        proxy = proxy_failure(mode)
        if proxy is not None:
            return proxy.response()
        if mode == "invalid_grant":
            return json_response({"error": "invalid_grant",
                                  "error_description": "Token has been expired or revoked."}, 400)
        form = rec.form
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id,
                                                                  self.client_secret):
            return json_response({"error": "invalid_client"}, 401)
        if form.get("grant_type") == "authorization_code":
            if form.get("code") not in self.codes:
                return json_response({"error": "invalid_grant"}, 400)
            self.codes.discard(form["code"])
        elif form.get("refresh_token") != self.refresh_token:
            return json_response({"error": "invalid_grant",
                                  "error_description": "Bad Request"}, 400)
        n = int(self.access_token.rsplit("-", 1)[1]) + 1
        self.access_token = f"ya29.fake-{n}"
        body = {"access_token": self.access_token, "expires_in": 3599, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.upload"}
        if form.get("grant_type") == "authorization_code":
            body["refresh_token"] = self.refresh_token
        return json_response(body)

    def _initiate(self, request: Request, rec: Recorded) -> Response:
        mode = self._mode("initiate")
        if mode:
            return google_error(mode)
        if rec.query.get("uploadType") != "resumable" or not rec.json:
            return google_error("invalid_title")
        upload_id = f"up{next(self._ids)}"
        path = os.path.join(self.dir, upload_id)
        open(path, "wb").close()
        self.sessions[upload_id] = {"file": path, "received": 0, "resource": rec.json,
                                    "total": int(rec.headers["x-upload-content-length"]),
                                    "video_id": None, "query": rec.query}
        location = (f"{self.url}/upload/youtube/v3/videos?uploadType=resumable"
                    f"&upload_id={upload_id}&part=snippet,status")
        return Response("", 200, {"Location": location})

    def _put(self, request: Request, rec: Recorded) -> Response:
        session = self.sessions.get(rec.query.get("upload_id", ""))
        if session is None:
            return json_response({"error": {"code": 404, "message": "Upload session not found",
                                            "errors": []}}, 404)
        crange = rec.headers.get("content-range", "")
        if crange.startswith("bytes */"):
            if self.status_fails:
                return google_error(self.status_fails if isinstance(self.status_fails, str)
                                    else "server_error")
            return self._state(session)
        match = re.match(r"bytes (\d+)-(\d+)/(\d+)", crange)
        if not match or int(match.group(1)) != session["received"]:
            return google_error("invalid_title")
        start = int(match.group(1))
        self.data_puts += 1
        keep, how = self.breaks.pop(self.data_puts, (None, ""))
        proxy = proxy_failure(how)
        if keep is not None and (how == "503" or (proxy and not proxy.after_accept)):
            session["received"] = start + min(keep, rec.body_len)
            return google_error("server_error") if proxy is None else proxy.response()
        session["received"] = start + rec.body_len
        answer = self._state(session)
        if proxy is not None:  # accept-proxy-…: kept (and maybe completed), then the status
            return proxy.response()
        return broken_response() if how == "drop" else answer

    def server_error(self) -> Response:
        return google_error("server_error")

    def _state(self, session: dict[str, Any]) -> Response:
        if session["received"] >= session["total"]:
            if session["video_id"] is None:
                with open(session["file"], "r+b") as fh:
                    fh.truncate(session["total"])
                session["video_id"] = vid = f"vid{next(self._ids):08d}"
                snippet = session["resource"]["snippet"]
                self.videos[vid] = {"id": vid, "title": snippet["title"],
                                    "publishedAt": (self.clock().strftime(
                                        "%Y-%m-%dT%H:%M:%SZ") if self.clock
                                        else "2026-10-01T03:00:00Z"),
                                    "statistics": {"viewCount": "0", "likeCount": "0",
                                                   "commentCount": "0"},
                                    "sha256": _sha256(session["file"]),
                                    "resource": session["resource"], "query": session["query"]}
            vid = session["video_id"]
            return json_response({"kind": "youtube#video", "id": vid,
                                  "snippet": session["resource"]["snippet"],
                                  "status": {"uploadStatus": "uploaded",
                                             **session["resource"]["status"]}}, 201)
        headers = {"Range": f"bytes=0-{session['received'] - 1}"} if session["received"] else {}
        return Response("", 308, headers)

    def _videos(self, rec: Recorded) -> Response:
        ids = [i for i in rec.query.get("id", "").split(",") if i]
        if len(ids) > 50:
            return google_error("invalid_title")
        if ids and "maxResults" in rec.query:  # videos.list: maxResults is not for use with id
            return json_response({"error": {"code": 400, "message": "The request specifies an "
                                            "incompatible filter and maxResults parameter.",
                                            "errors": [{"domain": "youtube.parameter",
                                                        "reason": "incompatibleParameters"}]}},
                                 400)
        items = []
        for vid in ids:
            video = self.videos.get(vid)
            if video is not None:
                items.append({"kind": "youtube#video", "id": vid,
                              "statistics": video["statistics"]})
        return json_response({"kind": "youtube#videoListResponse", "items": items,
                              "pageInfo": {"totalResults": len(items),
                                           "resultsPerPage": len(items)}})


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def serve() -> Iterator[FakeYouTube]:
    """Generator for a pytest fixture: ``yield from serve()``."""
    fake = FakeYouTube().start()
    try:
        yield fake
    finally:
        fake.stop()
