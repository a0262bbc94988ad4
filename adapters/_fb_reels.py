"""Facebook Page Reels and Page Stories: the three-phase upload, the status polls, and how an
unknown outcome is looked up. Nothing here sleeps.

Reel (platform-apis.md §1.2): ``POST /{page}/video_reels upload_phase=start`` → ``video_id``;
the bytes to ``rupload.facebook.com/video-upload/<version>/{video_id}`` (``Authorization: OAuth``,
``offset``, ``file_size``); ``POST /{page}/video_reels upload_phase=finish video_id=…
video_state=PUBLISHED description=…`` — the ONE irreversible call; then ``GET
/{video_id}?fields=status`` until ``publishing_phase`` is complete (``Pending`` in between).
Meta takes at most 30 API reels per Page in a moving 24 hours; Warta keeps its own count in the
channel state and waits for a slot rather than sending the 31st.

Video story: the same start / transfer / finish on ``/{page}/video_stories`` (finish answers
``{"success": true, "post_id"}``). Photo story: the photo uploaded unpublished (``/{page}/photos
published=false``, reversible), then ``POST /{page}/photo_stories photo_id=…`` (irreversible).

Crash safety: before the irreversible call the video or photo id is saved in the channel
state (``ctx.save_state``), so ``lookup`` asks about THIS upload: a reel's own status (publishing
complete → found; processing → look again later, a throttle-like wait; not started, or no
status → look again within ``grace`` of the saved upload (Meta may lag behind a finish whose
answer was lost), absent only after it), a story's ``media_id`` in the Page's stories (not there:
look again within the grace, absent after it, unknown once 24 h have passed; no saved record:
unknown, never a guess that could claim a story posted by hand). The transfer to rupload is
reversible (nothing is public before finish): a transfer that fails midway is a
``RetryLater`` and the next attempt starts a new session.
A story lives 24 hours and Meta documents no Page story insights (platform-apis-2.md §4.3):
it follows the short story schedule (+1 h, +23 h), whose numbers stay None where Meta gives
none. Where Meta's status fields were not confirmed (platform-apis-2.md §4.3 UNCONFIRMED), the rule
errs towards "look again", never towards a second post.

The upload host is ``WARTA_FACEBOOK_UPLOAD_URL`` (default Meta's rupload), never the
``upload_url`` Meta returns: the Page token is sent only to a host the operator configured.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from adapters._graph import GraphClient, classify, error_body, parse_time
from adapters._stream import FileSlice
from adapters.base import MediaFile, OutgoingPost, Pending, Published
from adapters.errors import (
    AdapterError,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    safe_detail,
)

DEFAULT_UPLOAD_URL = "https://rupload.facebook.com/video-upload/v25.0"
REELS_PER_DAY = 30
KEEP_RECORDS = 50
DAY = timedelta(hours=24)
#: How long after a saved upload an "unfinished" reel status, an empty status or a story not
#: (yet) in /stories still means "look again" rather than "absent": right after a finish whose
#: answer was lost Meta's status can read ``not_started`` (platform-apis-2.md §4.3 UNCONFIRMED).
#: Knob ``WARTA_FACEBOOK_LOOKUP_GRACE_SECONDS``.
LOOKUP_GRACE = timedelta(minutes=45)


class ReelsFlow:
    """Reels and Stories of one Page; ``state`` is the channel's persisted dict."""

    def __init__(self, platform: str, graph: GraphClient, page_id: str, http: requests.Session,
                 *, upload_url: str, state: MutableMapping[str, Any],
                 save_state: Callable[[], None], now: Callable[[], datetime],
                 permalink_base: str, timeout: float, poll_seconds: float = 15.0,
                 max_polls: int = 40, reels_per_day: int = REELS_PER_DAY,
                 grace: timedelta = LOOKUP_GRACE) -> None:
        self.platform, self.graph, self.page_id, self.http = platform, graph, page_id, http
        self.upload_url = upload_url.rstrip("/")
        self.state, self.save_state, self.now = state, save_state, now
        self.permalink_base, self.timeout = permalink_base, timeout
        self.poll_seconds, self.max_polls, self.reels_per_day = (poll_seconds, max_polls,
                                                                 reels_per_day)
        self.grace = grace

    # -- reels ------------------------------------------------------------------------------
    def publish_reel(self, post: OutgoingPost, description: str) -> Pending:
        self._check_reel_quota()
        m = post.media[0]
        video_id = self._start("video_reels")
        self._transfer(video_id, m)
        self._remember(post.key, {"kind": "reel", "video_id": video_id})
        self._count_reel()
        result = self.graph.call("POST", f"{self.page_id}/video_reels", data={
            "upload_phase": "finish", "video_id": video_id, "video_state": "PUBLISHED",
            "description": description}, after_create=True)
        if not (isinstance(result, dict) and result.get("success") is True):
            raise OutcomeUnknown(self.platform,
                                 "Facebook menjawab tanpa konfirmasi Reel; belum pasti terbit.",
                                 "Facebook answered without confirming the reel; it may or may "
                                 "not be published.", code="no_success", detail=str(result))
        return self._pending({"stage": "reel", "video_id": video_id, "polls": 0})

    def poll(self, pending: Pending) -> Published | Pending:
        """One status read of the reel: published, still processing, or failed."""
        video_id = str(pending.state["video_id"])
        outcome = self._reel_outcome(self._status(video_id))
        if outcome == "published":
            return self._reel_published(video_id)
        if outcome == "failed":
            raise Rejected(self.platform,
                           "Facebook gagal memproses video Reel ini. Periksa formatnya (MP4 "
                           "H.264, 9:16, 3–90 detik) lalu coba lagi.",
                           "Facebook failed to process this reel's video. Check its format "
                           "(MP4 H.264, 9:16, 3–90 s) and try again.", code="reel_failed")
        polls = int(pending.state.get("polls", 0)) + 1
        if polls >= self.max_polls:
            raise OutcomeUnknown(self.platform,
                                 "Facebook masih memproses Reel terlalu lama; Warta memeriksa "
                                 "Halaman sebelum memutuskan.",
                                 "Facebook is taking too long to process the reel; Warta checks "
                                 "the Page before deciding.", code="reel_processing_timeout")
        return self._pending({**pending.state, "polls": polls})

    def _pending(self, state: dict[str, Any]) -> Pending:
        return Pending(state, poll_after=self.poll_seconds,
                       message_id="Facebook sudah menerima Reel dan sedang memprosesnya; "
                       "tautannya muncul setelah selesai (biasanya beberapa menit).",
                       message_en="Facebook has the reel and is processing it; its link "
                       "appears once that is done (usually a few minutes).")

    def _reel_published(self, video_id: str) -> Published:
        return Published(video_id, f"{self.permalink_base}/reel/{video_id}", self.now())

    def _status(self, video_id: str) -> dict[str, Any]:
        result = self.graph.call("GET", video_id, params={"fields": "status"})
        status = result.get("status") if isinstance(result, dict) else None
        return status if isinstance(status, dict) else {}

    @staticmethod
    def _reel_outcome(status: dict[str, Any]) -> str:
        """``published``, ``failed``, ``processing`` (wait) or ``unfinished`` (the finish call
        never arrived: processing is over, or never began, and publishing did not start)."""
        video = str(status.get("video_status") or "")
        processing = str((status.get("processing_phase") or {}).get("status") or "")
        publishing = status.get("publishing_phase") or {}
        if publishing.get("status") == "complete" or publishing.get("publish_status") == (
                "published"):
            return "published"
        if video in ("error", "upload_failed", "expired") or processing == "error":
            return "failed"
        if processing == "in_progress" or video == "processing" or publishing.get(
                "status") == "in_progress":
            return "processing"
        return "unfinished"

    def _check_reel_quota(self) -> None:
        now = self.now()
        log = [t for t in self._reel_log() if t > now - DAY]
        if len(log) >= self.reels_per_day:
            wait = max(60.0, (min(log) + DAY - now).total_seconds())
            raise RetryLater(
                self.platform,
                f"Batas {self.reels_per_day} Reel per 24 jam dari API untuk Halaman ini sudah "
                "tercapai; Reel ini diterbitkan otomatis saat kuota kembali tersedia.",
                f"This Page's limit of {self.reels_per_day} API reels per 24 hours is reached; "
                "this reel is published automatically when the quota frees up.",
                retry_after=wait, code="reels_quota")

    def _reel_log(self) -> list[datetime]:
        out = []
        for value in self.state.get("reels_log") or []:
            try:
                when = datetime.fromisoformat(str(value))
            except ValueError:
                continue
            out.append(when if when.tzinfo else when.replace(tzinfo=UTC))
        return out

    def _count_reel(self) -> None:
        now = self.now()
        log = [t for t in self._reel_log() if t > now - DAY] + [now]
        self.state["reels_log"] = [t.isoformat() for t in log[-self.reels_per_day * 2:]]
        self.save_state()

    # -- stories ----------------------------------------------------------------------------
    def publish_story(self, post: OutgoingPost, photo_upload: Callable[[MediaFile], str]
                      ) -> Published:
        """One photo or video as a Page story (synchronous: finish answers the post id)."""
        m = post.media[0]
        if m.kind == "image":
            try:  # the unpublished photo is reversible: no id from it is a retry, not unknown
                photo_id = photo_upload(m)
            except OutcomeUnknown as exc:
                raise RetryLater(self.platform, "Facebook tidak memberi ID foto Story; dicoba "
                                 "lagi.", "Facebook gave no id for the story's photo; retrying.",
                                 code="no_upload_id", detail=exc.detail) from None
            self._remember(post.key, {"kind": "story", "media_id": photo_id})
            result = self.graph.call("POST", f"{self.page_id}/photo_stories",
                                     data={"photo_id": photo_id}, after_create=True)
        else:
            video_id = self._start("video_stories")
            self._transfer(video_id, m)
            self._remember(post.key, {"kind": "story", "media_id": video_id})
            result = self.graph.call("POST", f"{self.page_id}/video_stories", data={
                "upload_phase": "finish", "video_id": video_id}, after_create=True)
        post_id = result.get("post_id") if isinstance(result, dict) else None
        if not post_id:
            raise OutcomeUnknown(self.platform,
                                 "Facebook menjawab tanpa ID Story; belum pasti terbit.",
                                 "Facebook answered without a story id; it may or may not be "
                                 "published.", code="no_id", detail=str(result))
        link = None
        try:  # the link is only in the Page's story list; the story is out either way
            link = next((s.get("url") for s in self._stories()
                         if str(s.get("post_id")) == str(post_id)), None)
        except AdapterError:
            link = None
        return Published(str(post_id), link, self.now(), metrics_schedule="story")

    def _stories(self) -> list[dict[str, Any]]:
        result = self.graph.call("GET", f"{self.page_id}/stories")
        data = result.get("data") if isinstance(result, dict) else None
        return [s for s in data or [] if isinstance(s, dict)]

    # -- reconciliation ---------------------------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime, kind: str,
               description: str) -> Published | None:
        record = (self.state.get("fb_uploads") or {}).get(post.key) or {}
        if kind == "reel":
            return self._lookup_reel(post, since, record, description)
        return self._lookup_story(post, since, record)

    def _lookup_reel(self, post: OutgoingPost, since: datetime, record: dict[str, Any],
                     description: str) -> Published | None:
        video_id = str(record.get("video_id") or "")
        if video_id:
            outcome = self._reel_outcome(self._status(video_id))
            if outcome == "published":
                return None if video_id in post.taken_ids else self._reel_published(video_id)
            if outcome == "processing":
                raise RetryLater(self.platform,
                                 "Facebook masih memproses Reel; diperiksa lagi otomatis.",
                                 "Facebook is still processing the reel; checking again "
                                 "automatically.", retry_after=self.poll_seconds,
                                 code="processing")
            self._not_yet(record, "Reel")
            return None
        # No saved upload (state lost): the Page's reels since the attempt, by description.
        result = self.graph.call("GET", f"{self.page_id}/video_reels", params={
            "fields": "id,description,created_time", "since": int(since.timestamp()),
            "limit": 50})
        for item in result.get("data", []) if isinstance(result, dict) else []:
            vid, when = str(item.get("id")), parse_time(item.get("created_time"))
            if when is not None and when < since:
                continue  # ``since`` on this edge is UNCONFIRMED: checked here as well
            if vid not in post.taken_ids and str(item.get("description") or "").strip() == (
                    description.strip()):
                return self._reel_published(vid)
        return None

    def _lookup_story(self, post: OutgoingPost, since: datetime,
                      record: dict[str, Any]) -> Published | None:
        """This upload's ``media_id`` among the Page's stories. Without a saved upload there is
        nothing that tells our story from one staff posted by hand: a person checks."""
        want_media = str(record.get("media_id") or "")
        if not want_media:
            raise OutcomeUnknown(self.platform,
                                 "Warta tidak menyimpan ID unggahan Story ini, jadi tidak dapat "
                                 "membedakannya dari Story lain di Halaman.",
                                 "Warta kept no upload id for this story, so it cannot tell it "
                                 "from other stories on the Page.", code="story_no_record")
        for s in self._stories():
            pid = str(s.get("post_id") or "")
            if pid and pid not in post.taken_ids and str(s.get("media_id")) == want_media:
                return Published(pid, s.get("url"), _unix(s.get("creation_time")),
                                 metrics_schedule="story")
        at = self._record_at(record)
        if at is None or self.now() - at >= DAY:  # a story lives 24 h: gone says nothing
            raise OutcomeUnknown(self.platform,
                                 "Story ini mungkin sudah kedaluwarsa (24 jam); Warta tidak dapat "
                                 "memastikan apakah pernah terbit.",
                                 "This story may have expired (24 hours); Warta cannot tell "
                                 "whether it was ever published.", code="story_expired")
        self._not_yet(record, "Story")
        return None

    def _record_at(self, record: dict[str, Any]) -> datetime | None:
        try:
            at = datetime.fromisoformat(str(record.get("at")))
        except ValueError:
            return None
        return at if at.tzinfo else at.replace(tzinfo=UTC)

    def _not_yet(self, record: dict[str, Any], what: str) -> None:
        """Within the grace after the saved upload, "not there" may be Meta lagging behind a
        finish whose answer was lost: look again (never a second post). No readable ``at``:
        a person checks."""
        at = self._record_at(record)
        if at is None:
            raise OutcomeUnknown(self.platform,
                                 f"Waktu unggahan {what} ini tidak tersimpan; periksa Halaman.",
                                 f"This {what.lower()}'s upload time was not kept; check the "
                                 "Page.", code="no_record_time")
        left = self.grace.total_seconds() - (self.now() - at).total_seconds()
        if left > 0:
            raise RetryLater(self.platform,
                             f"Facebook belum menunjukkan {what} ini; diperiksa lagi otomatis "
                             "sebelum memutuskan.",
                             f"Facebook does not show this {what.lower()} yet; checking again "
                             "automatically before deciding.",
                             retry_after=max(1.0, min(self.poll_seconds, left)),
                             code="not_yet_visible")

    # -- the shared upload ------------------------------------------------------------------
    def _start(self, edge: str) -> str:
        result = self.graph.call("POST", f"{self.page_id}/{edge}",
                                 data={"upload_phase": "start"})
        video_id = result.get("video_id") if isinstance(result, dict) else None
        if not video_id:
            raise RetryLater(self.platform, "Facebook tidak memberi ID unggahan; dicoba lagi.",
                             "Facebook gave no upload id; retrying.", code="no_upload_id",
                             detail=str(result))
        return str(video_id)

    def _transfer(self, video_id: str, m: MediaFile) -> None:
        """The bytes to rupload, streamed from disk. Reversible: every failure is a retry
        (or a refusal of the file), never an unknown outcome."""
        token = self.graph.token
        try:
            resp = self.http.post(f"{self.upload_url}/{video_id}", data=FileSlice.of(m),
                                  headers={"Authorization": f"OAuth {token}", "offset": "0",
                                           "file_size": str(m.size),
                                           "Content-Type": "application/octet-stream"},
                                  timeout=self.timeout)
        except (requests.Timeout, requests.ConnectionError,
                requests.exceptions.ChunkedEncodingError) as exc:
            raise RetryLater(self.platform, "Unggahan video ke Facebook terputus; dicoba lagi "
                             "otomatis dari awal.", "The video upload to Facebook broke off; "
                             "retrying automatically from the start.", code="upload_broken",
                             detail=safe_detail(f"{type(exc).__name__}: {exc}", [token])
                             ) from None
        if resp.status_code < 400 and not error_body(resp):
            return
        if error_body(resp):
            raise classify(self.platform, resp, after_create=False, secrets=[token])
        try:
            info = (resp.json() or {}).get("debug_info") or {}
        except (ValueError, AttributeError):
            info = {}
        detail = safe_detail(resp.text, [token])
        if resp.status_code >= 500 or resp.status_code == 429 or info.get("retriable"):
            raise RetryLater(self.platform, "Server unggahan Facebook sedang bermasalah; dicoba "
                             "lagi otomatis.", "Facebook's upload server is failing; retrying "
                             "automatically.", code="upload_failed", detail=detail,
                             http_status=resp.status_code)
        msg = str(info.get("message") or "tanpa keterangan")
        raise Rejected(self.platform, f"Facebook menolak berkas video: {msg}.",
                       f"Facebook refused the video file: {msg}.", code="invalid_media",
                       detail=detail, http_status=resp.status_code)

    def _remember(self, key: str, record: dict[str, Any]) -> None:
        """Keep what lookup needs, saved NOW (before the irreversible call)."""
        records = dict(self.state.get("fb_uploads") or {})
        records[key] = {**record, "at": self.now().isoformat()}
        newest = sorted(records.items(), key=lambda kv: str(kv[1].get("at")))[-KEEP_RECORDS:]
        self.state["fb_uploads"] = dict(newest)
        self.save_state()


def _unix(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None
