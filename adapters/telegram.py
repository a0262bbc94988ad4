"""Telegram channel adapter (Bot API): text, photo, video and albums posted by a bot admin.

The bot token sits in the URL path (``/bot<TOKEN>/<method>``), so every error text and detail
this module produces goes through ``_scrub`` and requests exceptions are re-raised ``from None``
(their message contains the URL). Log lines are not this module's business: urllib3 logs
request lines with the path at DEBUG, and ``publisher/logs.py`` redacts ``/bot<token>`` from
every line the application writes.

The Bot API cannot read view counts and cannot list a channel's posts, so ``caps.metrics`` is
empty and ``lookup`` raises ``NotSupported``: after a crash mid-publish the worker marks the
publication "unconfirmed" and a person checks the channel.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

import requests

from adapters import _telegram_comments as comments
from adapters._stream import FileSlice, StreamingMultipart
from adapters.base import (
    COMMENT_UPDATES,
    AccountInfo,
    BaseAdapter,
    Capabilities,
    CommentUpdates,
    MediaFile,
    Metrics,
    OutgoingPost,
    Pending,
    Problem,
    Published,
)
from adapters.errors import (
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    retry_after_seconds,
    safe_detail,
    wait_words,
)

PLATFORM = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
PARSE_MODES = ("HTML", "MarkdownV2", "none")
_MDV2_SPECIAL = re.compile(r"([_*\[\]()~`>#+\-=|{}.!\\])")
#: 403/400 descriptions meaning "the bot lost its place in the channel" (reconnect, not retry).
#: Telegram gives no machine code for these, only the description; they live here, in one place.
_LOST_ACCESS = ("bot was kicked", "bot is not a member", "not enough rights",
                "need administrator rights", "have no rights", "chat not found",
                "bot was blocked")


def utf16_len(text: str) -> int:
    """Telegram measures text in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def escape(text: str, parse_mode: str) -> str:
    """Escape plain text so Telegram shows it literally in the chosen parse mode."""
    if parse_mode == "HTML":
        return html.escape(text, quote=False)
    if parse_mode == "MarkdownV2":
        return _MDV2_SPECIAL.sub(r"\\\1", text)
    return text


