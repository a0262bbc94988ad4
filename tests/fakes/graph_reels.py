"""The Facebook Reels and Page Stories part of the fake Graph (mixed into ``GraphFake``).

Reels: ``POST /{page}/video_reels`` with ``upload_phase=start`` (→ ``video_id``, ``upload_url``
on rupload), the transfer ``POST /video-upload/v25.0/{video_id}`` (``Authorization: OAuth``,
``offset``, ``file_size`` headers, the bytes as the body; errors as rupload's ``debug_info``),
``upload_phase=finish`` (``video_state=PUBLISHED``, ``description``) → ``{"success": true}``;
``GET /{video_id}?fields=status`` whose phases move on with each read (``reel_processing_reads``
reads of ``processing`` after finish, then published); ``GET /{page}/video_reels``;
``/{video_id}/video_insights`` with the reels metric names (others refused with code 100).
Without a finish the status stays ``upload_complete`` with publishing ``not_started``.

Stories: ``POST /{page}/photo_stories photo_id=`` (an unpublished photo) and
``/{page}/video_stories`` start / transfer / finish → ``{"success": true, "post_id"}``;
``GET /{page}/stories``. A photo already used in a post is refused, as Meta documents.

Faults (``tests/fakes/faults.py``) see these calls with their phase after a ``#``:
``/1000/video_reels#start``, ``/1000/video_reels#finish``, ``/1000/video_stories#finish``.
"""

from __future__ import annotations

from typing import Any

#: Reels metrics of ``video_insights`` (Meta's Reels insights list).
REEL_METRICS = {"blue_reels_play_count", "fb_reels_total_plays", "fb_reels_replay_count",
                "post_impressions_unique", "post_video_avg_time_watched",
                "post_video_view_time", "post_video_followers", "post_video_social_actions",
                "post_video_likes_by_reaction_type"}
VIDEO_METRICS = {"total_video_views", "total_video_views_unique", "total_video_impressions",
                 "total_video_impressions_unique"}
UPLOAD_PREFIX = "video-upload"


def phase_path(method: str, path: str, query: dict[str, str], form: dict[str, str]) -> str:
    """The path faults are matched on: a three-phase edge carries its phase after ``#``."""
    if method == "POST" and path.rstrip("/").endswith(("/video_reels", "/video_stories")):
        phase = form.get("upload_phase") or query.get("upload_phase") or ""
        return f"{path}#{phase}"
    return path


