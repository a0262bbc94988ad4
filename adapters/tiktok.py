"""TikTok adapter (Content Posting API, Direct Post): one video by chunked FILE_UPLOAD, or a
photo post that TikTok pulls from Warta's signed public links; status polled; metrics batched.

Before every post ``creator_info/query`` gives the creator's current rules: the privacy levels
this account may use (the operator must choose one — TikTok forbids a default, so a post
without ``privacy_level`` is refused, never guessed), whether comments, duets and stitches are
switched off, and the longest video. They are cached in the channel's state for ``validate``
(which does no I/O) and checked again against the fresh answer at publish time.

Irreversible calls: a video's LAST chunk (TikTok posts once the upload is complete) and a photo
post's ``content/init`` (TikTok pulls and posts). Before the upload the ``publish_id`` is saved
in the channel's state (``ctx.save_state``), so ``lookup`` can ask ``status/fetch`` what became
of it even after a worker died mid-upload; without one it searches the creator's recent
videos. After ``PUBLISH_COMPLETE`` a public post's id is withheld until moderation ends (a
minute to hours): the publication stays ``publishing`` with a message, and gets its link then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from adapters._stream import FileSlice
from adapters._tiktok import (
    PLATFORM,
    MiB,
    chunk_plan,
    chunk_ranges,
    classify,
    envelope_error,
    failed_error,
    network_error,
    privacy_options,
    private_only,
    rule_problems,
)
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    Credentials,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import (
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
)
from adapters.oauth import tiktok as tiktok_oauth

#: Boolean switches of ``post_info`` the composer may set (TikTok's own names).
SWITCHES = ("disable_comment", "disable_duet", "disable_stitch", "brand_content_toggle",
            "brand_organic_toggle", "is_aigc")
#: creator_info flag that forces each switch on.
FORCED = {"disable_comment": "comment_disabled", "disable_duet": "duet_disabled",
          "disable_stitch": "stitch_disabled"}
PENDING_STATES = ("PROCESSING_UPLOAD", "PROCESSING_DOWNLOAD")
MAX_CAPTION_UTF16 = 2200
PHOTO_TITLE = 90
PHOTO_DESCRIPTION = 4000
#: How many publish records the channel state keeps (one per recent publication).
KEEP_PUBLISHES = 50


def utf16_len(text: str) -> int:
    """TikTok counts a caption in UTF-16 code units (an emoji outside the BMP is two)."""
    return len(text.encode("utf-16-le")) // 2


class TikTokAdapter(BaseAdapter):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "TikTok"
    default_base_url: ClassVar[str | None] = "https://open.tiktokapis.com"
    #: Moderation usually ends within a minute; the second look waits a little longer.
    recheck_seconds: ClassVar[float] = 180.0
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"tiktok.com"}),
        max_text=PHOTO_DESCRIPTION, max_caption=PHOTO_DESCRIPTION, max_title=PHOTO_TITLE,
        media_kinds=frozenset({"image", "video"}), max_media=35, requires_media=True,
        max_image_bytes=20_000_000, max_video_bytes=4 * 1024 ** 3, max_video_seconds=600,
        metrics=frozenset({"views", "likes", "comments", "shares"}), metrics_batch_size=20,
        supports_link=False, renews_tokens=True,
        option_names=frozenset({"privacy_level", *SWITCHES}),
        image_mimes=frozenset({"image/jpeg", "image/webp"}), needs_public_urls=True,
        media_by_range=True,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("client_key", "Client key aplikasi TikTok", False),
        ("client_secret", "Client secret aplikasi TikTok", True),
        ("access_token", "Access token (act.…)", True),
        ("refresh_token", "Refresh token (rft.…)", True),
    )

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        self.creds: dict[str, Any] = dict(ctx.credentials)
        s = ctx.settings
        self.token_url = str(s.get("token_url") or f"{self.base_url}/v2/oauth/token/")
        self.chunk_size = int(s.get("chunk_size") or 10 * MiB)
        self.poll_seconds = float(s.get("poll_seconds") or 15)
        self.moderation_poll_seconds = float(s.get("moderation_poll_seconds") or 60)

    @classmethod
    def option_choices(cls, state: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        """Only the privacy levels creator_info last allowed this account (cached by
        ``creator_info``); before TikTok was first asked, every level is offered and
        ``validate`` checks the choice once the rules are known."""
        options = privacy_options(state.get("creator"))
        return {"privacy_level": options} if options else {}

    @classmethod
    def channel_notices(cls, state: Mapping[str, Any]) -> tuple[str, ...]:
        """``private_only`` while creator_info allows "Only me" alone (an unaudited app)."""
        return ("private_only",) if private_only(state.get("creator")) else ()

    # -- plumbing -----------------------------------------------------------------------
    def _secrets(self) -> list[str]:
        return [str(self.creds[k]) for k in ("client_secret", "access_token", "refresh_token")
                if self.creds.get(k)]

    def _token(self) -> str:
        expires_at = float(self.creds.get("expires_at") or 0)
        if self.creds.get("refresh_token") and (
                not self.creds.get("access_token")
                or (expires_at and expires_at <= self._now().timestamp() + 60)):
            if self.refresh() is None:
                raise AuthExpired(PLATFORM, "TikTok menolak refresh token kanal ini. Sambungkan "
                                  "ulang akun TikTok.", "TikTok refused this channel's refresh "
                                  "token. Reconnect the TikTok account.", code="invalid_grant")
        token = str(self.creds.get("access_token") or "")
        if not token:
            raise AuthExpired(PLATFORM, "Token akses TikTok belum diisi. Sambungkan akun.",
                              "The TikTok access token is missing. Connect the account.",
                              code="missing_credentials")
        return token

    def _call(self, path: str, *, body: Any = None, params: dict[str, str] | None = None,
              method: str = "POST", stage: str = "read") -> dict[str, Any]:
        """One API call; the ``data`` object, or the classified error."""
        headers = {"Authorization": f"Bearer {self._token()}",
                   "Content-Type": "application/json; charset=UTF-8"}
        try:
            resp = self.ctx.http.request(method, f"{self.base_url}{path}", params=params,
                                         json=body if method == "POST" else None,
                                         headers=headers, timeout=self.ctx.timeout)
            payload = resp.json() if resp.status_code < 400 else None
        except requests.RequestException as exc:
            raise network_error(exc, stage=stage, secrets=self._secrets()) from None
        except ValueError:
            payload = None
        if resp.status_code >= 400 or payload is None or envelope_error(payload):
            if resp.status_code < 400 and payload is None and stage == "create":
                raise OutcomeUnknown(PLATFORM, "Jawaban TikTok tidak terbaca setelah unggahan "
                                     "dikirim.", "TikTok's answer was unreadable after the "
                                     "post was sent.", code="bad_response",
                                     http_status=resp.status_code)
            raise classify(resp, stage=stage, now=self._now(), secrets=self._secrets())
        data = payload.get("data") if isinstance(payload, dict) else None
        return data if isinstance(data, dict) else {}

    # -- creator rules ------------------------------------------------------------------
    def creator_info(self) -> dict[str, Any]:
        """The creator's current rules (and cache them in the channel state for validate)."""
        data = self._call("/v2/post/publish/creator_info/query/", body={})
        info = {"username": data.get("creator_username"),
                "nickname": data.get("creator_nickname"),
                "privacy_level_options": [str(p) for p in data.get("privacy_level_options")
                                          or []],
                "comment_disabled": bool(data.get("comment_disabled")),
                "duet_disabled": bool(data.get("duet_disabled")),
                "stitch_disabled": bool(data.get("stitch_disabled")),
                "max_video_post_duration_sec": data.get("max_video_post_duration_sec"),
                "checked_at": self._now().isoformat()}
        self.ctx.state["creator"] = info
        return info

    # -- validation ---------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = super().validate(post)
        videos = [m for m in post.media if m.kind == "video"]
        if videos and len(post.media) > 1:
            problems.append(Problem("media", "one_video",
                                    "TikTok menerima satu video, atau foto saja (tanpa video).",
                                    "TikTok takes one video, or photos only (no video)."))
        if videos and utf16_len(post.body) > MAX_CAPTION_UTF16:
            problems.append(Problem(
                "body", "too_long",
                f"Keterangan video TikTok paling panjang {MAX_CAPTION_UTF16} karakter "
                f"(sekarang {utf16_len(post.body)}).",
                f"A TikTok video caption is at most {MAX_CAPTION_UTF16} characters "
                f"(this one: {utf16_len(post.body)})."))
        for name in SWITCHES:
            if name in post.options and not isinstance(post.options[name], bool):
                problems.append(Problem("options", "bad_switch",
                                        f"Opsi TikTok {name} harus ya/tidak.",
                                        f"The TikTok option {name} must be yes or no."))
        if post.options.get("brand_content_toggle") and \
                post.options.get("privacy_level") == "SELF_ONLY":
            problems.append(Problem("options", "branded_private",
                                    "Konten bermerek tidak boleh berprivasi 'Hanya saya'.",
                                    "Branded content cannot be 'Only me'."))
        return problems + rule_problems(post, self.ctx.state.get("creator"))

    # -- publishing ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        if not post.options.get("privacy_level"):  # never guessed, even if validation was
            raise Rejected(PLATFORM, "Privasi TikTok belum dipilih operator.",
                           "The operator has not chosen the TikTok privacy.",
                           code="privacy_required")
        info = self.creator_info()
        problems = rule_problems(post, info)
        if problems:
            raise Rejected(PLATFORM, problems[0].message_id, problems[0].message_en,
                           code=problems[0].code)
        post_info: dict[str, Any] = {"privacy_level": post.options["privacy_level"]}
        for name in SWITCHES:
            if post.options.get(name) or info.get(FORCED.get(name, "")):
                post_info[name] = True
        video = next((m for m in post.media if m.kind == "video"), None)
        if video is not None:
            return self._publish_video(post, video, {**post_info, "title": post.body}, info)
        return self._publish_photos(post, post_info, info)

    def _remember(self, post: OutgoingPost, record: dict[str, Any]) -> None:
        """Keep the publish id for lookup, saved NOW (before the irreversible call)."""
        publishes = dict(self.ctx.state.get("publishes") or {})
        publishes[post.key] = {**record, "at": self._now().isoformat()}
        newest = sorted(publishes.items(), key=lambda kv: str(kv[1].get("at")))[-KEEP_PUBLISHES:]
        self.ctx.state["publishes"] = dict(newest)
        self.ctx.save_state()

    def _pending(self, publish_id: str, kind: str, info: dict[str, Any], privacy: str,
                 polls: int = 0, **note: str) -> Pending:
        return Pending({"publish_id": publish_id, "kind": kind, "privacy": privacy,
                        "username": info.get("username"), "polls": polls},
                       poll_after=self.moderation_poll_seconds if note else self.poll_seconds,
                       **note)

    def _publish_video(self, post: OutgoingPost, video: MediaFile, post_info: dict[str, Any],
                       info: dict[str, Any]) -> Pending:
        chunk, count = chunk_plan(video.size, self.chunk_size)
        data = self._call("/v2/post/publish/video/init/", body={
            "post_info": post_info,
            "source_info": {"source": "FILE_UPLOAD", "video_size": video.size,
                            "chunk_size": chunk, "total_chunk_count": count}})
        publish_id, upload_url = str(data.get("publish_id") or ""), data.get("upload_url")
        if not publish_id or not upload_url:
            raise RetryLater(PLATFORM, "TikTok tidak memberi alamat unggahan; dicoba lagi.",
                             "TikTok gave no upload address; retrying.", code="no_upload_url",
                             detail=str({k: v for k, v in data.items() if k != "upload_url"}))
        self._remember(post, {"publish_id": publish_id, "size": video.size, "kind": "video",
                              "privacy": post_info["privacy_level"]})
        ranges = chunk_ranges(video.size, chunk, count)
        for i, (offset, length) in enumerate(ranges):
            final = i == len(ranges) - 1
            stage = "create" if final else "upload"
            headers = {"Content-Type": video.mime or "video/mp4",
                       "Content-Range": f"bytes {offset}-{offset + length - 1}/{video.size}"}
            try:
                resp = self.ctx.http.put(str(upload_url), data=FileSlice.of(video, offset,
                                                                      length),
                                         headers=headers, timeout=self.ctx.timeout)
            except requests.RequestException as exc:
                raise network_error(exc, stage=stage, secrets=self._secrets()) from None
            if resp.status_code not in ((201, 200) if final else (206, 200, 201)):
                raise classify(resp, stage=stage, now=self._now(), secrets=self._secrets())
            self.ctx.progress(offset + length, video.size)
        return self._pending(publish_id, "video", info, post_info["privacy_level"])

    def _publish_photos(self, post: OutgoingPost, post_info: dict[str, Any],
                        info: dict[str, Any]) -> Pending:
        urls = []
        for m in post.media:
            if not m.public_url:
                raise Rejected(PLATFORM, "TikTok mengambil foto dari URL publik Warta, tetapi "
                               "WARTA_PUBLIC_URL belum diatur. Minta admin mengaturnya.",
                               "TikTok fetches photos from Warta's public URL, but "
                               "WARTA_PUBLIC_URL is not set. Ask an admin to set it.",
                               code="public_url_missing")
            urls.append(m.public_url)
        photo_info = {k: v for k, v in post_info.items()
                      if k not in ("disable_duet", "disable_stitch")}
        photo_info.update(title=(post.title or "")[:PHOTO_TITLE], description=post.body,
                          auto_add_music=True)
        data = self._call("/v2/post/publish/content/init/", stage="create", body={
            "media_type": "PHOTO", "post_mode": "DIRECT_POST", "post_info": photo_info,
            "source_info": {"source": "PULL_FROM_URL", "photo_images": urls,
                            "photo_cover_index": 0}})
        publish_id = str(data.get("publish_id") or "")
        if not publish_id:
            raise OutcomeUnknown(PLATFORM, "TikTok menjawab tanpa publish_id.",
                                 "TikTok answered without a publish_id.", code="no_id",
                                 detail=str(data))
        self._remember(post, {"publish_id": publish_id, "kind": "photo",
                              "privacy": post_info["privacy_level"]})
        return self._pending(publish_id, "photo", info, post_info["privacy_level"])

    # -- status ---------------------------------------------------------------------------
    def _status(self, publish_id: str) -> dict[str, Any]:
        return self._call("/v2/post/publish/status/fetch/", body={"publish_id": publish_id})

    def _permalink(self, username: Any, kind: str, post_id: str) -> str | None:
        if not username:
            return None
        return f"https://www.tiktok.com/@{username}/{'photo' if kind == 'photo' else 'video'}/" \
               f"{post_id}"

    def _settled(self, st: dict[str, Any], state: dict[str, Any]) -> Published | str:
        """``Published``, or what is going on: "processing", "moderation", "failed"."""
        status = str(st.get("status") or "")
        ids = [str(i) for i in st.get("publicaly_available_post_id") or []]
        if status == "PUBLISH_COMPLETE" and ids:
            username = state.get("username") or (self.ctx.state.get("creator") or {}).get(
                "username")
            return Published(ids[0], self._permalink(username, str(state.get("kind")), ids[0]),
                             self._now())
        if status == "PUBLISH_COMPLETE" and state.get("privacy") == "SELF_ONLY":
            # A private post never gets a public id: it is out, without a link to show.
            return Published(str(state["publish_id"]), None, self._now())
        if status == "PUBLISH_COMPLETE":
            return "moderation"
        if status == "FAILED":
            return "failed"
        if status == "SEND_TO_USER_INBOX":
            return "inbox"
        return "processing"

    def poll(self, pending: Pending) -> Published | Pending:
        state = dict(pending.state)
        publish_id = str(state["publish_id"])
        st = self._status(publish_id)
        outcome = self._settled(st, state)
        polls = int(state.get("polls", 0)) + 1
        info = {"username": state.get("username")}
        privacy = str(state.get("privacy"))
        if isinstance(outcome, Published):
            return outcome
        if outcome == "moderation":
            return self._pending(
                publish_id, str(state.get("kind")), info, privacy, polls,
                message_id="TikTok sudah menerima unggahan dan sedang memoderasinya; tautannya "
                "muncul setelah moderasi selesai (biasanya semenit, bisa beberapa jam).",
                message_en="TikTok has the post and is moderating it; its link appears once "
                "moderation ends (usually a minute, possibly hours).")
        if outcome == "failed":
            raise failed_error(st)
        if outcome == "inbox":
            raise Rejected(PLATFORM, "TikTok mengirim video ke kotak masuk akun, bukan langsung "
                           "menerbitkannya. Selesaikan unggahannya di aplikasi TikTok.",
                           "TikTok sent the video to the account's inbox instead of posting "
                           "it. Finish the post in the TikTok app.", code="sent_to_inbox")
        return self._pending(publish_id, str(state.get("kind")), info, privacy, polls)

    # -- reconciliation -----------------------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        """First what TikTok says of this publication's own publish id (saved before the
        upload); without one, the creator's recent videos by caption since ``since``."""
        record = (self.ctx.state.get("publishes") or {}).get(post.key)
        if record and record.get("publish_id"):
            try:
                st = self._status(str(record["publish_id"]))
            except Rejected:
                st = {}
            if st:
                state = {**record, "username": (self.ctx.state.get("creator") or {}).get(
                    "username")}
                outcome = self._settled(st, state)
                if isinstance(outcome, Published):
                    return None if outcome.external_id in post.taken_ids else outcome
                if outcome in ("failed", "inbox"):
                    return None
                uploaded = st.get("uploaded_bytes")
                if (outcome == "processing" and record.get("size")
                        and isinstance(uploaded, int) and uploaded < int(record["size"])):
                    return None  # the upload never completed: nothing will be posted
                raise RetryLater(PLATFORM, "TikTok masih memproses atau memoderasi unggahan; "
                                 "diperiksa lagi otomatis.", "TikTok is still processing or "
                                 "moderating the post; checking again automatically.",
                                 retry_after=self.moderation_poll_seconds, code=outcome)
        return self._search(post, since)

    def _search(self, post: OutgoingPost, since: datetime) -> Published | None:
        photo = bool(post.media) and all(m.kind == "image" for m in post.media)
        want = " ".join(post.body.split())
        body: dict[str, Any] = {"max_count": 20}
        username = (self.ctx.state.get("creator") or {}).get("username")
        for _ in range(int(self.ctx.settings.get("lookup_max_pages") or 3)):
            data = self._call("/v2/video/list/", body=body, params={
                "fields": "id,title,video_description,create_time,share_url"})
            for v in data.get("videos") or []:
                when = datetime.fromtimestamp(int(v.get("create_time") or 0), UTC)
                if when < since:
                    return None  # newest first: the rest is older
                vid = str(v.get("id"))
                text = " ".join(str(v.get("video_description") or v.get("title") or "").split())
                if vid not in post.taken_ids and text == want:
                    link = v.get("share_url") or self._permalink(
                        username, "photo" if photo else "video", vid)
                    return Published(vid, link, when)
            if not data.get("has_more"):
                return None
            body["cursor"] = data.get("cursor")
        return None

    # -- metrics, account, tokens -------------------------------------------------------
    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """``video/query`` takes at most 20 ids a call; a private post's publish id (no
        public video id) has no numbers. What TikTok does not give stays None."""
        wanted = [i for i in ids if i.isdigit()]
        out: dict[str, Metrics] = {}
        size = self.caps.metrics_batch_size
        for start in range(0, len(wanted), size):
            chunk = wanted[start:start + size]
            data = self._call("/v2/video/query/", body={"filters": {"video_ids": chunk}},
                              params={"fields": "id,view_count,like_count,comment_count,"
                                                "share_count"})
            for v in data.get("videos") or []:
                out[str(v.get("id"))] = Metrics(
                    views=_count(v.get("view_count")), likes=_count(v.get("like_count")),
                    comments=_count(v.get("comment_count")),
                    shares=_count(v.get("share_count")))
        return out

    def account(self) -> AccountInfo:
        data = self._call("/v2/user/info/", method="GET",
                          params={"fields": "open_id,union_id,display_name,username"})
        found = data.get("user")
        user: dict[str, Any] = found if isinstance(found, dict) else data
        info = self.creator_info()
        open_id = str(user.get("open_id") or self.creds.get("open_id") or "")
        username = user.get("username") or info.get("username")
        return AccountInfo(open_id, str(user.get("display_name") or info.get("nickname")
                                        or username or open_id), username,
                           extra={"privacy_level_options": info["privacy_level_options"],
                                  "max_video_post_duration_sec":
                                      info["max_video_post_duration_sec"],
                                  "refresh_expires_at": self.creds.get("refresh_expires_at")})

    def refresh(self) -> Credentials | None:
        """New tokens; TikTok may rotate the refresh token, so they are saved at once."""
        new = tiktok_oauth.refresh(self.creds, token_url=self.token_url,
                                   timeout=self.ctx.timeout, now=self._now(), http=self.ctx.http)
        if new is None:
            return None
        self.creds = new
        self.ctx.save_credentials(new)
        return new


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


