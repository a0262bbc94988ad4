"""A fake TikTok (Content Posting API + Display API + OAuth v2), a real local HTTP server.

It reproduces platform-apis-2.md §2: the ``{"data", "error": {"code", "message", "log_id"}}``
envelope, ``creator_info/query``, ``video/init`` with FILE_UPLOAD's chunk rules enforced
(chunks 5–64 MiB, ``total_chunk_count = floor(size / chunk_size)``, a last chunk up to
128 MiB, a video under 5 MiB in one chunk, sequential ``Content-Range`` PUTs answered 206 and
201), photo posts by ``PULL_FROM_URL`` from a verified URL prefix only, ``status/fetch`` going
PROCESSING_* → PUBLISH_COMPLETE and, for a public post, withholding
``publicaly_available_post_id`` while "moderation" lasts, ``video/list`` (newest first,
cursor) and ``video/query`` (at most 20 ids), and the token endpoint with refresh-token
rotation (a used refresh token stops working).

Controls: ``fail(route, mode, times=1)`` with route ``token``, ``user``, ``creator``, ``init``,
``photo``, ``upload``, ``status``, ``list``, ``query`` and mode ``rate`` (429),
``spam`` (403 ``spam_risk_too_many_posts``), ``banned``, ``auth`` (401), ``scope``,
``invalid`` (400 ``invalid_param``), ``unverified``, ``mismatch``, ``server_error`` (500),
``invalid_grant`` (token) or a bare proxy status (``proxy-503``, ``proxy-429-120``);
``unaudited`` (only SELF_ONLY allowed, as for an app TikTok has not audited);
``processing_reads`` and ``moderation_reads`` (status reads before each step ends);
``fail_reason`` (the next publish FAILS with it); ``clock`` stamps ``create_time``.
The transport faults of ``faults.py`` apply to every path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import FakeServer, Recorded, json_response, proxy_failure

MiB = 1024 * 1024
ERRORS = {
    "rate": (429, "rate_limit_exceeded", "API rate limit was exceeded."),
    "spam": (403, "spam_risk_too_many_posts", "The user has reached the daily post cap."),
    "banned": (403, "spam_risk_user_banned_from_posting", "The user is banned from posting."),
    "auth": (401, "access_token_invalid", "The access token is invalid or not found."),
    "scope": (401, "scope_not_authorized", "The user did not authorize the scope."),
    "invalid": (400, "invalid_param", "Invalid parameter: chunk_size."),
    "unverified": (403, "url_ownership_unverified", "The URL's domain is not verified."),
    "mismatch": (403, "privacy_level_option_mismatch", "privacy_level is not an option."),
    "unaudited": (403, "unaudited_client_can_only_post_to_private_accounts",
                  "Unaudited clients can only post to private accounts."),
    "server_error": (500, "internal_error", "Something went wrong. Please try again later."),
}
PUBLIC_OPTIONS = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "SELF_ONLY"]


def envelope(data: Any = None, code: str = "ok", message: str = "", status: int = 200
             ) -> Response:
    return json_response({"data": data if data is not None else {},
                          "error": {"code": code, "message": message,
                                    "log_id": "202606100300FAKE0001"}}, status)


def tiktok_error(mode: str) -> Response:
    proxy = proxy_failure(mode)
    if proxy is not None:
        return proxy.response()
    status, code, message = ERRORS[mode]
    return envelope({}, code, message, status)


class FakeTikTok(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.client_key, self.client_secret = "awfakeclientkey", "fake-client-secret"
        self.access_token, self.refresh_token = "act.fake-1", "rft.fake-1"
        self.open_id = "-000fakeOpenId"
        self.username, self.nickname = "diskominfo.uji", "Diskominfo Uji"
        self.codes: set[str] = {"good-code"}
        self.failures: dict[str, list[str]] = {}
        self.unaudited = False
        self.options = list(PUBLIC_OPTIONS)
        self.max_duration = 600
        self.comment_disabled = False
        self.processing_reads = 1
        self.moderation_reads = 1
        self.fail_reason: str | None = None
        self.verified_prefix = "https://warta.example.go.id/"
        self.clock: Any = None
        self.publishes: dict[str, dict[str, Any]] = {}
        self.videos: list[dict[str, Any]] = []  # public posts, oldest first
        self.uploads: dict[str, dict[str, Any]] = {}
        self.token_grants = 0
        self._ids = itertools.count(1)

    def fail(self, route: str, mode: str, times: int = 1) -> None:
        self.failures.setdefault(route, []).extend([mode] * times)

    def _mode(self, route: str) -> str | None:
        pending = self.failures.get(route)
        return pending.pop(0) if pending else None

    def server_error(self) -> Response:
        return tiktok_error("server_error")

    def _now(self) -> datetime:
        return self.clock() if self.clock else datetime(2026, 6, 10, 3, 0, tzinfo=UTC)

    @property
    def posts(self) -> list[dict[str, Any]]:
        """Publishes TikTok took (upload complete or photos pulled): what will be posted."""
        return [p for p in self.publishes.values() if p["accepted"]]

    # -- routing --------------------------------------------------------------------------
    ROUTES = {"/v2/user/info/": "user", "/v2/post/publish/creator_info/query/": "creator",
              "/v2/post/publish/video/init/": "init", "/v2/post/publish/content/init/": "photo",
              "/v2/post/publish/status/fetch/": "status", "/v2/video/list/": "list",
              "/v2/video/query/": "query"}

    def handle(self, request: Request, rec: Recorded) -> Response:
        if request.path == "/v2/oauth/token/":
            return self._token(rec)
        if request.path == "/upload/":
            return self._upload(rec)
        route = self.ROUTES.get(request.path)
        if route is None:
            return envelope({}, "invalid_param", "Not found", 404)
        mode = self._mode(route)
        if mode:
            return tiktok_error(mode)
        if rec.headers.get("authorization") != f"Bearer {self.access_token}":
            return tiktok_error("auth")
        return getattr(self, f"_{route}")(rec)

    def _token(self, rec: Recorded) -> Response:
        mode = self._mode("token")
        proxy = proxy_failure(mode)
        if proxy is not None:
            return proxy.response()
        form = rec.form
        refused = {"error": "invalid_grant", "error_description": "Refresh token is invalid "
                   "or expired.", "log_id": "FAKE"}
        if mode == "invalid_grant":
            return json_response(refused, 400)
        if (form.get("client_key"), form.get("client_secret")) != (self.client_key,
                                                                    self.client_secret):
            return json_response({"error": "invalid_client",
                                  "error_description": "Client key or secret is incorrect."},
                                 401)
        if form.get("grant_type") == "authorization_code":
            if form.get("code") not in self.codes:
                return json_response({"error": "invalid_grant",
                                      "error_description": "Authorization code is expired."},
                                     400)
            self.codes.discard(form["code"])
        elif form.get("grant_type") != "refresh_token" or \
                form.get("refresh_token") != self.refresh_token:
            return json_response(refused, 400)
        self.token_grants += 1
        n = int(self.access_token.rsplit("-", 1)[1]) + 1
        self.access_token = f"act.fake-{n}"
        self.refresh_token = f"rft.fake-{n}"  # rotated: the old one no longer works
        return json_response({"open_id": self.open_id, "scope": "user.info.basic,video.publish,"
                              "video.list", "access_token": self.access_token,
                              "expires_in": 86400, "refresh_token": self.refresh_token,
                              "refresh_expires_in": 31536000, "token_type": "Bearer"})

    # -- reads ------------------------------------------------------------------------------
    def _user(self, rec: Recorded) -> Response:
        return envelope({"user": {"open_id": self.open_id, "union_id": "fake-union",
                                  "display_name": self.nickname, "username": self.username}})

    def _creator(self, rec: Recorded) -> Response:
        return envelope({"creator_avatar_url": "https://p16.tiktokcdn.com/fake.jpeg",
                         "creator_username": self.username, "creator_nickname": self.nickname,
                         "privacy_level_options": ["SELF_ONLY"] if self.unaudited
                         else self.options, "comment_disabled": self.comment_disabled,
                         "duet_disabled": False, "stitch_disabled": True,
                         "max_video_post_duration_sec": self.max_duration})

    def _check_post_info(self, info: Any) -> Response | None:
        if not isinstance(info, dict) or info.get("privacy_level") not in (
                PUBLIC_OPTIONS + ["FOLLOWER_OF_CREATOR"]):
            return envelope({}, "invalid_param", "privacy_level is required.", 400)
        if self.unaudited and info["privacy_level"] != "SELF_ONLY":
            return tiktok_error("unaudited")
        if info["privacy_level"] not in self.options:
            return tiktok_error("mismatch")
        return None

    def _new_publish(self, kind: str, info: dict[str, Any], **extra: Any) -> dict[str, Any]:
        pid = f"v_pub_{'file' if kind == 'video' else 'url'}~v2-1.{next(self._ids):09d}"
        pub = {"publish_id": pid, "kind": kind, "post_info": info, "accepted": False,
               "reads": 0, "post_id": None, "status": "PROCESSING_UPLOAD", **extra}
        self.publishes[pid] = pub
        return pub

    def _init(self, rec: Recorded) -> Response:
        body = rec.json or {}
        bad = self._check_post_info(body.get("post_info"))
        if bad is not None:
            return bad
        src = body.get("source_info") or {}
        if src.get("source") != "FILE_UPLOAD":
            return envelope({}, "invalid_param", "source must be FILE_UPLOAD here.", 400)
        size, chunk, count = (src.get("video_size"), src.get("chunk_size"),
                              src.get("total_chunk_count"))
        if not (isinstance(size, int) and isinstance(chunk, int) and isinstance(count, int)
                and min(size, chunk, count) > 0):
            return envelope({}, "invalid_param", "video_size, chunk_size and "
                            "total_chunk_count are required.", 400)
        whole = count == 1 and chunk == size
        if (size < 5 * MiB and not whole) or (not whole and not 5 * MiB <= chunk <= 64 * MiB) \
                or (size > 64 * MiB and whole) or count != max(1, size // chunk) \
                or count > 1000 or size - (count - 1) * chunk > 128 * MiB:
            return envelope({}, "invalid_param", "The chunk_size or total_chunk_count is "
                            "invalid.", 400)
        pub = self._new_publish("video", body["post_info"], size=size, chunk=chunk,
                                count=count, received=0)
        upload_id = f"up{next(self._ids)}"
        self.uploads[upload_id] = pub
        return envelope({"publish_id": pub["publish_id"],
                         "upload_url": f"{self.url}/upload/?upload_id={upload_id}"
                                       f"&upload_token=FakeUploadToken{upload_id}"})

    def _upload(self, rec: Recorded) -> Response:
        pub = self.uploads.get(rec.query.get("upload_id", ""))
        if pub is None or not rec.query.get("upload_token"):
            return envelope({}, "invalid_param", "Upload not found.", 404)
        mode = self._mode("upload")
        if mode:
            return tiktok_error(mode)
        m = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", rec.headers.get("content-range", ""))
        if not m or int(m.group(3)) != pub["size"] or int(m.group(1)) != pub["received"]:
            return envelope({}, "invalid_param", "Content-Range is not the next chunk.", 400)
        start, end = int(m.group(1)), int(m.group(2))
        index = start // pub["chunk"]
        last = index == pub["count"] - 1
        expected = pub["size"] - start if last else pub["chunk"]
        if end - start + 1 != expected or rec.body_len != expected:
            return envelope({}, "invalid_param", "The chunk has the wrong length.", 400)
        if not rec.headers.get("content-type", "").startswith("video/"):
            return envelope({}, "invalid_param", "Content-Type must be a video type.", 400)
        pub["received"] = end + 1
        if not last:
            return Response("", 206)
        self._accept(pub)
        return Response("", 201)

    def _accept(self, pub: dict[str, Any]) -> None:
        pub["accepted"] = True
        pub["status"] = "PROCESSING_UPLOAD" if pub["kind"] == "video" else "PROCESSING_DOWNLOAD"
        if self.fail_reason:
            pub["fail_reason"], self.fail_reason = self.fail_reason, None

    def _photo(self, rec: Recorded) -> Response:
        body = rec.json or {}
        if body.get("media_type") != "PHOTO" or body.get("post_mode") != "DIRECT_POST":
            return envelope({}, "invalid_param", "media_type must be PHOTO.", 400)
        bad = self._check_post_info(body.get("post_info"))
        if bad is not None:
            return bad
        src = body.get("source_info") or {}
        images = src.get("photo_images") or []
        if src.get("source") != "PULL_FROM_URL" or not 1 <= len(images) <= 35:
            return envelope({}, "invalid_param", "photo_images must hold 1 to 35 URLs.", 400)
        if any(not str(u).startswith(self.verified_prefix) for u in images):
            return tiktok_error("unverified")
        info = body["post_info"]
        if len(str(info.get("title", ""))) > 90 or len(str(info.get("description", ""))) > 4000:
            return envelope({}, "invalid_param", "title or description too long.", 400)
        pub = self._new_publish("photo", info, images=list(images))
        self._accept(pub)
        return envelope({"publish_id": pub["publish_id"]})

    def _status(self, rec: Recorded) -> Response:
        pub = self.publishes.get(str((rec.json or {}).get("publish_id")))
        if pub is None:
            return envelope({}, "invalid_param", "publish_id is invalid.", 400)
        data: dict[str, Any] = {"status": pub["status"], "fail_reason": "",
                                "publicaly_available_post_id": [], "uploaded_bytes": 0,
                                "downloaded_bytes": 0}
        if pub["kind"] == "video":
            data["uploaded_bytes"] = pub["received"]
        if pub["accepted"]:
            pub["reads"] += 1
            self._advance(pub)
            data["status"] = pub["status"]
            data["fail_reason"] = pub.get("fail_reason", "") if pub["status"] == "FAILED" else ""
            if pub["post_id"]:
                data["publicaly_available_post_id"] = [int(pub["post_id"])]
        return envelope(data)

    def _advance(self, pub: dict[str, Any]) -> None:
        if pub["status"] in ("FAILED",) or pub["post_id"]:
            return
        if pub["reads"] <= self.processing_reads:
            return
        if pub.get("fail_reason"):
            pub["status"] = "FAILED"
            return
        pub["status"] = "PUBLISH_COMPLETE"
        private = pub["post_info"].get("privacy_level") == "SELF_ONLY"
        if private or pub["reads"] <= self.processing_reads + self.moderation_reads:
            return
        pub["post_id"] = str(7_380_000_000_000_000_000 + next(self._ids))
        text = pub["post_info"].get("description") if pub["kind"] == "photo" \
            else pub["post_info"].get("title")
        self.videos.append({"id": pub["post_id"], "title": pub["post_info"].get("title", ""),
                            "video_description": text or "",
                            "create_time": int(self._now().timestamp()),
                            "share_url": f"https://www.tiktok.com/@{self.username}/video/"
                                         f"{pub['post_id']}",
                            "view_count": 0, "like_count": 0, "comment_count": 0,
                            "share_count": 0})

    def seed(self, n: int, **counts: int) -> list[str]:
        """``n`` public videos already on the account (for metrics tests)."""
        ids = []
        for i in range(n):
            vid = str(7_100_000_000_000_000_000 + next(self._ids))
            self.videos.append({"id": vid, "title": f"seed {i}", "video_description": f"seed {i}",
                                "create_time": int(self._now().timestamp()) - 86400,
                                "share_url": f"https://www.tiktok.com/@{self.username}/video/"
                                             f"{vid}",
                                "view_count": 100 + i, "like_count": i, "comment_count": 2,
                                "share_count": 1, **counts})
            ids.append(vid)
        return ids

    def _list(self, rec: Recorded) -> Response:
        # Time passes between looks: what TikTok is processing or moderating moves on.
        for pub in self.posts:
            pub["reads"] += 1
            self._advance(pub)
        body = rec.json or {}
        max_count = int(body.get("max_count") or 10)
        if not 1 <= max_count <= 20 or "fields" not in rec.query:
            return envelope({}, "invalid_param", "max_count must be 1..20; fields required.",
                            400)
        newest = sorted(self.videos, key=lambda v: (v["create_time"], v["id"]), reverse=True)
        cursor = body.get("cursor")
        if cursor is not None:
            newest = [v for v in newest if v["create_time"] * 1000 < int(cursor)]
        page = newest[:max_count]
        fields = rec.query["fields"].split(",")
        return envelope({"videos": [{k: v[k] for k in fields if k in v} for v in page],
                         "cursor": page[-1]["create_time"] * 1000 if page else 0,
                         "has_more": len(newest) > max_count})

    def _query(self, rec: Recorded) -> Response:
        ids = ((rec.json or {}).get("filters") or {}).get("video_ids") or []
        if not 1 <= len(ids) <= 20 or "fields" not in rec.query:
            return envelope({}, "invalid_param", "video_ids must hold 1 to 20 ids.", 400)
        fields = rec.query["fields"].split(",")
        by_id = {v["id"]: v for v in self.videos}
        return envelope({"videos": [{k: by_id[i][k] for k in fields if k in by_id[i]}
                                    for i in ids if i in by_id],
                         "cursor": 0, "has_more": False})


def serve() -> Iterator[FakeTikTok]:
    """Generator for a pytest fixture: ``yield from serve()``."""
    fake = FakeTikTok()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
