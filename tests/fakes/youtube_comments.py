"""The YouTube fake's comment resources (platform-apis-2.md §1.5): ``commentThreads.list``
(``videoId``, ``order=time`` newest first, ``maxResults`` 1..100, ``pageToken``, a thread
carrying at most ``inline_replies`` of its replies) and ``comments.list`` (``parentId``).
Tests add, edit and delete comments; an author may lack ``authorChannelId`` and the display
name; quota and rate limits come from ``fake.fail("commentThreads", "quota" | "too_many")``.

A page token is the position after a thread's sequence number, so new comments arriving
between two page reads do not repeat a page (YouTube's tokens are opaque).
"""

from __future__ import annotations

import base64
from typing import Any

from werkzeug.wrappers import Response

from tests.fakes._wsgi_fake import Recorded, broken_response, json_response


class YouTubeComments:
    """Mixed into ``FakeYouTube``."""

    threads: dict[str, dict[str, Any]]
    inline_replies: int = 2
    _seq: int = 0

    def _next_seq(self) -> int:
        self._seq = getattr(self, "_seq", 0) + 1
        return self._seq

    def add_thread(self, video_id: str, text: str, *, author: str | None = "Warga Uji",
                   channel: str | None = "UCwarga01",
                   published: str = "2026-10-01T05:00:00Z") -> str:
        seq = self._next_seq()
        tid = f"Ugz{seq:06d}"
        self.threads[tid] = {"video": video_id, "seq": seq, "replies": [],
                             "top": _comment(tid, video_id, text, author, channel, published)}
        return tid

    def add_reply(self, thread_id: str, text: str, *, author: str | None = "Warga Lain",
                  published: str = "2026-10-01T06:00:00Z") -> str:
        thread = self.threads[thread_id]
        rid = f"{thread_id}.r{self._next_seq():04d}"
        reply = _comment(rid, thread["video"], text, author, "UCwarga02", published)
        reply["snippet"]["parentId"] = thread_id
        thread["replies"].append(reply)
        return rid

    def edit_comment(self, comment_id: str, text: str,
                     updated: str = "2026-10-02T01:00:00Z") -> None:
        for thread in self.threads.values():
            for c in [thread["top"], *thread["replies"]]:
                if c["id"] == comment_id:
                    c["snippet"].update(textOriginal=text, textDisplay=text, updatedAt=updated)

    def delete_thread(self, thread_id: str) -> None:
        del self.threads[thread_id]

    #: Faults of ``commentThreads.insert``: ``"accept_then_drop"`` stores the thread, then the
    #: connection breaks (the client never learns its id); ``"accept_then_500"`` answers 503.
    insert_faults: list[str]
    own_channel: str = "UCfakeChannel01"

    def own_threads(self, video_id: str) -> list[dict[str, Any]]:
        """The threads the channel itself started on the video (its first comments)."""
        return [t for t in self.threads.values() if t["video"] == video_id
                and t["top"]["snippet"].get("authorChannelId", {}).get("value")
                == self.own_channel]

    def _insert_thread(self, rec: Recorded) -> Response:
        """``commentThreads.insert?part=snippet`` (§1.5): a top-level comment by the
        channel; answers the thread resource."""
        snippet = (rec.json or {}).get("snippet") or {}
        video = str(snippet.get("videoId") or "")
        text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get(
            "textOriginal")
        if video not in getattr(self, "videos", {}) or not text:
            return _bad("invalidParameter", "videoId or textOriginal missing or unknown")
        tid = self.add_thread(video, str(text), author="Diskominfo Uji",
                              channel=self.own_channel)
        fault = self.insert_faults.pop(0) if getattr(self, "insert_faults", None) else None
        if fault == "accept_then_drop":
            return broken_response()
        if fault == "accept_then_500":
            return json_response({"error": {"code": 503, "message": "Backend Error", "errors": [
                {"domain": "global", "reason": "backendError"}]}}, 503)
        t = self.threads[tid]
        return json_response({"kind": "youtube#commentThread", "id": tid,
                              "snippet": {"videoId": video, "topLevelComment": t["top"]}})

    def comment_route(self, path: str, rec: Recorded) -> Response | None:
        if path == "/youtube/v3/commentThreads" and rec.method == "POST":
            return self._insert_thread(rec)
        if path == "/youtube/v3/commentThreads":
            return self._threads(rec)
        if path == "/youtube/v3/comments" and rec.method == "POST":
            return self._insert_reply(rec)
        if path == "/youtube/v3/comments/setModerationStatus" and rec.method == "POST":
            return self._moderate(rec)
        if path == "/youtube/v3/comments":
            return self._replies(rec)
        return None

    # -- writes: comments.insert (a reply) and comments.setModerationStatus ------------------
    #: The office's channel (the fake's ``channels?mine=true``): the author of its replies.
    office_channel: tuple[str, str] = ("UCfakeChannel01", "Diskominfo Uji")

    def office_replies(self, thread_id: str) -> list[dict[str, Any]]:
        return [r for r in self.threads[thread_id]["replies"]
                if (r["snippet"].get("authorChannelId") or {}).get("value")
                == self.office_channel[0]]

    def moderation_of(self, comment_id: str) -> str | None:
        for thread in self.threads.values():
            for c in [thread["top"], *thread["replies"]]:
                if c["id"] == comment_id:
                    return c["snippet"].get("moderationStatus", "published")
        return None

    def _insert_reply(self, rec: Recorded) -> Response:
        """``POST /youtube/v3/comments?part=snippet`` with ``{"snippet": {"parentId",
        "textOriginal"}}``: the comment resource (only top-level comments take replies)."""
        snippet = (rec.json or {}).get("snippet") or {}
        if "snippet" not in rec.query.get("part", ""):
            return _bad("invalidPart", "The part parameter must include snippet.")
        parent = snippet.get("parentId")
        if not parent:
            return _bad("parentIdMissing", "The comment must have a parentId.")
        text = str(snippet.get("textOriginal") or "")
        if not text.strip():
            return _bad("commentTextRequired", "The comment text is required.")
        if len(text) > 10_000:
            return _bad("commentTextTooLong", "The comment text is too long.")
        if parent not in self.threads:
            return json_response({"error": {"code": 404, "message": "Not found", "errors": [
                {"domain": "youtube.comment", "reason": "parentCommentNotFound"}]}}, 404)
        channel, name = self.office_channel
        rid = self.add_reply(parent, text, author=name)
        reply = self.threads[parent]["replies"][-1]
        reply["snippet"]["authorChannelId"] = {"value": channel}
        reply["snippet"]["authorChannelUrl"] = f"http://www.youtube.com/@{channel.lower()}"
        assert reply["id"] == rid
        return json_response(reply)

    def _moderate(self, rec: Recorded) -> Response:
        """``POST /youtube/v3/comments/setModerationStatus?id=&moderationStatus=`` → 204."""
        status = rec.query.get("moderationStatus")
        if status not in ("published", "heldForReview", "rejected"):
            return _bad("invalidModerationStatus", "Invalid moderationStatus.")
        if rec.query.get("banAuthor") == "true" and status != "rejected":
            return _bad("banWithoutReject", "banAuthor needs moderationStatus=rejected.")
        ids = [i for i in (rec.query.get("id") or "").split(",") if i]
        found = []
        for thread in self.threads.values():
            for c in [thread["top"], *thread["replies"]]:
                if c["id"] in ids:
                    found.append(c)
        if not ids or len(found) != len(ids):
            return json_response({"error": {"code": 404, "message": "Not found", "errors": [
                {"domain": "youtube.comment", "reason": "commentNotFound"}]}}, 404)
        for c in found:
            c["snippet"]["moderationStatus"] = status
        return Response(b"", 204)

    def _threads(self, rec: Recorded) -> Response:
        q = rec.query
        if not q.get("videoId"):
            return _bad("missingRequiredParameter", "No filter selected.")
        limit = int(q.get("maxResults", 20))
        if not 1 <= limit <= 100:
            return _bad("invalidParameter", "maxResults out of range")
        items = sorted((t for t in self.threads.values() if t["video"] == q["videoId"]),
                       key=lambda t: t["seq"], reverse=True)
        if q.get("pageToken"):
            after = int(base64.b64decode(q["pageToken"]).decode())
            items = [t for t in items if t["seq"] < after]
        page = items[:limit]
        body: dict[str, Any] = {
            "kind": "youtube#commentThreadListResponse",
            "pageInfo": {"totalResults": len(page), "resultsPerPage": limit},
            "items": [{"kind": "youtube#commentThread", "id": t["top"]["id"],
                       "snippet": {"videoId": t["video"], "topLevelComment": t["top"],
                                   "totalReplyCount": len(t["replies"]), "canReply": True,
                                   "isPublic": True},
                       **({"replies": {"comments": t["replies"][:self.inline_replies]}}
                          if t["replies"] and "replies" in q.get("part", "") else {})}
                      for t in page]}
        if len(items) > limit:
            body["nextPageToken"] = _token(page[-1]["seq"])
        return json_response(body)

    def _replies(self, rec: Recorded) -> Response:
        q = rec.query
        thread = self.threads.get(q.get("parentId", ""))
        if thread is None:
            return json_response({"error": {"code": 404, "message": "Not found", "errors": [
                {"domain": "youtube.comment", "reason": "parentCommentNotFound"}]}}, 404)
        limit = int(q.get("maxResults", 20))
        start = int(q.get("pageToken") or 0)
        replies = thread["replies"][start:start + limit]
        body: dict[str, Any] = {"kind": "youtube#commentListResponse", "items": replies}
        if start + limit < len(thread["replies"]):
            body["nextPageToken"] = str(start + limit)
        return json_response(body)


def _comment(cid: str, video: str, text: str, author: str | None, channel: str | None,
             published: str) -> dict[str, Any]:
    snippet: dict[str, Any] = {"videoId": video, "textDisplay": text, "textOriginal": text,
                               "likeCount": 0, "publishedAt": published, "updatedAt": published}
    if author is not None:
        snippet["authorDisplayName"] = author
    if channel is not None:
        snippet["authorChannelId"] = {"value": channel}
        snippet["authorChannelUrl"] = f"http://www.youtube.com/@{channel.lower()}"
    return {"kind": "youtube#comment", "id": cid, "snippet": snippet}


def _bad(reason: str, message: str) -> Response:
    return json_response({"error": {"code": 400, "message": message, "errors": [
        {"domain": "youtube.parameter", "reason": reason, "message": message}]}}, 400)


def _token(seq: int) -> str:
    return base64.b64encode(str(seq).encode()).decode()
