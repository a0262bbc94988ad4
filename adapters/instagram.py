"""Instagram via instagrapi (private mobile API), for accounts without Graph API access.

Why a separate adapter: many regional offices run a personal or plain Instagram account that
cannot be linked to a Meta app. instagrapi speaks Instagram's mobile API with a username and
password (optionally a TOTP secret) or a browser session id.

Sessions are precious: logging in for every post looks like an attack to Instagram and ends in
challenges. So the adapter persists instagrapi's settings (``get_settings()``) through
``ctx.save_credentials`` and rebuilds the client from them (``settings=``) on every call; it logs
in again only when Instagram rejects the session. Metrics and ``lookup`` read the account's
recent media listing (one paged call covers many posts) instead of one call per post.

Note: instagrapi itself pauses briefly between private requests and before "configure"; that
pacing is the library's, not ours, and is removed in tests by patching its ``time.sleep``.

Every request instagrapi makes goes through ``adapters/_instagrapi_http.py``: a timeout
(instagrapi sets none), never a configure call sent twice once one went unanswered, and the
server (``WARTA_INSTAGRAM_API_URL``: tests and staging point it at a local fake of the private
API, over instagrapi's plain ``requests`` transport since its curl one speaks HTTP/2 only).
"""

from __future__ import annotations

import base64
import binascii
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import requests
from instagrapi import Client
from instagrapi import exceptions as ig
from PIL import Image