class TelegramAdapter(BaseAdapter):
    platform: ClassVar[str] = PLATFORM
    label: ClassVar[str] = "Telegram (kanal)"
    default_base_url: ClassVar[str | None] = "https://api.telegram.org"
    caps: ClassVar[Capabilities] = Capabilities(
        permalink_hosts=frozenset({"t.me", "telegram.me"}),
        max_text=MAX_TEXT, max_caption=MAX_CAPTION, max_media=10,
        max_image_bytes=10_000_000, max_video_bytes=50_000_000,
        metrics=frozenset(), metrics_batch_size=100, supports_lookup=False,
        option_names=frozenset({"parse_mode", "link_preview", "long_text_followup"}),
        media_by_range=True, reads_comments=True, comments_by_updates=True,
        replies_to_comments=True,
    )
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = (
        ("bot_token", "Token bot (dari @BotFather)", True),
        ("channel", "Kanal: @namakanal atau ID angka (-100…)", False),
    )

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self.token = str(ctx.credentials.get("bot_token", "")).strip()
        self.channel = str(ctx.credentials.get("channel", "")).strip()

    # -- helpers ------------------------------------------------------------------------
    def _scrub(self, text: str | bytes | None) -> str:
        """The token removed (as a value, and any ``/bot<token>`` path), length capped."""
        return safe_detail(text, secrets=[self.token])

    def _parse_mode(self, post: OutgoingPost) -> str:
        return str(post.options.get("parse_mode") or self.ctx.settings.get("parse_mode")
                   or "HTML")

    def _text(self, post: OutgoingPost) -> str:
        """Body plus the link (if it is not already in the body), as plain text."""
        text = post.body
        if post.link and post.link not in text:
            text = f"{text}\n\n{post.link}" if text else post.link
        return text

    def _call(self, method: str, *, creates: bool, json_body: dict[str, Any] | None = None,
              multipart: StreamingMultipart | None = None) -> Any:
        """One Bot API call; ``creates`` marks a call that may publish (errors → unknown)."""
        url = f"{self.base_url}/bot{self.token}/{method}"
        try:
            if multipart is not None:
                resp = self.ctx.http.post(url, data=multipart, timeout=self.ctx.timeout,
                                          headers={"Content-Type": multipart.content_type})
            else:
                resp = self.ctx.http.post(url, json=json_body or {}, timeout=self.ctx.timeout)
        except requests.RequestException as exc:
            detail = self._scrub(f"{type(exc).__name__}: {exc}")
            if creates:
                raise OutcomeUnknown(
                    PLATFORM,
                    "Koneksi ke Telegram terputus setelah unggahan dikirim; belum pasti sudah "
                    "terbit. Periksa kanal sebelum menerbitkan ulang.",
                    "The connection to Telegram dropped after the post was sent; it may or may "
                    "not be published. Check the channel before publishing again.",
                    code="timeout", detail=detail) from None
            raise RetryLater(PLATFORM, "Telegram tidak dapat dihubungi; dicoba lagi otomatis.",
                             "Telegram could not be reached; retrying automatically.",
                             code="network", detail=detail) from None
        return self._classify(resp, creates=creates)

    def _classify(self, resp: requests.Response, *, creates: bool) -> Any:
        """The one place that turns a Bot API answer into a result or a typed error."""
        try:
            body = resp.json()
        except ValueError:  # a proxy's HTML or text page in front of the Bot API
            body = {}
        if resp.ok and body.get("ok"):
            return body.get("result")
        code = int(body.get("error_code") or resp.status_code)
        description = str(body.get("description") or resp.reason or "")
        detail = self._scrub(resp.text)
        params = body.get("parameters") or {}
        # Telegram's own wait is parameters.retry_after; a proxy's bare 429/503 may carry
        # only a Retry-After header.
        header_wait = retry_after_seconds(resp.headers.get("Retry-After"), self._now())
        if code == 429:
            wait = float(params.get("retry_after") or header_wait or 30)
            raise RetryLater(PLATFORM,
                             f"Telegram membatasi pengiriman; dicoba lagi dalam {int(wait)} detik.",
                             f"Telegram is rate limiting; retrying in {int(wait)} seconds.",
                             retry_after=wait, code="rate_limited", http_status=code,
                             detail=detail)
        lost = any(mark in description.lower() for mark in _LOST_ACCESS)
        if code == 401 or (code in (400, 403) and lost):
            raise AuthExpired(
                PLATFORM,
                "Bot Telegram tidak lagi dapat mengirim ke kanal ini (token tidak berlaku atau "
                "bot bukan admin kanal). Jadikan bot admin dengan hak kirim pesan, lalu "
                f"sambungkan ulang akun. Pesan Telegram: {self._scrub(description)}",
                "The Telegram bot can no longer post to this channel (invalid token, or the bot "
                "is not a channel admin). Make the bot an admin allowed to post, then reconnect "
                f"the account. Telegram said: {self._scrub(description)}",
                code="auth", http_status=code, detail=detail)
        if code >= 500:
            if creates:
                raise OutcomeUnknown(
                    PLATFORM,
                    "Telegram mengalami gangguan setelah unggahan dikirim; belum pasti sudah "
                    "terbit. Periksa kanal sebelum menerbitkan ulang.",
                    "Telegram failed after the post was sent; it may or may not be published. "
                    "Check the channel before publishing again.",
                    code="server_error", http_status=code, detail=detail)
            when_id, when_en = wait_words(header_wait)
            raise RetryLater(PLATFORM,
                             f"Gangguan sementara di Telegram; dicoba lagi otomatis{when_id}.",
                             f"Temporary Telegram failure; retrying automatically{when_en}.",
                             retry_after=header_wait, code="server_error", http_status=code,
                             detail=detail)
        raise Rejected(PLATFORM,
                       f"Telegram menolak unggahan: {self._scrub(description)}",
                       f"Telegram rejected the post: {self._scrub(description)}",
                       code="rejected", http_status=code, detail=detail)

    # -- validation ---------------------------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        # The base check counts Python characters; Telegram counts UTF-16 units after the
        # link is appended, so its "too_long" is replaced by ours.
        problems = [p for p in super().validate(post) if p.code != "too_long"]
        mode = post.options.get("parse_mode", "HTML")
        if mode not in PARSE_MODES:
            problems.append(Problem("options", "parse_mode",
                                    f"parse_mode harus salah satu dari {', '.join(PARSE_MODES)}.",
                                    f"parse_mode must be one of {', '.join(PARSE_MODES)}."))
        for name in ("link_preview", "long_text_followup"):
            if name in post.options and not isinstance(post.options[name], bool):
                problems.append(Problem("options", name, f"Opsi {name} harus ya/tidak.",
                                        f"Option {name} must be true or false."))
        length = utf16_len(self._text(post))
        if length > MAX_TEXT:
            problems.append(Problem(
                "body", "too_long",
                f"Teks terlalu panjang untuk Telegram: {length} dari maksimal {MAX_TEXT} "
                "karakter.",
                f"Text is too long for Telegram: {length} of at most {MAX_TEXT} characters."))
        elif post.media and length > MAX_CAPTION and not post.options.get("long_text_followup"):
            problems.append(Problem(
                "body", "caption_too_long",
                f"Keterangan foto/video di Telegram maksimal {MAX_CAPTION} karakter (sekarang "
                f"{length}). Persingkat teks, atau aktifkan opsi long_text_followup agar teks "
                "dikirim sebagai pesan terpisah setelah media.",
                f"A Telegram photo/video caption is at most {MAX_CAPTION} characters (now "
                f"{length}). Shorten the text, or enable the long_text_followup option to send "
                "the text as a separate message after the media."))
        if len(post.media) > 1 and any(m.kind not in ("image", "video") for m in post.media):
            problems.append(Problem("media", "album_kind",
                                    "Album Telegram hanya berisi foto dan video.",
                                    "A Telegram album holds only photos and videos."))
        if not post.body.strip() and not post.media and not post.link:
            problems.append(Problem("body", "empty", "Pesan kosong tidak dapat dikirim.",
                                    "An empty message cannot be sent."))
        return problems

    # -- publishing ---------------------------------------------------------------------
    def publish(self, post: OutgoingPost) -> Published | Pending:
        mode = self._parse_mode(post)
        text = self._text(post)
        followup = bool(post.media) and utf16_len(text) > MAX_CAPTION
        if followup and not post.options.get("long_text_followup"):
            raise Rejected(PLATFORM, f"Keterangan melebihi {MAX_CAPTION} karakter.",
                           f"The caption exceeds {MAX_CAPTION} characters.", code="too_long")
        caption = "" if followup else text
        if not post.media:
            result = self._call("sendMessage", creates=True,
                                json_body=self._message_body(text, mode, post))
        elif len(post.media) == 1:
            result = self._send_single(post.media[0], caption, mode)
        else:
            result = self._send_album(post.media, caption, mode)
        first = result[0] if isinstance(result, list) else result
        published = self._published(first)
        if followup:
            try:
                self._call("sendMessage", creates=True,
                           json_body=self._message_body(text, mode, post))
            except (OutcomeUnknown, RetryLater, Rejected, AuthExpired) as exc:
                # The media is already public: retrying the whole post would repeat it.
                raise OutcomeUnknown(
                    PLATFORM,
                    f"Media sudah terbit ({published.permalink}) tetapi teks lanjutan gagal "
                    f"dikirim: {exc.message_id} Kirim teksnya secara manual, lalu tandai sudah "
                    "terbit.",
                    f"The media was published ({published.permalink}) but the follow-up text "
                    f"failed: {exc.message_en} Send the text by hand, then mark as published.",
                    code="followup_failed", detail=exc.detail) from None
        return published

    def _message_body(self, text: str, mode: str, post: OutgoingPost) -> dict[str, Any]:
        body: dict[str, Any] = {"chat_id": self.channel, "text": escape(text, mode)}
        if mode != "none":
            body["parse_mode"] = mode
        if post.options.get("link_preview") is False:
            body["link_preview_options"] = {"is_disabled": True}
        return body

    def _caption_fields(self, caption: str, mode: str) -> dict[str, str]:
        fields: dict[str, str] = {}
        if caption:
            fields["caption"] = escape(caption, mode)
            if mode != "none":
                fields["parse_mode"] = mode
        return fields

    def _send_single(self, media: MediaFile, caption: str, mode: str) -> Any:
        fields = {"chat_id": self.channel, **self._caption_fields(caption, mode)}
        part = "photo" if media.kind == "image" else "video"
        if media.kind == "video":
            fields["supports_streaming"] = "true"
            for name in ("width", "height"):
                if getattr(media, name):
                    fields[name] = str(getattr(media, name))
            if media.duration:
                fields["duration"] = str(int(round(media.duration)))
        body = StreamingMultipart(fields, {part: (media.path, media.mime,
                                                  FileSlice.of(media))})
        return self._call("sendPhoto" if part == "photo" else "sendVideo", creates=True,
                          multipart=body)

    def _send_album(self, media: Sequence[MediaFile], caption: str, mode: str) -> Any:
        items = []
        files: dict[str, tuple[str, str, FileSlice]] = {}
        for i, m in enumerate(media):
            item: dict[str, Any] = {"type": "photo" if m.kind == "image" else "video",
                                    "media": f"attach://m{i}"}
            if i == 0 and caption:
                item.update(self._caption_fields(caption, mode))
            if m.kind == "video":
                item["supports_streaming"] = True
            items.append(item)
            files[f"m{i}"] = (m.path, m.mime, FileSlice.of(m))
        body = StreamingMultipart({"chat_id": self.channel, "media": json.dumps(items)}, files)
        return self._call("sendMediaGroup", creates=True, multipart=body)

    def _published(self, message: dict[str, Any]) -> Published:
        message_id = message["message_id"]
        chat = message.get("chat") or {}
        when = datetime.fromtimestamp(message["date"], UTC) if message.get("date") else None
        return Published(str(message_id), self.permalink(chat, message_id), when)

    def permalink(self, chat: dict[str, Any], message_id: int | str) -> str:
        """Public channels: t.me/<username>/<id>; private ones: t.me/c/<internal id>/<id>."""
        username = chat.get("username") or self.ctx.state.get("username")
        if username:
            return f"https://t.me/{username}/{message_id}"
        chat_id = str(chat.get("id") or self.ctx.state.get("chat_id") or self.channel)
        internal = chat_id[4:] if chat_id.startswith("-100") else chat_id.lstrip("-")
        return f"https://t.me/c/{internal}/{message_id}"

    # -- the rest of the contract --------------------------------------------------------
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None:
        raise NotSupported(PLATFORM,
                           "Bot Telegram tidak dapat membaca daftar pesan kanal; periksa kanal "
                           "secara manual.",
                           "A Telegram bot cannot list a channel's messages; check the channel "
                           "by hand.", code="lookup_unsupported")

    # -- citizens' comments (the discussion group: adapters/_telegram_comments.py) ----------
    @classmethod
    def channel_notices(cls, state: Mapping[str, Any]) -> tuple[str, ...]:
        """Why comments do not arrive (no group, the bot not in it or not seeing all)."""
        position = state.get(COMMENT_UPDATES)
        problem = position.get("problem") if isinstance(position, dict) else None
        return (str(problem),) if problem in comments.PROBLEMS else ()

    def comment_updates(self, position: Mapping[str, Any] | None, *,
                        consume: bool = True) -> CommentUpdates:
        return comments.read(self._call, self.channel, self.token, position, self._now(),
                             consume=consume)

    def reply_to_comment(self, comment_id: str, text: str) -> str:
        """``sendMessage`` into the discussion group as a reply to the comment: it shows in
        the post's comment thread. Plain text (a citizen's words quoted back stay literal)."""
        chat, message_id = comments.split_id(comment_id)
        sent = self._call("sendMessage", creates=True, json_body={
            "chat_id": chat, "text": text,
            "reply_parameters": {"message_id": message_id}})
        return comments.comment_id(chat, sent["message_id"])

    def find_comment_reply(self, comment_id: str, text: str) -> str | None:
        """A bot cannot read a group's history: after an unknown outcome nobody can tell,
        so the reply is left "unconfirmed" for a person (never sent twice)."""
        raise NotSupported(PLATFORM,
                           "Bot Telegram tidak dapat membaca riwayat grup diskusi; periksa "
                           "balasan di grup secara manual.",
                           "A Telegram bot cannot read the discussion group's history; check "
                           "the reply in the group by hand.", code="lookup_unsupported")

    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]:
        """The Bot API gives no views or reactions on demand: reports show "not available"."""
        return {}

    def account(self) -> AccountInfo:
        """Check the token, the channel, and that the bot is an admin allowed to post."""
        me = self._call("getMe", creates=False)
        chat = self._call("getChat", creates=False, json_body={"chat_id": self.channel})
        member = self._call("getChatMember", creates=False,
                            json_body={"chat_id": self.channel, "user_id": me["id"]})
        status = member.get("status")
        allowed = status == "creator" or (status == "administrator"
                                          and member.get("can_post_messages", True))
        if not allowed:
            raise AuthExpired(
                PLATFORM,
                f"Bot @{me.get('username')} belum menjadi admin kanal dengan hak 'Kirim pesan'. "
                "Tambahkan bot sebagai admin kanal, lalu sambungkan ulang.",
                f"Bot @{me.get('username')} is not a channel admin allowed to post messages. "
                "Add the bot as a channel admin, then reconnect.",
                code="not_admin", detail=self._scrub(json.dumps(member)))
        self.ctx.state["chat_id"] = chat.get("id")
        self.ctx.state["username"] = chat.get("username")
        # which bot this is: channels of one bot share its one stream of comment updates
        self.ctx.state["bot_id"] = str(me.get("id")) if me.get("id") is not None else None
        return AccountInfo(str(chat.get("id")), str(chat.get("title") or self.channel),
                           chat.get("username"),
                           extra={"bot_username": me.get("username"), "type": chat.get("type")})
