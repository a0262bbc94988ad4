"""A fake Threads API on top of the fake Graph (``tests/fakes/graph.py``): the same server,
error envelope, presets (``fail``), transport faults, multi-id reads and batch requests, with
the Threads paths of platform-apis-2.md §3: ``POST /{user}/threads`` (TEXT, IMAGE, VIDEO,
CAROUSEL with 2–20 children), container ``status``/``error_message``, ``threads_publish``,
``threads_publishing_limit`` (250 a day), ``GET /{user}/threads``, media insights (views,
likes, replies, reposts, quotes, shares), and the unversioned token endpoints: code exchange,
``th_exchange_token`` (60 days) and ``th_refresh_token`` (only for a token ≥ 24 h old).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fakes.graph import GraphFake, Recorded, serving

THREADS_METRICS = {"views", "likes", "replies", "reposts", "quotes", "shares"}
LONG_LIVED = 5_184_000


@dataclass
class ThreadsFake(GraphFake):
    threads_user_id: str = "25000000000000001"
    threads_username: str = "diskominfo.contoh"
    page_token: str = "THAAthreadsLONGtoken0001"  # the token the Graph routes accept
    user_token: str = "THAAthreadsSHORTtoken001"
    app_id: str = "777000"
    app_secret: str = "THREADSAPPSECRET"
    quota_total: int = 250
    #: Seconds since the long-lived token was issued (refresh needs ≥ 24 h).
    token_age: float = 2 * 86400
    refreshes: int = 0

    # -- routing ------------------------------------------------------------------------------
    def dispatch(self, rec: Recorded) -> tuple[int, Any]:
        parts = [p for p in rec.path.split("/") if p]
        if parts == ["oauth", "access_token"]:
            return self._code_exchange(rec)
        if parts == ["access_token"]:
            return self._long_lived(rec)
        if parts == ["refresh_access_token"]:
            return self._refresh(rec)
        if len(parts) == 1 and parts[0] in (self.threads_user_id, "me"):
            if self._token(rec) != self.page_token:
                return self.err(190, "Invalid OAuth access token - Cannot parse access token")
            return 200, {"id": self.threads_user_id, "username": self.threads_username,
                         "name": "Diskominfo Kota Contoh"}
        return super().dispatch(rec)

    def _code_exchange(self, rec: Recorded) -> tuple[int, Any]:
        q = {**rec.query, **rec.form}
        if (q.get("client_id"), q.get("client_secret")) != (self.app_id, self.app_secret):
            return self.err(101, "Error validating application. Invalid application ID.")
        if q.get("code") != "good-code" or q.get("grant_type") != "authorization_code":
            return self.err(100, "Invalid verification code format.", subcode=36007)
        return 200, {"access_token": self.user_token, "user_id": int(self.threads_user_id)}

    def _long_lived(self, rec: Recorded) -> tuple[int, Any]:
        q = rec.query
        if q.get("grant_type") != "th_exchange_token" or q.get("client_secret") != \
                self.app_secret or q.get("access_token") != self.user_token:
            return self.err(190, "Invalid OAuth access token.")
        self.token_age = 0
        return 200, {"access_token": self.page_token, "token_type": "bearer",
                     "expires_in": LONG_LIVED}

    def _refresh(self, rec: Recorded) -> tuple[int, Any]:
        q = rec.query
        if q.get("grant_type") != "th_refresh_token" or q.get("access_token") != self.page_token:
            return self.err(190, "Invalid OAuth access token.")
        if self.token_age < 86400:
            return self.err(10, "(#10) The token can be refreshed 24 hours after it was issued.")
        self.refreshes += 1
        n = self.refreshes
        self.page_token = f"THAAthreadsLONGtoken{n + 1:04d}"
        self.token_age = 0
        return 200, {"access_token": self.page_token, "token_type": "bearer",
                     "expires_in": LONG_LIVED}

    # -- containers -----------------------------------------------------------------------------
    def _post_threads(self, node: str, rec: Recorded) -> tuple[int, Any]:
        if node not in (self.threads_user_id, "me"):
            return self.err(100, "Invalid Threads user", subcode=33)
        form = {**rec.query, **rec.form}
        mtype = form.get("media_type", "")
        if mtype == "TEXT":
            if not form.get("text"):
                return self.err(100, "(#100) The parameter text is required.")
        elif mtype == "CAROUSEL":
            children = [c for c in form.get("children", "").split(",") if c]
            if not 2 <= len(children) <= 20 or any(
                    self.objects.get(c, {}).get("status") != "FINISHED" for c in children):
                return self.err(100, "(#100) The carousel children are invalid or not ready")
        elif mtype == "IMAGE" and not form.get("image_url") or \
                mtype == "VIDEO" and not form.get("video_url") or \
                mtype not in ("IMAGE", "VIDEO", "TEXT", "CAROUSEL"):
            return self.err(100, "(#100) Param media_type must be one of TEXT, IMAGE, VIDEO, "
                                 "CAROUSEL")
        if len(form.get("text", "")) > 500:
            return self.err(100, "(#100) Param text must be at most 500 characters long.")
        cid = "180" + self.new_id()
        ready = mtype in ("CAROUSEL", "TEXT") or (form.get("is_carousel_item") == "true"
                                                  and mtype == "IMAGE")
        self.objects[cid] = {"id": cid, "kind": "container", "threads": True,
                             "alt_text": form.get("alt_text", ""),
                             "media_type": mtype, "form": form,
                             "status_code": "FINISHED" if ready else "IN_PROGRESS",
                             "polls_left": self.container_polls}
        self._mirror(self.objects[cid])
        return 200, {"id": cid}

    def _advance_container(self, obj: dict[str, Any]) -> None:
        super()._advance_container(obj)
        if obj.get("threads"):
            self._mirror(obj)

    @staticmethod
    def _mirror(obj: dict[str, Any]) -> None:
        """Threads names the state ``status`` and the reason ``error_message``."""
        obj["status"] = obj["status_code"]
        if obj["status_code"] == "ERROR":
            obj["error_message"] = "MEDIA_DOWNLOAD_FAILED"

    def _post_threads_publish(self, node: str, rec: Recorded) -> tuple[int, Any]:
        obj = self.objects.get({**rec.query, **rec.form}.get("creation_id", ""))
        if obj is None or not obj.get("threads"):
            return self.err(100, "Invalid creation_id", subcode=33)
        if obj["status_code"] == "PUBLISHED":
            return self.err(100, "(#100) The container was already published.")
        if obj["status_code"] != "FINISHED":
            return self.err(9007, "Media ID is not available", subcode=2207027)
        if self.quota_usage >= self.quota_total:
            return self.err(9, "You reached the maximum number of posts allowed.",
                            subcode=2207042)
        self.quota_usage += 1
        obj["status_code"] = "PUBLISHED"
        self._mirror(obj)
        mid = "181" + self.new_id()
        form = obj["form"]
        children = [c for c in form.get("children", "").split(",") if c]
        self.objects[mid] = {
            "id": mid, "kind": "th_media", "text": form.get("text", ""),
            "media_type": {"CAROUSEL": "CAROUSEL_ALBUM", "TEXT": "TEXT_POST"}.get(
                obj["media_type"], obj["media_type"]),
            "permalink": f"https://www.threads.net/@{self.threads_username}/post/C{mid[-8:]}",
            "timestamp": (self.clock().strftime("%Y-%m-%dT%H:%M:%S+0000") if self.clock
                          else "2026-06-10T03:00:00+0000"),
            "children": {"data": [{"id": c} for c in children]} if children else None,
            "insights": {"views": 0, "likes": 0, "replies": 0, "reposts": 0, "quotes": 0}}
        return 200, {"id": mid}

    def _get_threads(self, node: str, rec: Recorded) -> tuple[int, Any]:
        items = [self._render(o, rec.query.get("fields", ""))[1]
                 for o in reversed(list(self.objects.values())) if o.get("kind") == "th_media"]
        return 200, {"data": items[: int(rec.query.get("limit", 25))]}

    def _get_threads_publishing_limit(self, node: str, rec: Recorded) -> tuple[int, Any]:
        return 200, {"data": [{"quota_usage": self.quota_usage,
                               "config": {"quota_total": self.quota_total,
                                          "quota_duration": 86400},
                               "reply_quota_usage": 0,
                               "reply_config": {"quota_total": 1000, "quota_duration": 86400}}]}

    def _insights(self, obj: dict[str, Any], metric: str) -> tuple[int, Any]:
        if obj.get("kind") != "th_media":
            return super()._insights(obj, metric)
        names = [m for m in metric.split(",") if m]
        bad = [n for n in names if n not in THREADS_METRICS]
        if not names or bad:
            return self.err(100, "(#100) The value must be a valid insights metric")
        values = obj.get("insights", {})
        return 200, {"data": [{"name": n, "period": "lifetime", "values": [{"value": values[n]}],
                               "title": n, "description": n,
                               "id": f"{obj['id']}/insights/{n}/lifetime"}
                              for n in names if n in values]}

    def posts(self) -> int:
        return sum(1 for o in self.objects.values() if o.get("kind") == "th_media")


@pytest.fixture
def threads_fake() -> Iterator[ThreadsFake]:
    """A running fake Threads server; ``threads_fake.url`` is its base (add ``/v1.0``)."""
    yield from serving(ThreadsFake())