class ReelsMixin:
    """Handlers found by ``GraphFake.dispatch`` (``_<method>_<edge>``)."""

    #: Status reads a finished reel stays ``processing`` before it is published.
    reel_processing_reads: int = 1
    #: Status reads right after finish that still say ``upload_complete`` / ``not_started``
    #: (Meta lagging behind a finish it received; platform-apis-2.md §4.3 UNCONFIRMED).
    reel_lag_reads: int = 0
    objects: dict[str, dict[str, Any]]
    page_id: str
    url: str
    clock: Any

    def new_id(self) -> str:  # pragma: no cover - GraphFake's
        raise NotImplementedError

    @staticmethod
    def err(code: int, message: str, subcode: int | None = None,
            status: int = 400) -> tuple[int, dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _stamp(self) -> tuple[str, int]:
        if self.clock:
            now = self.clock()
            return now.strftime("%Y-%m-%dT%H:%M:%S+0000"), int(now.timestamp())
        return "2026-09-01T10:00:00+0000", 1_788_256_800

    def published_reels(self) -> list[dict[str, Any]]:
        """Reels whose finish Meta received: they will be public (processing only delays)."""
        return [o for o in self.objects.values() if o.get("kind") == "video"
                and o.get("product") == "REELS" and o.get("finished")]

    def stories(self) -> list[dict[str, Any]]:
        return [o for o in self.objects.values() if o.get("kind") == "story"]

    # -- the three phases -------------------------------------------------------------------
    def _three_phase(self, node: str, rec: Any, product: str) -> tuple[int, Any]:
        if node != self.page_id:
            return self.err(100, "Invalid page id", subcode=33)
        args = {**rec.query, **rec.form}
        phase = args.get("upload_phase")
        if phase == "start":
            vid = self.new_id()
            self.objects[vid] = {"id": vid, "kind": "video", "product": product,
                                 "uploaded": 0, "finished": False, "reads": 0,
                                 "published": False}
            return 200, {"video_id": vid,
                         "upload_url": f"https://rupload.facebook.com/video-upload/v25.0/{vid}"}
        if phase != "finish":
            return self.err(100, "(#100) upload_phase must be one of {start, transfer, finish}")
        obj = self.objects.get(args.get("video_id", ""))
        if obj is None or obj.get("product") != product:
            return self.err(100, "(#100) Invalid video_id", subcode=33)
        if not obj["uploaded"]:
            return self.err(6000, "There was a problem uploading your video file. Please try "
                                  "again.", subcode=1363130)
        if obj["finished"]:
            return self.err(100, "(#100) This video has already been published", subcode=33)
        obj["finished"] = True
        if product == "REELS":
            if args.get("video_state") != "PUBLISHED":
                return self.err(100, "(#100) video_state must be PUBLISHED, DRAFT or SCHEDULED")
            obj["description"] = args.get("description", "")
            obj["created_time"], obj["published_ts"] = self._stamp()
            return 200, {"success": True}
        return 200, {"success": True, "post_id": self._new_story(obj["id"], "video")}

    def _post_video_reels(self, node: str, rec: Any) -> tuple[int, Any]:
        return self._three_phase(node, rec, "REELS")

    def _post_video_stories(self, node: str, rec: Any) -> tuple[int, Any]:
        return self._three_phase(node, rec, "STORY")

    def rupload(self, video_id: str, rec: Any) -> tuple[int, Any]:
        obj = self.objects.get(video_id)
        if obj is None or obj.get("kind") != "video":
            return 400, {"debug_info": {"retriable": False, "type": "NotFoundError",
                                        "message": "Video not found"}}
        try:  # the header is named ``file_size`` (with an underscore), as Meta documents
            if "file_size" not in rec.raw_header_names:
                raise ValueError("file_size")
            offset, size = int(rec.headers.get("Offset", "")), int(rec.headers.get(
                "File-Size", ""))
        except ValueError:
            return 400, {"debug_info": {"retriable": False, "type": "ParameterValidationError",
                                        "message": "HeaderValuePredicate: Header Offset not "
                                                   "convertable to unsigned long"}}
        if offset != 0 or size != rec.body_size or size <= 0:
            return 400, {"debug_info": {"retriable": False, "type": "ParameterValidationError",
                                        "message": f"file_size {size} does not match the "
                                                   f"{rec.body_size} bytes received"}}
        obj["uploaded"] = size
        return 200, {"success": True}

    def reel_status(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The status object as Meta documents it; a finished reel moves on with each read."""
        if obj["finished"] and not obj["published"]:
            obj["reads"] += 1
            if obj["reads"] > self.reel_lag_reads + self.reel_processing_reads:
                obj["published"] = True
        if obj["published"]:
            return {"video_status": "ready",
                    "uploading_phase": {"status": "complete",
                                        "bytes_transfered": obj["uploaded"]},
                    "processing_phase": {"status": "complete"},
                    "publishing_phase": {"status": "complete", "publish_status": "published",
                                         "publish_time": self._stamp()[1]}}
        if obj["finished"] and obj["reads"] > self.reel_lag_reads:
            return {"video_status": "processing",
                    "uploading_phase": {"status": "complete",
                                        "bytes_transfered": obj["uploaded"]},
                    "processing_phase": {"status": "in_progress"},
                    "publishing_phase": {"status": "not_started"}}
        return {"video_status": "upload_complete" if obj["uploaded"] else "uploading",
                "uploading_phase": {"status": "complete" if obj["uploaded"] else "in_progress",
                                    "bytes_transfered": obj["uploaded"]},
                "processing_phase": {"status": "not_started"},
                "publishing_phase": {"status": "not_started"}}

    def _get_video_reels(self, node: str, rec: Any) -> tuple[int, Any]:
        since = int(rec.query.get("since") or 0)
        items = [{"id": o["id"], "description": o.get("description", ""),
                  "created_time": o.get("created_time")}
                 for o in reversed(self.published_reels())
                 if o.get("published_ts", 0) >= since]
        return 200, {"data": items[: int(rec.query.get("limit", 25))]}

    def _get_video_insights(self, node: str, rec: Any) -> tuple[int, Any]:
        obj = self.objects.get(node)
        if obj is None or obj.get("kind") != "video":
            return self.err(100, f"Object with ID '{node}' does not exist", subcode=33)
        allowed = REEL_METRICS if obj.get("product") == "REELS" else VIDEO_METRICS
        names = [n for n in rec.query.get("metric", "").split(",") if n] or sorted(allowed)
        if any(n not in allowed for n in names):
            return self.err(100, "(#100) The value must be a valid insights metric")
        values = obj.get("insights", {})
        return 200, {"data": [{"name": n, "period": "lifetime", "values": [{"value": values[n]}],
                               "title": n, "id": f"{node}/video_insights/{n}/lifetime"}
                              for n in names if n in values]}

    # -- stories ----------------------------------------------------------------------------
    def _new_story(self, media_id: str, media_type: str) -> str:
        post_id = self.new_id()
        self.objects[post_id] = {
            "id": post_id, "kind": "story", "post_id": post_id, "media_id": media_id,
            "media_type": media_type, "status": "PUBLISHED",
            "creation_time": str(self._stamp()[1]),
            "url": f"https://www.facebook.com/stories/{self.page_id}/{post_id}/"}
        return post_id

    def _post_photo_stories(self, node: str, rec: Any) -> tuple[int, Any]:
        if node != self.page_id:
            return self.err(100, "Invalid page id", subcode=33)
        photo = self.objects.get(rec.form.get("photo_id", ""))
        if photo is None or photo.get("kind") != "photo":
            return self.err(100, "(#100) Invalid photo_id", subcode=33)
        if photo.get("used"):
            return self.err(100, "(#100) The photo has already been used in a post")
        photo["used"] = True
        return 200, {"success": True, "post_id": self._new_story(photo["id"], "photo")}

    def page_stories(self, rec: Any) -> tuple[int, Any]:
        """``GET /{page}/stories`` (the IG account's ``/stories`` is GraphFake's own)."""
        keys = ("post_id", "status", "creation_time", "media_type", "media_id", "url")
        return 200, {"data": [{k: s[k] for k in keys} for s in reversed(self.stories())]}
