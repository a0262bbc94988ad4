"""A fake X API v2 server: posts, chunked media upload, lookup, users, OAuth 2.0 token endpoint.

Every answer carries ``x-rate-limit-*`` headers. ``fake.fail(route, mode, times=1)`` switches a
route (``"tweets"``, ``"initialize"``, ``"append"``, ``"finalize"``, ``"status"``, ``"lookup"``,
``"timeline"``, ``"me"``, ``"token"``) into one failure: ``rate_limit``, ``rate_limit_24h``,
``usage_cap``, ``credits``, ``unauthorized``, ``duplicate``, ``invalid``, ``server_error``,
``accept_then_500`` / ``accept_then_drop`` (the post is stored, then 503 / a dropped connection),
``invalid_grant`` (token route), and the bare proxy statuses of ``_wsgi_fake.proxy_failure``
(``proxy-503``, ``proxy-text-429-120``, ``accept-proxy-502`` …: an HTML or text body, no JSON).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import (
    FakeServer,
    Recorded,
    broken_response,
    json_response,
    proxy_failure,
)

RESET_AT = 1_900_000_000
USER = {"id": "4242", "name": "Diskominfo Uji", "username": "diskominfo_uji"}


def problem(status: int, title: str, detail: str, kind: str = "about:blank",
            **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, "type": kind, "status": status, **extra}


class FakeX(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.access_token = "x-access-1"
        self.refresh_token = "x-refresh-1"
        self.client_id, self.client_secret = "x-client", "x-client-secret"
        self.oauth1_consumer = "x-consumer"
        self.failures: dict[str, list[str]] = {}
        self.tweets: dict[str, dict[str, Any]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.processing_polls = 1
        self.video_fails = False
        self.omit_impressions = False
        #: ``created_at`` of the tweets created now (tests set it to their clock's time).
        self.created_at = "2026-10-01T03:00:00.000Z"
        #: Or a clock (a callable returning an aware datetime) for ``created_at``.
        self.clock: Any = None
        self.codes: dict[str, str] = {}  # authorization code -> PKCE challenge
        #: Replies for recent search (``add_reply``), oldest first; the office's user id.
        self.replies: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, str]] = {}
        self.user_id = USER["id"]
        self._ids = itertools.count(1_880_000_000_000_000_000)

    def fail(self, route: str, mode: str, times: int = 1) -> None:
        self.failures.setdefault(route, []).extend([mode] * times)

    def seed(self, n: int, **metrics: int) -> list[str]:
        """Pre-existing posts with public metrics (``impression_count`` unless omitted)."""
        ids = []
        for i in range(n):
            tid = str(next(self._ids))
            pm = {"retweet_count": 2, "reply_count": 3, "like_count": 10 + i, "quote_count": 1,
                  "bookmark_count": 4, "impression_count": 500 + i, **metrics}
            self.tweets[tid] = {"id": tid, "text": f"seed {i}", "public_metrics": pm,
                                "created_at": "2026-10-01T01:00:00.000Z"}
            ids.append(tid)
        return ids

    def add_reply(self, conversation_id: str, text: str, *, parent: str | None = None,
                  author: tuple[str, str, str] | None = ("2001", "wargaku", "Warga Kota"),
                  created_at: str = "2026-06-10T02:00:00.000Z") -> str:
        """A reply in a conversation (``parent`` None: to the root post). ``author`` is
        (id, username, name); None: the user is missing from ``includes`` (suspended)."""
        rid = str(next(self._ids))
        author_id = author[0] if author else "9999"
        if author:
            self.users[author[0]] = {"id": author[0], "username": author[1], "name": author[2]}
        self.replies.append({
            "id": rid, "text": text, "author_id": author_id, "conversation_id": conversation_id,
            "created_at": created_at, "in_reply_to_user_id": self.user_id,
            "referenced_tweets": [{"type": "replied_to", "id": parent or conversation_id}]})
        return rid

    # -- routing ------------------------------------------------------------------------
    def handle(self, request: Request, rec: Recorded) -> Response:
        route = self._route(request)
        if route == "token":
            return self._token(rec)
        if not self._authorised(rec):
            return self._answer(problem(401, "Unauthorized", "Unauthorized"), 401)
        mode = (self.failures.get(route) or [None]).pop(0) if self.failures.get(route) else None
        proxy = proxy_failure(mode)
        if proxy is not None and not proxy.after_accept:
            return proxy.response()
        failed = self._failure(mode)
        if failed is not None:
            return failed
        handler = getattr(self, f"_r_{route}", None)
        if handler is None:
            return self._answer(problem(404, "Not Found", f"no route {request.path}"), 404)
        body, status = handler(request, rec)
        if mode == "accept_then_500":
            return self._answer(problem(503, "Service Unavailable", "Service Unavailable"), 503)
        if mode == "accept_then_drop":
            return broken_response()
        if proxy is not None:
            return proxy.response()
        return self._answer(body, status)

    def _route(self, request: Request) -> str:
        path = request.path
        if path == "/2/oauth2/token":
            return "token"
        if path == "/2/tweets":
            return "tweets" if request.method == "POST" else "lookup"
        if path == "/2/users/me":
            return "me"
        if path.startswith("/2/users/") and path.endswith("/tweets"):
            return "timeline"
        if path == "/2/media/upload":
            return "status"
        return path.rsplit("/", 1)[-1]  # initialize / append / finalize

    def _authorised(self, rec: Recorded) -> bool:
        auth = rec.headers.get("authorization", "")
        if auth.startswith("OAuth "):
            return (f'oauth_consumer_key="{self.oauth1_consumer}"' in auth
                    and "oauth_signature=" in auth and "oauth_token=" in auth)
        return auth == f"Bearer {self.access_token}"

    def _answer(self, body: Any, status: int = 200, **headers: str) -> Response:
        base = {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "99",
                "x-rate-limit-reset": str(RESET_AT)}
        return json_response(body, status, {**base, **headers})

    def _failure(self, mode: str | None) -> Response | None:
        if mode == "rate_limit":
            return self._answer(problem(429, "Too Many Requests", "Too Many Requests"), 429,
                                **{"x-rate-limit-remaining": "0"})
        if mode == "rate_limit_24h":
            return self._answer({"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, 429,
                                **{"x-user-limit-24hour-remaining": "0",
                                   "x-user-limit-24hour-reset": str(RESET_AT + 50_000)})
        if mode == "usage_cap":
            return self._answer(problem(429, "UsageCapExceeded",
                                        "Usage cap exceeded: Monthly product cap",
                                        "https://api.twitter.com/2/problems/usage-capped",
                                        period="Monthly", scope="Product"), 429)
        if mode == "credits":
            return self._answer(problem(402, "Payment Required", "credits depleted",
                                        "https://api.x.com/2/problems/credits-depleted"), 402)
        if mode == "unauthorized":
            return self._answer(problem(401, "Unauthorized", "Unauthorized"), 401)
        if mode == "duplicate":
            return self._answer(problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."),
                403)
        if mode == "invalid":
            return self._answer(problem(
                400, "Invalid Request", "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request"), 400)
        if mode == "server_error":
            return self._answer(problem(503, "Service Unavailable", "Service Unavailable"), 503)
        return None

    def server_error(self) -> Response:
        return self._answer(problem(503, "Service Unavailable", "Service Unavailable"), 503)

    # -- OAuth 2.0 ----------------------------------------------------------------------
    def _token(self, rec: Recorded) -> Response:
        mode = (self.failures.get("token") or [None]).pop(0) if self.failures.get("token") else None
        proxy = proxy_failure(mode)
        if proxy is not None:
            return proxy.response()
        if mode == "invalid_grant":
            return json_response({"error": "invalid_request",
                                  "error_description": "Value passed for the token was invalid."},
                                 400)
        auth = rec.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}" and rec.form.get("client_id") != self.client_id:
            return json_response({"error": "invalid_client"}, 401)
        grant = rec.form.get("grant_type")
        if grant == "refresh_token":
            if rec.form.get("refresh_token") != self.refresh_token:
                return json_response({"error": "invalid_request",
                                      "error_description": "Value passed for the token was "
                                      "invalid."}, 400)
        elif grant == "authorization_code":
            challenge = self.codes.pop(rec.form.get("code", ""), None)
            verifier = rec.form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if challenge is None or digest.decode().rstrip("=") != challenge:
                return json_response({"error": "invalid_request"}, 400)
        else:
            return json_response({"error": "unsupported_grant_type"}, 400)
        n = int(self.access_token.rsplit("-", 1)[1]) + 1
        self.access_token, self.refresh_token = f"x-access-{n}", f"x-refresh-{n}"
        return json_response({"token_type": "bearer", "expires_in": 7200,
                              "access_token": self.access_token, "refresh_token":
                              self.refresh_token,
                              "scope": "tweet.read tweet.write users.read offline.access "
                                       "media.write"})

    # -- API routes ---------------------------------------------------------------------
    def _r_recent(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        """``GET /2/tweets/search/recent?query=conversation_id:…``: newest first, pages of
        ``max_results`` (10..100) with ``meta.next_token``, authors in ``includes.users``."""
        query = request.args.get("query", "")
        try:
            size = int(request.args.get("max_results", "10"))
        except ValueError:
            size = 0
        if not 10 <= size <= 100:
            return problem(400, "Invalid Request", "The `max_results` query parameter value "
                           f"[{request.args.get('max_results')}] is not between 10 and 100",
                           "https://api.twitter.com/2/problems/invalid-request"), 400
        if not query.startswith("conversation_id:"):
            return problem(400, "Invalid Request", "the fake knows conversation_id only",
                           "https://api.twitter.com/2/problems/invalid-request"), 400
        conv = query.split(":", 1)[1].split()[0]
        found = [r for r in reversed(self.replies) if r["conversation_id"] == conv]
        start = int(request.args.get("next_token", "0") or 0)
        page = found[start:start + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta |= {"newest_id": page[0]["id"], "oldest_id": page[-1]["id"]}
        if start + size < len(found):
            meta["next_token"] = str(start + size)
        body: dict[str, Any] = {"data": page, "meta": meta} if page else {"meta": meta}
        users = [self.users[r["author_id"]] for r in page if r["author_id"] in self.users]
        if users:
            body["includes"] = {"users": list({u["id"]: u for u in users}.values())}
        return body, 200

    def _r_me(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        return {"data": USER}, 200

    def _r_initialize(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        mid = str(next(self._ids))
        self.media[mid] = {**(rec.json or {}), "received": 0, "segments": [], "polls": 0}
        return {"data": {"id": mid, "media_key": f"13_{mid}", "expires_after_secs": 86400}}, 200

    def _r_append(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        mid = request.path.split("/")[-2]
        item = self.media[mid]
        item["segments"].append(int(rec.form["segment_index"]))
        item["received"] += rec.files.get("media", 0)
        return {"data": {"expires_at": 1_900_086_400}}, 200

    def _r_finalize(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        mid = request.path.split("/")[-2]
        item = self.media[mid]
        if item["received"] != item["total_bytes"]:
            return problem(400, "Invalid Request", "Segments do not add up to total_bytes."), 400
        data: dict[str, Any] = {"id": mid, "media_key": f"13_{mid}",
                                "size": item["total_bytes"], "expires_after_secs": 86400}
        if item["media_category"] == "tweet_video":
            data["processing_info"] = {"state": "pending", "check_after_secs": 1}
        return {"data": data}, 200

    def _r_metadata(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        """``POST /2/media/metadata``: alt text of an uploaded image, kept on the medium."""
        body = rec.json or {}
        item = self.media.get(str(body.get("id", "")))
        alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
        if item is None or not isinstance(alt, str) or len(alt) > 1000:
            return problem(400, "Invalid Request",
                           "One or more parameters to your request was invalid.",
                           "https://api.twitter.com/2/problems/invalid-request"), 400
        item["alt_text"] = alt
        return {"data": {"id": body["id"], "associated_metadata": {"alt_text": {"text": alt}}}}, 200

    def _r_status(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        mid = rec.query.get("media_id", "")
        item = self.media[mid]
        item["polls"] += 1
        if item["polls"] <= self.processing_polls:
            info: dict[str, Any] = {"state": "in_progress", "check_after_secs": 3,
                                    "progress_percent": 50}
        elif self.video_fails:
            info = {"state": "failed", "error": {"code": 1, "name": "InvalidMedia",
                                                 "message": "Unsupported video codec"}}
        else:
            info = {"state": "succeeded", "progress_percent": 100}
        return {"data": {"id": mid, "media_key": f"13_{mid}", "processing_info": info}}, 200

    def _r_tweets(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        body = rec.json or {}
        ids = (body.get("media") or {}).get("media_ids") or []
        if len(ids) > 4 or any(i not in self.media for i in ids):
            return problem(400, "Invalid Request", "Your media IDs are invalid.",
                           "https://api.twitter.com/2/problems/invalid-request"), 400
        reply = body.get("reply") or {}
        parent = str(reply.get("in_reply_to_tweet_id") or "")
        if reply and parent not in self.tweets:
            return problem(400, "Invalid Request", "The Tweet you are replying to does not "
                           "exist.", "https://api.twitter.com/2/problems/invalid-request"), 400
        tid = str(next(self._ids))
        self.tweets[tid] = {"id": tid, "text": body.get("text", ""),
                            "alt_texts": [self.media[i].get("alt_text", "") for i in ids],
                            # a reply (platform-apis-2.md §1.4): what the timeline shows
                            **({"in_reply_to": parent} if parent else {}),
                            "created_at": (self.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
                                           if self.clock else self.created_at),
                            "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                               "like_count": 0, "quote_count": 0,
                                               "bookmark_count": 0, "impression_count": 0}}
        return {"data": {"id": tid, "text": body.get("text", ""),
                         "edit_history_tweet_ids": [tid]}}, 201

    def replies_to(self, tid: str) -> list[dict[str, Any]]:
        """The replies to post ``tid`` (all by the account: the fake has one user)."""
        return [t for t in self.tweets.values() if t.get("in_reply_to") == tid]

    def _r_lookup(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        ids = rec.query.get("ids", "").split(",")
        if len(ids) > 100:
            return problem(400, "Invalid Request", "ids: size must be between 1 and 100",
                           "https://api.twitter.com/2/problems/invalid-request"), 400
        data, errors = [], []
        for tid in ids:
            tweet = self.tweets.get(tid)
            if tweet is None:
                errors.append({"value": tid, "detail": f"Could not find tweet with ids: [{tid}].",
                               "title": "Not Found Error", "resource_type": "tweet",
                               "parameter": "ids", "resource_id": tid,
                               "type": "https://api.twitter.com/2/problems/resource-not-found"})
                continue
            pm = dict(tweet["public_metrics"])
            if self.omit_impressions:
                pm.pop("impression_count", None)
            data.append({"id": tid, "text": tweet["text"], "public_metrics": pm,
                         "edit_history_tweet_ids": [tid]})
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return body, 200

    def _r_timeline(self, request: Request, rec: Recorded) -> tuple[Any, int]:
        # X rewrites links to t.co in returned text; the fake does the same.
        # start_time is inclusive (ISO 8601, Z); the fake compares the same format as text
        since = request.args.get("start_time", "")
        no_replies = "replies" in request.args.get("exclude", "")
        fields = request.args.get("tweet.fields", "")
        items = [{"id": t["id"], "created_at": t["created_at"], "text": _tco(t["text"]),
                  **({"referenced_tweets": [{"type": "replied_to", "id": t["in_reply_to"]}]}
                     if t.get("in_reply_to") and "referenced_tweets" in fields else {})}
                 for t in reversed(list(self.tweets.values()))
                 if (not since or t["created_at"][:19] >= since[:19])
                 and not (no_replies and t.get("in_reply_to"))]
        return {"data": items, "meta": {"result_count": len(items)}}, 200


def _tco(text: str) -> str:
    return re.sub(r"https?://\S+", "https://t.co/AbCd123", text).replace("&", "&amp;")


def serve() -> Iterator[FakeX]:
    """Generator for a pytest fixture: ``yield from serve()``."""
    fake = FakeX().start()
    try:
        yield fake
    finally:
        fake.stop()