from adapters._instagrapi_http import CREATE_MARKERS, GuardedSends
from adapters.base import (
    AccountInfo,
    AdapterContext,
    BaseAdapter,
    Capabilities,
    CommentPage,
    IncomingComment,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import (
    AdapterError,
    AuthExpired,
    CredentialFieldError,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    safe_detail,
)
from adapters.instagram_graph import caption_problems

__all__ = ["CREATE_MARKERS", "InstagramAdapter"]
ClientFactory = Callable[[dict[str, Any] | None], Client]


def default_client_factory(settings: dict[str, Any] | None) -> Client:
    """Production client: instagrapi's defaults (curl transport, its own pacing)."""
    return Client(settings=settings) if settings else Client()


class InstagramAdapter(BaseAdapter):
    platform: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram (login akun)"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"instagram.com"}),
        max_text=2200, max_caption=2200, max_media=10, requires_media=True,
        max_image_bytes=8_000_000, max_video_bytes=300_000_000, metrics_batch_size=50,
        metrics=frozenset({"likes", "comments", "views"}), supports_link=False,
        option_names=frozenset({"ig_type"}), image_mimes=frozenset({"image/jpeg"}),
        image_aspect=(0.8, 1.91), reads_comments=True,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("username", "Nama pengguna Instagram", False),
        ("password", "Kata sandi Instagram", True),
        ("totp_secret", "Kunci rahasia autentikasi dua faktor (opsional)", True),
        ("sessionid", "Session ID dari peramban (opsional, pengganti kata sandi)", True),
    )
    #: Tests replace this (or pass ``client_factory`` in ``ctx.settings``) to intercept HTTP.
    client_factory: ClassVar[ClientFactory] = staticmethod(default_client_factory)
    #: The private API's feed shows a new post with a delay; look again after two minutes.
    recheck_seconds: ClassVar[float] = 120.0

    def __init__(self, ctx: AdapterContext) -> None:
        super().__init__(ctx)
        creds = ctx.credentials
        if not (creds.get("sessionid") or creds.get("settings")
                or (creds.get("username") and creds.get("password"))):
            raise AuthExpired(self.platform,
                              "Isi nama pengguna dan kata sandi Instagram, atau session ID.",
                              "Fill in the Instagram username and password, or a session id.",
                              code="missing_credentials")
        s = ctx.settings
        factory = s.get("client_factory")
        self._factory: ClientFactory = factory if callable(factory) else type(self).client_factory
        self.min_gap = float(s.get("min_gap_seconds") or 300)
        self.throttle_wait = float(s.get("throttle_wait_seconds") or 900)
        self.feedback_wait = float(s.get("feedback_wait_seconds") or 6 * 3600)
        self.listing_size = int(s.get("listing_size") or 50)
        self.listing_pages = int(s.get("listing_pages") or 3)
        self.thumbnail_image = s.get("thumbnail_image") or None
        self._cl: Client | None = None
        self._http = GuardedSends(base_url=self.base_url, timeout=ctx.timeout,
                                  upload_timeout=float(s.get("upload_timeout") or 1800))
        self._secrets = [str(v) for k, v in creds.items()
                         if k in ("password", "totp_secret", "sessionid") and v]

    # -- session ----------------------------------------------------------------------------
    def _new_client(self, settings: dict[str, Any] | None) -> Client:
        cl = self._factory(settings)
        # A worker has no keyboard: instagrapi's default challenge flow would try to resolve
        # the challenge and then read a code from stdin. Surface it to the operator instead.
        cl.with_challenge_flow = False
        cl.challenge_code_handler = _no_code
        # No transport-level retries (the requests transport would resend a configure after a
        # 5xx); the curl transport has none. A local API URL needs plain HTTP/1.1.
        cl.set_retry_config(session_retry_total=0,
                            private_transport="requests" if self.base_url else None)
        self._http.wrap(cl.private, track=True)
        self._http.wrap(cl.public, track=False)
        return cl

    def client(self) -> Client:
        """A logged-in client, reusing the saved session when there is one."""
        if self._cl is not None:
            return self._cl
        saved = self.ctx.credentials.get("settings")
        if saved:
            cl = self._new_client(dict(saved))
            if cl.user_id:
                self._cl = cl
                return cl
        self._cl = self._login(None)
        return self._cl

    def _login(self, uuids: dict[str, Any] | None) -> Client:
        creds = self.ctx.credentials
        cl = self._new_client(None)
        if uuids:
            cl.set_uuids(uuids)  # same "device" as before: a new phone would look suspicious
        secret = _totp_secret(creds.get("totp_secret"))
        try:
            if creds.get("username") and creds.get("password"):
                code = cl.totp_generate_code(secret) if secret else ""
                cl.login(str(creds["username"]), str(creds["password"]),
                         verification_code=code)
            elif creds.get("sessionid"):
                cl.login_by_sessionid(str(creds["sessionid"]))
            else:
                raise ig.LoginRequired("saved session rejected and no password to log in again")
        except (ig.ClientError, AssertionError, requests.RequestException) as exc:
            raise self._classify(exc) from None
        self.ctx.save_credentials({**creds, "settings": cl.get_settings()})
        self.ctx.state["user_id"] = str(cl.user_id)
        if cl.username:
            self.ctx.state["username"] = cl.username
        return cl

    def _call(self, op: Callable[[Client], Any], *, create: bool = False) -> Any:
        """Run one instagrapi operation; log in again once if the session was rejected
        (only while nothing irreversible has been sent)."""
        self._http.begin()
        try:
            return op(self.client())
        except (ig.LoginRequired, ig.ClientLoginRequired) as exc:
            if create and self._after_create():
                raise self._classify(exc, create) from None
            if not self.ctx.credentials.get("password"):
                raise self._classify(exc) from None
            uuids = self._cl.get_settings().get("uuids") if self._cl else None
            self._cl = self._login(uuids)
        except (ig.ClientError, requests.RequestException, OSError, ValueError) as exc:
            raise self._classify(exc, create) from None
        self._http.begin()
        try:
            return op(self._cl)
        except (ig.ClientError, requests.RequestException, OSError, ValueError) as exc:
            raise self._classify(exc, create) from None

    def _after_create(self) -> bool:
        return self._http.after_create()

    # -- the one place errors are classified ------------------------------------------------
    def _classify(self, exc: BaseException, create: bool = False) -> AdapterError:
        p = self.platform
        detail = safe_detail(f"{type(exc).__name__}: {exc}", self._secrets)
        kw: dict[str, Any] = {"detail": detail}
        # What Instagram said, safe to show an operator (secrets removed, length capped).
        said = safe_detail(str(exc), self._secrets, limit=300)
        after = create and self._after_create()
        if isinstance(exc, ig.ChallengeError | ig.ChallengeRequired):
            return AuthExpired(
                p, "Instagram meminta verifikasi keamanan. Buka aplikasi Instagram di ponsel, "
                "masuk ke akun ini, pilih 'Ini saya' pada pemberitahuan keamanan (atau masukkan "
                "kode yang dikirim), lalu sambungkan ulang akun di Warta.",
                "Instagram asks for a security check. Open the Instagram app on the phone, log "
                "in to this account, tap 'This was me' on the security notice (or enter the "
                "code sent), then reconnect the account in Warta.",
                code="challenge_required", **kw)
        if isinstance(exc, ig.TwoFactorRequired):
            return AuthExpired(
                p, "Akun memakai autentikasi dua faktor. Isi kunci rahasia TOTP pada formulir "
                "sambungan akun, atau gunakan session ID.",
                "The account uses two-factor authentication. Fill in the TOTP secret in the "
                "connect form, or use a session id.", code="two_factor_required", **kw)
        if isinstance(exc, ig.BadPassword | ig.BadCredentials):
            return AuthExpired(
                p, "Nama pengguna atau kata sandi Instagram salah. Periksa di aplikasi "
                "Instagram, lalu sambungkan ulang akun di Warta.",
                "The Instagram username or password is wrong. Check them in the Instagram app, "
                "then reconnect the account in Warta.", code="bad_password", **kw)
        if isinstance(exc, ig.LoginRequired | ig.ClientLoginRequired |
                      ig.ReloginAttemptExceeded | AssertionError):
            return AuthExpired(
                p, "Sesi Instagram berakhir (akun keluar). Buka aplikasi Instagram, pastikan "
                "akun masih bisa masuk, lalu sambungkan ulang akun di Warta.",
                "The Instagram session ended (logged out). Open the Instagram app, make sure "
                "the account can still log in, then reconnect the account in Warta.",
                code="login_required", **kw)
        if isinstance(exc, ig.AccountSuspended):
            return AuthExpired(
                p, "Instagram menangguhkan akun ini. Buka aplikasi Instagram dan ikuti langkah "
                "banding; penayangan menunggu sampai akun disambungkan ulang.",
                "Instagram suspended this account. Open the Instagram app and follow the "
                "appeal steps; publications wait until the account is reconnected.",
                code="account_suspended", **kw)
        if isinstance(exc, ig.FeedbackRequired | ig.SentryBlock | ig.ProxyAddressIsBlocked):
            hours = round(self.feedback_wait / 3600)
            return RetryLater(
                p, f"PERINGATAN: Instagram membatasi aktivitas akun ini (feedback_required). "
                f"Warta berhenti mengunggah ke akun ini selama ±{hours} jam. Buka aplikasi "
                "Instagram, baca peringatannya, dan jangan mengunggah berulang-ulang secara "
                "manual.",
                f"WARNING: Instagram restricted this account's activity (feedback_required). "
                f"Warta stops posting to it for about {hours} hours. Open the Instagram app, "
                "read the warning and do not post repeatedly by hand.",
                retry_after=self.feedback_wait, scope="channel", code="feedback_required",
                **kw)
        if isinstance(exc, ig.PleaseWaitFewMinutes | ig.RateLimitError |
                      ig.ClientThrottledError):
            minutes = round(self.throttle_wait / 60)
            return RetryLater(
                p, f"Instagram meminta menunggu beberapa menit; dicoba lagi otomatis dalam "
                f"±{minutes} menit.",
                f"Instagram asks to wait a few minutes; retrying automatically in about "
                f"{minutes} minutes.", retry_after=self.throttle_wait, scope="channel",
                code="rate_limited", **kw)
        if after and isinstance(exc, ValueError) and not isinstance(exc, ig.AlbumUnknownFormat):
            # The configure call was sent and its reply could not be read (a parsing
            # ValueError): that does not tell whether the post is live; never call it rejected.
            return self._unknown_after_send(kw)
        if isinstance(exc, ig.AlbumUnknownFormat | ValueError):
            return Rejected(p, f"Format media tidak diterima Instagram: {said}.",
                            f"Instagram does not accept this media format: {said}.",
                            code="invalid_media", **kw)
        if isinstance(exc, ig.UnknownError | ig.ClientBadRequestError):
            return Rejected(p, f"Instagram menolak unggahan ini: {said}.",
                            f"Instagram rejected this post: {said}.", code="rejected", **kw)
        if after:
            return self._unknown_after_send(kw)
        return RetryLater(p, "Gangguan sementara saat menghubungi Instagram; dicoba lagi "
                          "otomatis.", "Temporary failure talking to Instagram; retrying "
                          "automatically.", code="transient", **kw)

    def _unknown_after_send(self, kw: dict[str, Any]) -> OutcomeUnknown:
        return OutcomeUnknown(
            self.platform, "Gangguan setelah unggahan dikirim ke Instagram; belum pasti sudah "
            "terbit. Warta akan memeriksa akun sebelum mencoba lagi.",
            "A failure after the post was sent to Instagram; it may or may not be published. "
            "Warta will check the account before trying again.", code="failed_after_send",
            **kw)

    # -- validation -------------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        problems = super().validate(post) + caption_problems(post.body)
        ig_type = post.options.get("ig_type")
        if ig_type not in (None, "feed", "reel"):
            problems.append(Problem("options", "bad_ig_type",
                                    "Jenis Instagram harus 'feed' atau 'reel'.",
                                    "The Instagram type must be 'feed' or 'reel'."))
        if len(post.media) > 1 and any(m.kind == "video" for m in post.media):
            problems.append(Problem("media", "album_video_unsupported",
                                    "Album Instagram melalui login akun hanya dapat berisi foto.",
                                    "An Instagram album via account login can hold photos only."))
        if ig_type == "reel" and (len(post.media) != 1 or post.media[0].kind != "video"):
            problems.append(Problem("media", "reel_needs_one_video",
                                    "Reel Instagram memerlukan tepat satu video.",
                                    "An Instagram reel needs exactly one video."))
        return problems

    # -- publishing -------------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        self._check_gap()
        caption = post.body
        with tempfile.TemporaryDirectory(prefix="warta-ig-") as tmp:
            paths = [Path(m.path) for m in post.media]
            if len(post.media) > 1:
                media = self._call(lambda cl: cl.album_upload(paths, caption), create=True)
            elif post.media[0].kind == "video":
                thumb = make_thumbnail(post.media[0], self.thumbnail_image, Path(tmp))
                if post.options.get("ig_type") == "feed":
                    media = self._call(lambda cl: cl.video_upload(paths[0], caption,
                                                                  thumbnail=thumb), create=True)
                else:
                    media = self._call(lambda cl: cl.clip_upload(paths[0], caption,
                                                                 thumbnail=thumb), create=True)
            else:
                media = self._call(lambda cl: cl.photo_upload(paths[0], caption), create=True)
        self.ctx.state["last_post_at"] = self._now().isoformat()
        return Published(str(media.pk), _permalink(media), _aware(media.taken_at))

    def _check_gap(self) -> None:
        last = self.ctx.state.get("last_post_at")
        if not last or self.min_gap <= 0:
            return
        wait = (datetime.fromisoformat(last) + timedelta(seconds=self.min_gap)
                - self._now()).total_seconds()
        if wait > 0:
            raise RetryLater(
                self.platform,
                f"Jeda minimal antarunggahan di akun Instagram ini belum lewat; diterbitkan "
                f"otomatis dalam ±{max(1, round(wait / 60))} menit.",
                f"The minimum gap between posts on this Instagram account has not passed; "
                f"publishing automatically in about {max(1, round(wait / 60))} minutes.",
                retry_after=wait, scope="channel", code="min_gap")

    # -- listing-based reads ----------------------------------------------------------------
    def _recent(self, want: set[str] | None = None) -> list[Any]:
        """Recent media of the account: page through the listing until ``want`` is covered."""
        def op(cl: Client) -> list[Any]:
            medias: list[Any] = []
            cursor = ""
            for _ in range(max(1, self.listing_pages)):
                page, cursor = cl.user_medias_paginated_v1(cl.user_id, self.listing_size,
                                                           end_cursor=cursor)
                if cursor is None:
                    # instagrapi logs and swallows non-private errors (throttling, 5xx) here
                    # and returns ([], None); an empty listing must not look like "no posts".
                    raise ig.ClientError("media listing failed (see instagrapi log)")
                medias.extend(page)
                if want is None or want <= {str(m.pk) for m in medias} or not cursor:
                    break
            return medias
        return self._call(op)

    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        for m in self._recent():
            taken = _aware(m.taken_at)
            if taken is not None and taken < since:
                continue
            if str(m.pk) in post.taken_ids:
                continue
            count = len(m.resources) if m.media_type == 8 else 1
            if (m.caption_text or "").strip() == post.body.strip() and count == len(post.media):
                return Published(str(m.pk), _permalink(m), taken)
        return None

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        wanted = {str(i).split("_")[0]: str(i) for i in ids}
        out: dict[str, Metrics] = {}
        for m in self._recent(set(wanted)):
            key = wanted.get(str(m.pk))
            if key is None:
                continue
            views = m.play_count or m.view_count if m.media_type == 2 else None
            out[key] = Metrics(likes=m.like_count, comments=m.comment_count,
                               views=views if isinstance(views, int) else None)
        return out

    def list_comments(self, external_id: str, cursor: Mapping[str, Any] | None) -> CommentPage:
        """One page of the post's comments from the private API (platform-apis-2.md §1.3):
        ``GET media/{media_id}/comments/`` with ``min_id`` = the last page's
        ``next_min_id`` while ``has_more_headload_comments``; a comment's replies come inline
        (``preview_child_comments``) or, when ``child_comment_count`` says there are more,
        from ``inline_child_comments``. The raw answer is read (not instagrapi's
        ``media_comments_chunk``, which pages on by itself and drops the reply counts)."""
        def op(cl: Client) -> CommentPage:
            pk = str(external_id).split("_")[0]
            media_id = f"{pk}_{self.ctx.state.get('user_id') or cl.user_id}"
            params: dict[str, Any] = {"can_support_threading": "true",
                                      "permalink_enabled": "false"}
            if cursor and cursor.get("min_id"):
                params["min_id"] = str(cursor["min_id"])
            body = cl.private_request(f"media/{media_id}/comments/", params=params)
            out: list[IncomingComment] = []
            for raw in (body.get("comments") or [])[:MAX_PAGE]:
                if not isinstance(raw, dict) or not raw.get("pk"):
                    continue
                out.append(_comment(raw, None))
                inline = [c for c in raw.get("preview_child_comments") or []
                          if isinstance(c, dict) and c.get("pk")]
                if int(raw.get("child_comment_count") or 0) > len(inline):
                    inline = [c.model_dump() for c in cl.media_comment_replies(
                        media_id, str(raw["pk"]), amount=MAX_REPLIES)]
                out.extend(_comment(c, str(raw["pk"])) for c in inline[:MAX_REPLIES])
            more = body.get("has_more_headload_comments") and body.get("next_min_id")
            return CommentPage(tuple(out), {"min_id": str(body["next_min_id"])} if more
                               else None)

        return self._call(op)

    def account(self) -> AccountInfo:
        info = self._call(lambda cl: cl.account_info())
        self.ctx.state["username"] = info.username
        return AccountInfo(str(info.pk), info.full_name or info.username, info.username)


