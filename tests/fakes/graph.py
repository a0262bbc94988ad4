"""A fake Meta Graph API: a real local HTTP server (werkzeug) for the Facebook Page and
Instagram (official) adapters and the Meta OAuth helpers.

It reproduces the documented paths, bodies, error envelope and usage headers of
platform-apis.md §1–2: Page feed/photos/videos, multi-id reads (``GET /?ids=``), batch requests
(``POST /`` ``batch=``), post and media insights (rejecting the removed metric names), Instagram
containers with ``status_code`` progression, ``media_publish``, ``content_publishing_limit``,
token exchange and ``/me/accounts``. It records every request, and ``fail(...)`` switches it into
a failure mode (throttle, expired token, duplicate, invalid, fail after accepting, timeout …,
and the bare proxy statuses of ``_wsgi_fake.proxy_failure``: ``proxy-503``, ``proxy-429-120``,
``accept-proxy-502`` …, an HTML or text body without Graph's error envelope).
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import part_size, proxy_failure
from tests.fakes.faults import FaultPlan
from tests.fakes.graph_reels import UPLOAD_PREFIX, ReelsMixin, phase_path
from tests.fakes.graph_replies import GraphReplies

REMOVED_METRICS = {"post_impressions", "post_impressions_unique", "post_impressions_paid",
                   "post_impressions_organic", "post_engaged_users", "impressions", "plays",
                   "clips_replays_count", "ig_reels_aggregated_all_plays_count", "video_views"}
FB_POST_METRICS = {"post_media_view", "post_total_media_view_unique", "post_clicks",
                   "post_reactions_by_type_total"}
IG_MEDIA_METRICS = {"views", "reach", "likes", "comments", "saved", "shares",
                    "total_interactions"}
#: Story metrics (platform-apis-2.md §4.1): requested apart from the feed's (``saved`` fails).
IG_STORY_METRICS = {"views", "reach", "replies", "shares", "navigation", "follows",
                    "profile_visits", "profile_activity", "total_interactions"}
STORY_LIFETIME_SECONDS = 24 * 3600

PRESETS: dict[str, dict[str, Any]] = {
    "throttle": {"code": 80001, "message": "(#80001) There have been too many calls to this "
                 "Page account. Wait a bit and try again.", "regain_minutes": 7},
    "app_throttle": {"code": 4, "message": "(#4) Application request limit reached",
                     "is_transient": True, "app_usage": True},
    "page_limit": {"code": 32, "message": "(#32) Page request limit reached"},
    "user_limit": {"code": 17, "message": "(#17) User request limit reached"},
    "custom_limit": {"code": 613, "subcode": 1996, "message": "Calls to this api have exceeded "
                     "the rate limit."},
    "ig_throttle": {"code": 80002, "message": "(#80002) There have been too many calls to this "
                    "Instagram account.", "regain_minutes": 3},
    "expired": {"code": 190, "subcode": 463, "message": "Error validating access token: Session "
                "has expired on Tuesday, 01-Sep-26 10:00:00 PDT."},
    "revoked": {"code": 190, "subcode": 460, "message": "Error validating access token: The "
                "session has been invalidated because the user changed their password."},
    "checkpoint": {"code": 190, "subcode": 459, "message": "Error validating access token: You "
                   "cannot access the app till you log in to www.facebook.com."},
    "permission": {"code": 200, "message": "(#200) The user hasn't authorized the application "
                   "to perform this action"},
    "duplicate": {"code": 506, "message": "Duplicate status message"},
    "duplicate_photos": {"code": 100, "subcode": 1366051, "message": "These photos were "
                         "already posted."},
    "invalid": {"code": 100, "message": "(#100) Invalid parameter",
                "user_msg": "Parameter pesan tidak valid."},
    "bad_image": {"code": 324, "message": "(#324) Missing or invalid image file"},
    "bad_link": {"code": 1609005, "message": "Error Posting Link"},
    "policy": {"code": 368, "message": "It looks like you were misusing this feature by going "
               "too fast. You've been temporarily blocked from using it."},
    "too_fast": {"code": 368, "subcode": 1390008, "message": "You are posting too fast."},
    "server_error": {"code": 2, "status": 500, "message": "Service temporarily unavailable",
                     "is_transient": True},
    "unknown": {"code": 1, "message": "An unknown error occurred", "is_transient": True},
    "ig_quota": {"code": 9, "subcode": 2207042, "message": "You reached maximum number of posts "
                 "that is allowed to be published by Content Publish API."},
    "not_ready": {"code": 9007, "subcode": 2207027, "message": "Media ID is not available",
                  "user_msg": "The media is not ready for publishing, please wait for a moment"},
    "ig_image_too_large": {"code": 36000, "subcode": 2207004, "message": "The image size is too "
                           "large.", "user_msg": "The image is too large to download. It "
                           "should be less than 8 MiB."},
    "ig_download_timeout": {"code": -2, "subcode": 2207003, "message": "Timeout downloading "
                            "media", "is_transient": True},
    "ig_spam": {"code": 4, "subcode": 2207051, "message": "We restrict certain activity to "
                "protect our community."},
    # Accept the request, then answer 500 (the post exists).
    "after_accept": {"after_accept": True, "status": 500, "code": 2,
                     "message": "Service temporarily unavailable"},
    # Accept the request, then answer too late for the client's timeout.
    "timeout_after_accept": {"after_accept": True, "delay": 0.6, "status": 200},
    # No answer before the client's timeout, nothing created.
    "timeout": {"delay": 0.6, "status": 200},
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    files: dict[str, tuple[str, int, str]]
    headers: dict[str, str]
    #: The raw body's length (rupload transfers) and the header names as sent.
    body_size: int = 0
    raw_header_names: tuple[str, ...] = ()


@dataclass
class Failure:
    spec: dict[str, Any]
    path: str | None
    method: str | None
    times: int | None


@dataclass
class GraphFake(ReelsMixin, GraphReplies):
    """State of the fake Graph (its Reels and Stories: ``graph_reels.py``; its comment edge:
    ``graph_comments.py``, with replies and hiding: ``graph_replies.py``). Tests change
    attributes directly between calls."""

    page_id: str = "1000"
    page_name: str = "Diskominfo Kota Contoh"
    page_token: str = "EAAPAGETOKENsecret0001"
    ig_user_id: str = "17841400000000001"
    ig_username: str = "diskominfo_contoh"
    user_token: str = "EAAUSERTOKENshortsecret"
    long_user_token: str = "EAAUSERTOKENlongsecret"
    app_id: str = "555"
    app_secret: str = "APPSECRETxyz"
    #: How many status reads a new container stays IN_PROGRESS, and how it ends.
    container_polls: int = 1
    container_outcome: str = "FINISHED"
    quota_usage: int = 0
    quota_total: int = 50
    requests: list[Recorded] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    url: str = ""
    #: Transport faults aimed at one call (``tests/fakes/faults.py``).
    faults: FaultPlan = field(default_factory=FaultPlan)
    #: The fake's clock for new media's ``timestamp`` (None: a fixed day in 2026-09).
    clock: Any = None
    #: The usage percentage the headers report on a successful answer (tests set it to drive
    #: comment collection's headroom guard), or ``usage_model(request)`` when set: a figure
    #: modelled on the request (the bench: calls in the last 24 h against a budget; None
    #: falls back to ``usage_pct``).
    usage_pct: int = 12
    usage_model: Any = None
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(2_000_001))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- test controls ----------------------------------------------------------------------
    def fail(self, mode: str | dict[str, Any], *, path: str | None = None,
             method: str | None = None, times: int | None = 1) -> None:
        """Misbehave on the next ``times`` requests whose path contains ``path``."""
        proxy = proxy_failure(mode) if isinstance(mode, str) else None
        if proxy is not None:  # a bare status from a proxy in front of Graph, no envelope
            spec: dict[str, Any] = {"proxy": proxy, "after_accept": proxy.after_accept}
        else:
            spec = dict(PRESETS[mode]) if isinstance(mode, str) else dict(mode)
        self.failures.append(Failure(spec, path, method, times))

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if (method is None or r.method == method)
                and (path is None or re.fullmatch(path, r.path))]

    def new_id(self) -> str:
        return str(next(self._ids))

    def add_post(self, post_id: str | None = None, **attrs: Any) -> str:
        post_id = post_id or f"{self.page_id}_{self.new_id()}"
        self.objects[post_id] = {"id": post_id, "kind": "post",
                                 "created_time": "2026-09-01T10:00:00+0000", **attrs}
        return post_id

    # -- WSGI -------------------------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        path = re.sub(r"^/v\d+\.\d+", "", req.path) or "/"
        files = {k: (f.filename or "", part_size(f), f.mimetype) for k, f in req.files.items()}
        upload = path.startswith(f"/{UPLOAD_PREFIX}/")
        rec = Recorded(req.method, path, {} if upload else dict(req.args.items()),
                       {} if upload else dict(req.form.items()), files,
                       dict(req.headers.items()), len(req.get_data()) if upload else 0,
                       tuple(environ.get("fake.header_names", ())))
        fault = self.faults.take(rec.method, phase_path(rec.method, path, rec.query, rec.form))
        if self.faults.before(fault):
            return self.server_error()(environ, start_response)
        if fault is not None:
            with self._lock:
                self.requests.append(rec)
                status, body = self.dispatch(rec)
            return self.faults.after(fault, self._json(status, body),
                                     self.server_error)(environ, start_response)
        with self._lock:
            self.requests.append(rec)
            failure = self._take_failure(rec)
        if failure is not None and failure.get("proxy") and not failure.get("after_accept"):
            return failure["proxy"].response()(environ, start_response)
        if failure is not None and not failure.get("after_accept"):
            if failure.get("delay"):
                time.sleep(float(failure["delay"]))
            if failure.get("code") is None:
                return Response("{}", 200, content_type="application/json")(environ,
                                                                           start_response)
            return self._error(failure)(environ, start_response)
        with self._lock:
            status, body = self.dispatch(rec)
            pct = self.usage_model(rec) if self.usage_model is not None else None
        if failure is not None:
            if failure.get("proxy"):
                return failure["proxy"].response()(environ, start_response)
            if failure.get("delay"):
                time.sleep(float(failure["delay"]))
            if failure.get("code") is not None:
                return self._error(failure)(environ, start_response)
        return self._json(status, body, self._usage_headers(
            pct=self.usage_pct if pct is None else round(pct)))(environ, start_response)

    def server_error(self) -> Response:
        return self._error({"code": 2, "status": 500, "is_transient": True,
                            "message": "An unexpected error has occurred. Please retry your "
                                       "request later."})

    def _take_failure(self, rec: Recorded) -> dict[str, Any] | None:
        for f in self.failures:
            if (f.path is None or f.path in rec.path) and (f.method in (None, rec.method)):
                if f.times is not None:
                    f.times -= 1
                    if f.times <= 0:
                        self.failures.remove(f)
                return f.spec
        return None

    def _usage_headers(self, regain: int = 0, pct: int | None = None) -> dict[str, str]:
        pct = self.usage_pct if pct is None else pct
        return {
            "X-App-Usage": json.dumps({"call_count": 12 if pct < 100 else pct, "total_time": 5,
                                       "total_cputime": 4}),
            "X-Business-Use-Case-Usage": json.dumps({self.page_id: [{
                "type": "pages", "call_count": 100 if regain else pct, "total_cputime": 3,
                "total_time": 3, "estimated_time_to_regain_access": regain}]}),
        }

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
        resp = Response(json.dumps(body), status, content_type="application/json")
        for k, v in (headers or self._usage_headers()).items():
            resp.headers[k] = v
        return resp

    def _error(self, spec: dict[str, Any]) -> Response:
        err: dict[str, Any] = {"message": spec.get("message", "error"),
                               "type": "OAuthException", "code": spec["code"],
                               "fbtrace_id": "AfakeTrace01"}
        if spec.get("subcode") is not None:
            err["error_subcode"] = spec["subcode"]
        if "is_transient" in spec:
            err["is_transient"] = spec["is_transient"]
        if spec.get("user_msg"):
            err["error_user_title"] = "Error"
            err["error_user_msg"] = spec["user_msg"]
        headers = self._usage_headers(regain=int(spec.get("regain_minutes", 0)),
                                      pct=100 if spec.get("app_usage") else None)
        return self._json(int(spec.get("status", 400)), {"error": err}, headers)

    @staticmethod
    def err(code: int, message: str, subcode: int | None = None,
            status: int = 400) -> tuple[int, dict[str, Any]]:
        e: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code,
                             "fbtrace_id": "AfakeTrace02"}
        if subcode is not None:
            e["error_subcode"] = subcode
        return status, {"error": e}

    # -- routing ----------------------------------------------------------------------------
    def _token(self, rec: Recorded) -> str:
        auth = rec.headers.get("Authorization", "")
        if auth.split(" ", 1)[0] in ("Bearer", "OAuth") and " " in auth:
            return auth.split(" ", 1)[1]
        return rec.query.get("access_token") or rec.form.get("access_token", "")

    def dispatch(self, rec: Recorded) -> tuple[int, Any]:
        parts = [p for p in rec.path.split("/") if p]
        if parts == ["oauth", "access_token"]:
            return self._oauth(rec)
        token = self._token(rec)
        if parts[:1] == [UPLOAD_PREFIX] and len(parts) == 3:
            if not rec.headers.get("Authorization", "").startswith("OAuth ") or (
                    token != self.page_token):
                return 401, {"debug_info": {"retriable": False, "type": "AuthError",
                                            "message": "Invalid OAuth access token"}}
            return self.rupload(parts[2], rec)
        if token not in (self.page_token, self.user_token, self.long_user_token):
            return self.err(190, "Invalid OAuth access token - Cannot parse access token")
        if not parts:
            if rec.method == "POST" and "batch" in rec.form:
                return self._batch(rec, token)
            return self._multi_read(rec)
        if parts == ["me", "accounts"]:
            return 200, {"data": [{
                "id": self.page_id, "name": self.page_name, "access_token": self.page_token,
                "category": "Government Organization", "tasks": ["CREATE_CONTENT", "MANAGE"],
                "instagram_business_account": {"id": self.ig_user_id,
                                               "username": self.ig_username}}],
                "paging": {"cursors": {"before": "a", "after": "b"}}}
        if parts == ["me"]:
            return 200, {"id": "777", "name": "Operator Diskominfo"}
        if len(parts) == 1 and rec.method == "POST":
            hidden = self.post_node(parts[0], rec)  # hide / unhide a comment
            if hidden is not None:
                return hidden
        if len(parts) == 1:
            return self._read_one(parts[0], rec.query.get("fields", ""))
        node, edge = parts[0], parts[1]
        handler = getattr(self, f"_{rec.method.lower()}_{edge}", None)
        if handler is None:
            return self.err(100, f"Unsupported {rec.method} request. Object with ID '{node}' "
                                 "does not exist", subcode=33)
        return handler(node, rec)

    # -- Facebook ---------------------------------------------------------------------------
    def _post_feed(self, node: str, rec: Recorded) -> tuple[int, Any]:
        if node != self.page_id:
            return self.err(100, "Invalid page id", subcode=33)
        message = rec.form.get("message", "")
        attached = [json.loads(v)["media_fbid"] for k, v in sorted(rec.form.items())
                    if k.startswith("attached_media[")]
        for pid in attached:
            if self.objects.get(pid, {}).get("kind") != "photo":
                return self.err(100, f"(#100) param attached_media[0] has invalid id {pid}")
        post_id = self.add_post(message=message, link=rec.form.get("link"),
                                media=[{"media_type": "photo"} for _ in attached],
                                permalink_url=None)
        self.objects[post_id]["permalink_url"] = f"https://www.facebook.com/{post_id}"
        return 200, {"id": post_id}

    def _get_feed(self, node: str, rec: Recorded) -> tuple[int, Any]:
        data = []
        for obj in reversed(list(self.objects.values())):
            if obj.get("kind") != "post":
                continue
            item = {"id": obj["id"], "created_time": obj["created_time"],
                    "permalink_url": obj.get("permalink_url")}
            if obj.get("message"):
                item["message"] = obj["message"]
            media = obj.get("media") or []
            if len(media) > 1:
                item["attachments"] = {"data": [{"media_type": "album", "subattachments": {
                    "data": media}}]}
            elif media:
                item["attachments"] = {"data": media}
            data.append(item)
        return 200, {"data": data[: int(rec.query.get("limit", 25))]}

    def _post_photos(self, node: str, rec: Recorded) -> tuple[int, Any]:
        if "source" not in rec.files and "url" not in rec.form:
            return self.err(324, "(#324) Requires upload file")
        photo_id = self.new_id()
        self.objects[photo_id] = {"id": photo_id, "kind": "photo",
                                  "alt_text_custom": rec.form.get("alt_text_custom", "")}
        if rec.form.get("published", "true") == "false":
            return 200, {"id": photo_id}
        post_id = self.add_post(f"{self.page_id}_{photo_id}", message=rec.form.get("caption"),
                                media=[{"media_type": "photo"}],
                                permalink_url=f"https://www.facebook.com/{self.page_id}_"
                                              f"{photo_id}")
        return 200, {"id": photo_id, "post_id": post_id}

    def _post_videos(self, node: str, rec: Recorded) -> tuple[int, Any]:
        if "source" not in rec.files and "file_url" not in rec.form:
            return self.err(6000, "There was a problem uploading your video file")
        video_id = self.new_id()
        self.objects[video_id] = {"id": video_id, "kind": "video",
                                  "description": rec.form.get("description")}
        self.add_post(f"{self.page_id}_{video_id}", message=rec.form.get("description"),
                      media=[{"media_type": "video"}],
                      permalink_url=f"https://www.facebook.com/{self.page_id}/videos/{video_id}")
        return 200, {"id": video_id}

    def _get_insights(self, node: str, rec: Recorded) -> tuple[int, Any]:
        obj = self.objects.get(node)
        if obj is None:
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        return self._insights(obj, rec.query.get("metric", ""))

    def _insights(self, obj: dict[str, Any], metric: str) -> tuple[int, Any]:
        names = [m for m in metric.split(",") if m]
        story = obj.get("media_product_type") == "STORY"
        allowed = (IG_STORY_METRICS if story else IG_MEDIA_METRICS
                   if obj.get("kind") == "ig_media" else FB_POST_METRICS)
        if not names:
            return self.err(3001, "Invalid query", subcode=1504028)
        for name in names:
            if name in REMOVED_METRICS or name not in allowed:
                return self.err(100, "(#100) The value must be a valid insights metric")
        values = obj.get("insights", {})
        if story and self.clock and "published" in obj and (
                self.clock().timestamp() - obj["published"] >= STORY_LIFETIME_SECONDS):
            values = {}  # "Story media metrics are only available for 24 hours"
        return 200, {"data": [{"name": n, "period": "lifetime", "values": [{"value": values[n]}],
                               "title": n, "description": n,
                               "id": f"{obj['id']}/insights/{n}/lifetime"}
                              for n in names if n in values]}

    # -- reads ------------------------------------------------------------------------------
    def _read_one(self, node: str, fields: str) -> tuple[int, Any]:
        if node == self.page_id:
            return 200, {"id": self.page_id, "name": self.page_name,
                         "link": f"https://www.facebook.com/{self.page_id}"}
        if node == self.ig_user_id:
            return 200, {"id": self.ig_user_id, "username": self.ig_username,
                         "name": "Diskominfo Kota Contoh"}
        obj = self.objects.get(node)
        if obj is None:
            return self.err(100, f"Unsupported get request. Object with ID '{node}' does not "
                                 "exist, cannot be loaded due to missing permissions, or does "
                                 "not support this operation", subcode=33)
        if obj.get("kind") == "container":
            self._advance_container(obj)
        if obj.get("kind") == "video" and "product" in obj:
            obj["status"] = self.reel_status(obj)
        return self._render(obj, fields)

    def _advance_container(self, obj: dict[str, Any]) -> None:
        if obj["status_code"] == "IN_PROGRESS":
            if obj["polls_left"] <= 0:
                obj["status_code"] = self.container_outcome
                if self.container_outcome == "ERROR":
                    obj["status"] = "Error: Media upload has failed with error code 2207026"
            else:
                obj["polls_left"] -= 1

    def _render(self, obj: dict[str, Any], fields: str) -> tuple[int, Any]:
        out: dict[str, Any] = {"id": obj["id"]}
        for f in _split_fields(fields):
            name = re.split(r"[.{(]", f, maxsplit=1)[0]
            if name in ("reactions", "comments") and obj.get("kind") in ("post", "video"):
                count = obj.get("counts", {}).get(name)
                if count is not None:
                    out[name] = {"data": [], "summary": {"total_count": count}}
            elif name == "shares":
                if obj.get("kind") == "video":
                    return self.err(100, "(#100) Tried accessing nonexisting field (shares) on "
                                         "node type (Video)")
                if obj.get("counts", {}).get("shares"):
                    out["shares"] = {"count": obj["counts"]["shares"]}
            elif name == "insights":
                m = re.search(r"metric\(([^)]*)\)", f)
                status, body = self._insights(obj, m.group(1) if m else "")
                if status != 200:
                    return status, body
                out["insights"] = body
            elif name in obj and name not in ("kind", "counts", "insights"):
                out[name] = obj[name]
        return 200, out

    def _multi_read(self, rec: Recorded) -> tuple[int, Any]:
        ids = [i for i in rec.query.get("ids", "").split(",") if i]
        if not ids:
            return self.err(100, "(#100) Missing ids")
        if len(ids) > 50:
            return self.err(100, "(#100) Too many IDs. Maximum: 50")
        missing = [i for i in ids if i not in self.objects]
        if missing:
            return self.err(100, "(#100) Some of the aliases you requested do not exist: "
                                 + ",".join(missing))
        out = {}
        for i in ids:
            if self.objects[i].get("kind") == "container":
                self._advance_container(self.objects[i])
            status, body = self._render(self.objects[i], rec.query.get("fields", ""))
            if status != 200:
                return status, body
            out[i] = body
        return 200, out

    def _batch(self, rec: Recorded, token: str) -> tuple[int, Any]:
        items = json.loads(rec.form["batch"])
        if len(items) > 50:
            return self.err(1, "Too many requests in batch message. Maximum batch size is 50")
        out = []
        for item in items:
            url = urlsplit("/" + item["relative_url"].lstrip("/"))
            sub = Recorded(item.get("method", "GET"), re.sub(r"^/v\d+\.\d+", "", url.path),
                           dict(parse_qsl(url.query)), dict(parse_qsl(item.get("body", ""))), {},
                           {"Authorization": f"Bearer {token}"})
            status, body = self.dispatch(sub)
            out.append({"code": status, "headers": [], "body": json.dumps(body)})
        return 200, out

    def _oauth(self, rec: Recorded) -> tuple[int, Any]:
        q = {**rec.query, **rec.form}
        if q.get("client_id") != self.app_id or q.get("client_secret") != self.app_secret:
            return self.err(1, "Error validating client secret.", status=400)
        if q.get("grant_type") == "fb_exchange_token":
            if q.get("fb_exchange_token") != self.user_token:
                return self.err(190, "Invalid OAuth access token.")
            return 200, {"access_token": self.long_user_token, "token_type": "bearer",
                         "expires_in": 5_184_000}
        if q.get("code") != "good-code":
            return self.err(100, "Invalid verification code format.", subcode=36007)
        return 200, {"access_token": self.user_token, "token_type": "bearer",
                     "expires_in": 5400}

    # -- Instagram --------------------------------------------------------------------------
    def _post_media(self, node: str, rec: Recorded) -> tuple[int, Any]:
        if node != self.ig_user_id:
            return self.err(100, "Invalid IG user", subcode=33)
        form = rec.form
        mtype = form.get("media_type", "IMAGE")
        if mtype == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 10 or any(
                    self.objects.get(c, {}).get("status_code") != "FINISHED" for c in children):
                return self.err(100, "(#100) The carousel children are invalid or not ready",
                                subcode=2207028)
        elif mtype == "STORIES" and bool(form.get("image_url")) == bool(form.get("video_url")):
            return self.err(100, "(#100) A story takes one image_url or one video_url.",
                            subcode=2207052)
        elif not (form.get("image_url") or form.get("video_url")):
            return self.err(100, "(#100) Only photo or video can be accepted as media type.",
                            subcode=2207052)
        if len(form.get("alt_text", "")) > 1000:
            return self.err(100, "(#100) Param alt_text must be at most 1000 characters long.")
        cid = "179" + self.new_id()
        self.objects[cid] = {"id": cid, "kind": "container", "media_type": mtype,
                             "alt_text": form.get("alt_text", ""),
                             "form": dict(form), "status_code": "IN_PROGRESS",
                             "polls_left": self.container_polls}
        if mtype == "CAROUSEL" or (form.get("is_carousel_item") == "true" and "image_url" in form):
            self.objects[cid]["status_code"] = "FINISHED"
        return 200, {"id": cid}

    def _post_media_publish(self, node: str, rec: Recorded) -> tuple[int, Any]:
        obj = self.objects.get(rec.form.get("creation_id", ""))
        if obj is None or obj.get("kind") != "container":
            return self.err(100, "Invalid creation_id", subcode=33)
        if obj["status_code"] != "FINISHED":
            return self.err(9007, "Media ID is not available", subcode=2207027)
        if self.quota_usage >= self.quota_total:
            return self.err(9, PRESETS["ig_quota"]["message"], subcode=2207042)
        self.quota_usage += 1
        obj["status_code"] = "PUBLISHED"
        mid = "178" + self.new_id()
        shortcode = f"C{mid[-8:]}"
        form = obj["form"]
        story = obj["media_type"] == "STORIES"
        kind = "reel" if obj["media_type"] == "REELS" else "p"
        children = [c for c in form.get("children", "").split(",") if c]
        self.objects[mid] = {
            "id": mid, "kind": "ig_media", "caption": form.get("caption", ""),
            "media_type": ("VIDEO" if "video_url" in form else "IMAGE") if story else {
                "CAROUSEL": "CAROUSEL_ALBUM", "REELS": "VIDEO"}.get(obj["media_type"], "IMAGE"),
            "permalink": (f"https://www.instagram.com/stories/{self.ig_username}/{mid}/"
                          if story else f"https://www.instagram.com/{kind}/{shortcode}/"),
            "media_product_type": ("STORY" if story else "REELS" if kind == "reel"
                                   else "FEED"),
            "published": self.clock().timestamp() if self.clock else 0.0,
            "shortcode": shortcode,
            "timestamp": (self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000") if self.clock
                          else "2026-09-01T10:00:00+0000"),
            "children": {"data": [{"id": c} for c in children]} if children else None,
        }
        return 200, {"id": mid}

    def _get_media(self, node: str, rec: Recorded) -> tuple[int, Any]:
        """The account's media; stories are not in this edge (they have ``/stories``)."""
        items = [self._render(o, rec.query.get("fields", ""))[1]
                 for o in reversed(list(self.objects.values())) if o.get("kind") == "ig_media"
                 and o.get("media_product_type") != "STORY"]
        return 200, {"data": items[: int(rec.query.get("limit", 25))]}

    def _get_stories(self, node: str, rec: Recorded) -> tuple[int, Any]:
        """The account's live stories: those of the last 24 hours."""
        if node == self.page_id:
            return self.page_stories(rec)
        now = self.clock().timestamp() if self.clock else None
        items = [self._render(o, rec.query.get("fields", ""))[1]
                 for o in reversed(list(self.objects.values()))
                 if o.get("media_product_type") == "STORY"
                 and (now is None or now - o.get("published", 0) < STORY_LIFETIME_SECONDS)]
        return 200, {"data": items}

    def _get_content_publishing_limit(self, node: str, rec: Recorded) -> tuple[int, Any]:
        return 200, {"data": [{"quota_usage": self.quota_usage,
                               "config": {"quota_total": self.quota_total,
                                          "quota_duration": 86400}}]}


def _split_fields(fields: str) -> list[str]:
    out, depth, cur = [], 0, ""
    for ch in fields:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return [f.strip() for f in out if f.strip()]


class _Handler(WSGIRequestHandler):
    """werkzeug drops headers whose names have an underscore; rupload's ``file_size`` has
    one, so the fake keeps them (and the names as sent, to check the spelling)."""

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        environ["fake.header_names"] = tuple(self.headers.keys())
        for key, value in self.headers.items():
            if "_" in key:
                environ.setdefault("HTTP_" + key.upper().replace("-", "_"), value)
        return environ


G = TypeVar("G", bound=GraphFake)


def serving(fake: G) -> Iterator[G]:
    """Serve ``fake`` on a free local port while the caller's ``yield`` lasts (the Graph fake
    and the fakes built on it, such as Threads)."""
    server = make_server("127.0.0.1", 0, fake, threaded=True, request_handler=_Handler)
    fake.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def graph_fake() -> Iterator[GraphFake]:
    """A running fake Graph server; ``graph_fake.url`` is its base (add ``/v25.0``)."""
    yield from serving(GraphFake())
