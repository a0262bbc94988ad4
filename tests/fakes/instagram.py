"""A fake of Instagram's private mobile API, the part instagrapi calls for Warta (platform
``instagram``): a real local HTTP server, so the transport faults of ``tests/fakes/faults.py``
(drop, hang, 5xx before/after, hold for a SIGKILL) reach instagrapi's own HTTP code, which
``responses`` mocks cannot do.

Warta points the adapter here with ``WARTA_INSTAGRAM_API_URL`` (the adapter then sends every
private-API request to this server with instagrapi's ``requests`` transport). Routes, as the
instagrapi version Warta pins calls them and with the bodies it parses:

- ``GET /api/v1/users/<uid>/info/`` (login by session id), ``GET /api/v1/accounts/
  current_user/?edit=true`` (``account``): the user / account objects;
- ``GET /api/v1/feed/user/<uid>/?max_id=&count=``: the account's media, newest first, paged by
  ``next_max_id`` (absent on the last page) — instagrapi's snapshot before a photo upload, and
  Warta's ``lookup`` and metrics;
- ``POST /rupload_igphoto/<name>``, ``POST /upload_settings/<session>``, ``GET``/``POST
  /rupload_igvideo/<name>``: uploads, keyed by the ``upload_id`` of the
  ``X-Instagram-Rupload-Params`` header (the body length must match ``X-Entity-Length``);
- ``POST /api/v1/media/configure/`` (photo; ``?video=1`` a feed video),
  ``/media/configure_sidecar/`` (album), ``/media/configure_to_clips/`` (reel): the calls that
  make a post public. Their form body is ``signed_body=SIGNATURE.<json>`` and must name
  uploads the fake received. Whether Instagram refuses a second configure of the same upload is
  not documented; the fake assumes the worst for "never publish twice": it posts again.

Requests without the session's ``Authorization: Bearer IGT:2:<base64 json>`` get Instagram's
403 ``login_required``; unknown paths a 404 (recorded in ``unknown`` so a test sees a call
sequence the fake does not know). ``medias`` holds the posts; ``clock`` stamps ``taken_at``.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.fakes._wsgi_fake import FakeServer, Recorded, json_response

UID = "5500000001"
SESSIONID = UID + "%3AfakeSessionSecretValue0123456789abcdef"
USERNAME = "diskominfo_contoh"
#: The calls that publish (the fault table aims its faults at them).
CONFIGURE = r"/api/v1/media/configure(_sidecar|_to_clips)?/"


def fail(status: int, message: str, **extra: Any) -> Response:
    return json_response({"message": message, "status": "fail", **extra}, status)


class FakeInstagram(FakeServer):
    def __init__(self) -> None:
        super().__init__()
        self.uid, self.username, self.sessionid = UID, USERNAME, SESSIONID
        #: The account's posts, newest first (what ``feed/user`` lists).
        self.medias: list[dict[str, Any]] = []
        #: upload_id -> what was uploaded (kind, bytes, how often configured).
        self.uploads: dict[str, dict[str, Any]] = {}
        self.unknown: list[str] = []
        #: Statuses the next configure calls answer with after making the post (a proxy's 408
        #: or 504 in front of a backend that did the work): ``fake.answer_after.append(408)``.
        self.answer_after: list[int] = []
        #: A callable returning an aware datetime, for ``taken_at`` (None: the wall clock).
        self.clock: Any = None
        self._pks = itertools.count(3_400_000_000_000_000_001)
        #: media pk -> its comments, oldest first; each may hold ``children`` (replies).
        self.comments: dict[str, list[dict[str, Any]]] = {}
        #: Comments per page of ``media/{id}/comments/``; replies shown inline per comment.
        self.comments_page = 20
        self.preview_children = 2
        self._comment_pks = itertools.count(18_000_000_000_000_001)

    def add_comment(self, media_pk: str, text: str, *, parent: str | None = None,
                    user: tuple[str, str, str] = ("7001", "warga_kota", "Warga Kota"),
                    at: int = 1_781_060_400) -> str:
        """A citizen's comment (or a reply under ``parent``); ``user`` is (pk, username,
        full name), a full name "" as Instagram gives for many people."""
        pk = str(next(self._comment_pks))
        item = {"pk": pk, "text": text, "created_at_utc": at, "content_type": "comment",
                "status": "Active", "type": 0,
                "user": {"pk": user[0], "username": user[1], "full_name": user[2]},
                "children": []}
        with self.lock:
            if parent is None:
                self.comments.setdefault(str(media_pk), []).append(item)
            else:
                for c in self.comments.get(str(media_pk), []):
                    if c["pk"] == parent:
                        c["children"].append({**item, "replied_to_comment_id": parent})
        return pk

    def server_error(self) -> Response:
        # What the private API answers when its backend fails (instagrapi: a plain ClientError).
        return fail(500, "Oops, an error occurred.")

    # -- routing ------------------------------------------------------------------------
    def handle(self, request: Request, rec: Recorded) -> Response:
        path = request.path
        if not self._authorised(rec):
            return fail(403, "login_required", error_title="You've Been Logged Out",
                        logout_reason=2)
        if m := re.fullmatch(r"/api/v1/users/(\d+)/info/", path):
            if m[1] != self.uid:
                return fail(404, "User not found")
            return json_response({"user": self._user(full=True), "status": "ok"})
        if path == "/api/v1/accounts/current_user/":
            return json_response({"user": self._user(full=False), "status": "ok"})
        if m := re.fullmatch(r"/api/v1/feed/user/(\d+)/", path):
            return self._feed(m[1], rec.query)
        if m := re.fullmatch(r"/api/v1/media/(\d+)_(\d+)/comments/", path):
            return self._comments(m[1], m[2], rec.query)
        if m := re.fullmatch(r"/api/v1/media/(\d+)_(\d+)/comments/(\d+)/inline_child_comments/",
                             path):
            return self._children(m[1], m[3])
        if path.startswith("/rupload_igphoto/") and request.method == "POST":
            return self._upload(rec, "photo")
        if path.startswith("/rupload_igvideo/"):
            if request.method == "GET":  # the resumable upload's "where was I" probe
                return json_response({"offset": 0})
            return self._upload(rec, "video")
        if path.startswith("/upload_settings/") and request.method == "POST":
            return json_response({"status": "ok"})
        if re.fullmatch(CONFIGURE, path) and request.method == "POST":
            return self._configure(path, rec)
        self.unknown.append(f"{request.method} {path}")
        return fail(404, "Page not found")

    def _authorised(self, rec: Recorded) -> bool:
        auth = rec.headers.get("authorization", "")
        if not auth.startswith("Bearer IGT:2:"):
            return False
        try:
            data = json.loads(base64.b64decode(auth[len("Bearer IGT:2:"):]))
        except (binascii.Error, ValueError):
            return False
        return isinstance(data, dict) and data.get("sessionid") == self.sessionid

    # -- reads --------------------------------------------------------------------------
    def _user(self, *, full: bool) -> dict[str, Any]:
        user = {"pk": self.uid, "pk_id": self.uid, "username": self.username,
                "full_name": "Diskominfo Kota Contoh", "is_private": False,
                "profile_pic_url": "https://scontent.cdninstagram.com/p/a.jpg",
                "is_verified": False, "is_business": False}
        if full:
            user.update(media_count=len(self.medias), follower_count=1200,
                        following_count=12, biography="", external_url="")
        return user

    def _feed(self, uid: str, query: dict[str, str]) -> Response:
        if uid != self.uid:
            return fail(404, "User not found")
        count = int(query.get("count") or 12)
        with self.lock:
            items = list(self.medias)
        start = 0
        if query.get("max_id"):
            ids = [m["id"] for m in items]
            start = ids.index(query["max_id"]) + 1 if query["max_id"] in ids else len(items)
        page = items[start:start + count]
        body: dict[str, Any] = {"items": page, "num_results": len(page),
                                "more_available": start + count < len(items),
                                "auto_load_more_enabled": True, "status": "ok"}
        if body["more_available"]:
            body["next_max_id"] = page[-1]["id"]
        return json_response(body)

    # -- uploads and the irreversible configure calls -----------------------------------
    def _comments(self, media_pk: str, owner: str, query: dict[str, str]) -> Response:
        """Oldest first here (the order is not documented), ``comments_page`` a page, the
        next page through ``min_id`` = ``next_min_id`` while ``has_more_headload_comments``;
        each comment with ``child_comment_count`` and its first replies inline."""
        if owner != self.uid or not any(str(m["pk"]) == media_pk for m in self.medias):
            return fail(404, "Media not found or unavailable")
        with self.lock:
            items = list(self.comments.get(media_pk, []))
        start = int(query.get("min_id") or 0)
        page = items[start:start + self.comments_page]
        out = []
        for c in page:
            shown = {k: v for k, v in c.items() if k != "children"}
            shown["child_comment_count"] = len(c["children"])
            shown["preview_child_comments"] = c["children"][:self.preview_children]
            out.append(shown)
        more = start + self.comments_page < len(items)
        body: dict[str, Any] = {"comments": out, "comment_count": len(items),
                                "has_more_headload_comments": more, "status": "ok"}
        if more:
            body["next_min_id"] = str(start + self.comments_page)
        return json_response(body)

    def _children(self, media_pk: str, comment_pk: str) -> Response:
        with self.lock:
            parent = next((c for c in self.comments.get(media_pk, []) if c["pk"] == comment_pk),
                          None)
        if parent is None:
            return fail(404, "Comment not found")
        return json_response({"child_comments": list(parent["children"]),
                              "has_more_head_child_comments": False, "status": "ok"})

    def _upload(self, rec: Recorded, kind: str) -> Response:
        try:
            params = json.loads(rec.headers.get("x-instagram-rupload-params", ""))
            upload_id = str(params["upload_id"])
        except (ValueError, KeyError):
            return fail(400, "Invalid upload params")
        length = rec.headers.get("x-entity-length")
        if length is None or int(length) != rec.body_len or not rec.body_len:
            return fail(400, "Upload length mismatch")
        with self.lock:
            # a video's cover is uploaded as a photo under the video's upload_id
            entry = self.uploads.setdefault(upload_id, {"kind": kind, "configured": 0})
            entry[f"{kind}_bytes"] = rec.body_len
        if kind == "photo":
            return json_response({"upload_id": upload_id, "xsharing_nonces": {},
                                  "status": "ok"})
        return json_response({"media_id": int(upload_id), "status": "ok"})

    def _configure(self, path: str, rec: Recorded) -> Response:
        raw = rec.form.get("signed_body", "")
        if not raw.startswith("SIGNATURE."):
            return fail(400, "Invalid signed body")
        data = json.loads(raw[len("SIGNATURE."):])
        caption = str(data.get("caption") or "")
        with self.lock:
            if path.endswith("configure_sidecar/"):
                children = data.get("children_metadata") or []
                ids = [str(c.get("upload_id")) for c in children]
                if len(ids) < 2 or any(not self._ready(i, "photo") for i in ids):
                    return fail(400, "Uploaded image isn't in an allowed aspect ratio")
                media = self._media(8, caption, ids)
            else:
                upload_id = str(data.get("upload_id"))
                video = path.endswith("configure_to_clips/") or rec.query.get("video") == "1"
                if not self._ready(upload_id, "video" if video else "photo"):
                    return fail(400, "media_needs_reupload", error_title="Upload not found")
                product = "clips" if path.endswith("configure_to_clips/") else "feed"
                media = self._media(2 if video else 1, caption, [upload_id], product)
            self.medias.insert(0, media)
            late = self.answer_after.pop(0) if self.answer_after else None
        if late is not None:
            return fail(late, "Request Timeout" if late == 408 else "Oops, an error occurred.")
        return json_response({"media": media, "upload_id": data.get("upload_id"),
                              "status": "ok"})

    def _ready(self, upload_id: str, kind: str) -> bool:
        """Uploaded as ``kind`` (a video with its cover); counts its configure calls."""
        entry = self.uploads.get(upload_id)
        if entry is None or entry["kind"] != kind:
            return False
        if kind == "video" and not entry.get("photo_bytes"):
            return False  # instagrapi always sends a cover
        entry["configured"] += 1
        return True

    def _media(self, media_type: int, caption: str, upload_ids: list[str],
               product_type: str = "feed") -> dict[str, Any]:
        pk = str(next(self._pks))
        now = self.clock() if self.clock else datetime.now(UTC)
        media: dict[str, Any] = {
            "pk": pk, "id": f"{pk}_{self.uid}", "code": _shortcode(int(pk)),
            "taken_at": int(now.timestamp()), "media_type": media_type,
            "product_type": "carousel_container" if media_type == 8 else product_type,
            "caption": {"pk": str(next(self._pks)), "text": caption} if caption else None,
            "user": {"pk": self.uid, "username": self.username,
                     "full_name": "Diskominfo Kota Contoh", "is_private": False},
            "like_count": 0, "comment_count": 0,
        }
        if media_type == 8:
            media["carousel_media_count"] = len(upload_ids)
            media["carousel_media"] = [
                {"pk": str(next(self._pks)), "id": f"{pk}_{i}", "media_type": 1,
                 "image_versions2": _image()} for i, _ in enumerate(upload_ids)]
        else:
            media["image_versions2"] = _image()
        if media_type == 2:
            media.update(video_versions=[{"type": 101, "width": 720, "height": 1280,
                                          "url": f"https://scontent.cdninstagram.com/v/{pk}.mp4"}],
                         video_duration=12.0, play_count=0, view_count=0)
        return media


def _image() -> dict[str, Any]:
    return {"candidates": [{"width": 1080, "height": 1080,
                            "url": "https://scontent.cdninstagram.com/p/1080.jpg"}]}


def _shortcode(pk: int) -> str:
    """The post's code in the URL, as Instagram derives it from the media pk (base64-like)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    code = ""
    while pk:
        pk, rem = divmod(pk, 64)
        code = alphabet[rem] + code
    return code


def serve() -> Iterator[FakeInstagram]:
    """Generator for a pytest fixture: ``yield from serve()``."""
    fake = FakeInstagram()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def without_pacing(monkeypatch: Any) -> None:
    """Remove instagrapi's own pauses (a second before each private request, 3–10 s before a
    configure) for in-process tests: only ``time.sleep`` calls made from instagrapi's modules
    return at once; every other sleeper (the fakes' hang, say) still sleeps."""
    import sys
    import time

    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if sys._getframe(1).f_globals.get("__name__", "").startswith("instagrapi"):
            return
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