#: Replies read under one comment (bounded, like YouTube's and Instagram Graph's), and the
#: most comments taken from one page of the answer.
MAX_REPLIES = 200
MAX_PAGE = 500


def _comment(raw: Mapping[str, Any], parent: str | None) -> IncomingComment:
    """A private-API comment (raw JSON, or instagrapi's ``Comment`` dumped) as Warta keeps
    it. ``created_at_utc`` is epoch seconds in the raw answer, a datetime once parsed."""
    user: Mapping[str, Any] = raw["user"] if isinstance(raw.get("user"), Mapping) else {}
    at = raw.get("created_at_utc")
    created: datetime | None = at if isinstance(at, datetime) else None
    if created is None and at is not None:
        try:
            created = datetime.fromtimestamp(float(at), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            created = None
    return IncomingComment(
        id=str(raw["pk"]), text=str(raw.get("text") or ""), created_at=_aware(created),
        parent_id=parent or (str(raw["replied_to_comment_id"])
                             if raw.get("replied_to_comment_id") else None),
        author_name=str(user["full_name"]) if user.get("full_name") else None,
        author_handle=f"@{user['username']}" if user.get("username") else None,
        hidden=None)


def _totp_secret(raw: Any) -> str:
    """The 2FA key as Instagram's authenticator shows it (groups of base32, any case), checked
    here: instagrapi's own "Non-base32 digit found" surfaced as a media-format error."""
    secret = re.sub(r"[\s-]", "", str(raw or "")).upper()
    if not secret:
        return ""
    try:
        base64.b32decode(secret + "=" * (-len(secret) % 8))
    except (binascii.Error, ValueError):
        raise CredentialFieldError(
            "instagram", "totp_secret", "Kunci 2FA tidak valid: salin kunci rahasia (huruf "
            "A–Z dan angka 2–7) dari pengaturan autentikasi dua faktor Instagram.",
            "The 2FA key is not valid: copy the secret key (letters A–Z and digits 2–7) from "
            "Instagram's two-factor settings.") from None
    return secret


def _no_code(username: str, choice: Any) -> str:
    raise ig.ChallengeRequired("security code requested; resolve it in the Instagram app")


def make_thumbnail(video: MediaFile, source: str | None, out_dir: Path) -> Path:
    """A JPEG cover for a video, so instagrapi never needs MoviePy to grab a frame: the
    configured image (e.g. the office logo) fitted to the video's frame, or a plain frame."""
    width, height = video.width or 1080, video.height or 1920
    scale = 1080 / max(width, height)
    size = (max(1, int(width * scale)), max(1, int(height * scale)))
    frame = Image.new("RGB", size, (24, 38, 64))
    if source and Path(source).is_file():
        img: Image.Image
        with Image.open(source) as img:
            img = img.convert("RGB")
            img.thumbnail(size)
            frame.paste(img, ((size[0] - img.width) // 2, (size[1] - img.height) // 2))
    path = out_dir / "cover.jpg"
    frame.save(path, "JPEG", quality=90)
    return path


def _permalink(media: Any) -> str:
    kind = "reel" if getattr(media, "product_type", "") == "clips" else "p"
    return f"https://www.instagram.com/{kind}/{media.code}/"


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
