"""The adapter contract: plain values in, plain values out, typed errors (see errors.py).

Adapters talk to one platform each. They import nothing from Warta's core, never touch the
database or Flask, and never sleep or poll: a platform that processes media asynchronously
returns ``Pending`` and the worker calls ``poll`` later. Everything an adapter needs from the
outside world arrives in an ``AdapterContext`` so tests can point it at a local fake server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import requests

MediaKind = Literal["image", "video"]
METRIC_NAMES = ("likes", "comments", "shares", "views", "impressions", "reach", "saves")


@dataclass(frozen=True)
class MediaFile:
    """One media asset as the adapter sees it: a local file plus what Warta knows of it.

    ``public_url`` is set when the platform must fetch the file itself (Instagram Graph);
    it is an unguessable, expiring URL under ``WARTA_PUBLIC_URL``.

    ``read_range(start, length)`` is set when the bytes are still in object storage (only for
    adapters whose ``caps.media_by_range`` says they read media solely through
    ``FileSlice.of``): ``path`` then names the object (its file name is the upload's) but is
    no file on this machine, and each chunk is fetched as it is sent.
    """

    path: str
    kind: MediaKind
    mime: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    public_url: str | None = None
    #: What the image shows, for people who cannot see it ("" = none). Adapters whose
    #: platform takes it send it with the image (see NOTES-README / README "Alt text").
    alt_text: str = ""
    read_range: Callable[[int, int], bytes] | None = field(default=None, repr=False,
                                                           compare=False)


@dataclass(frozen=True)
class OutgoingPost:
    """What to publish on one channel: the post with that channel's override already applied.

    ``key`` is Warta's stable identity for this publication (``warta-<publication id>``); an
    adapter may embed it where the platform allows hidden data, and ``lookup`` may use it.
    ``options`` carries platform fields (YouTube privacy, Instagram feed/reel …); each adapter
    validates its own.
    """

    key: str
    body: str
    media: tuple[MediaFile, ...] = ()
    link: str | None = None
    title: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    scheduled_at: datetime | None = None
    #: Platform ids already linked to other publications of the channel: ``lookup`` must
    #: never return one of them (two weekly reminders with the same text are two posts).
    taken_ids: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Published:
    """The platform has the post: its id and public link."""

    external_id: str
    permalink: str | None = None
    published_at: datetime | None = None
    #: Which metrics schedule the worker follows: ``"default"`` (the decaying schedule) or
    #: ``"story"`` (insights that vanish after 24 h: read at +1 h and +23 h, then never).
    metrics_schedule: str = "default"


@dataclass(frozen=True)
class Pending:
    """Accepted, still processing on the platform's side; the worker polls again later.

    ``state`` must be JSON-serialisable: the worker stores it and hands it back to ``poll``,
    possibly in another process after a restart. ``poll_after`` is the suggested wait in seconds.
    """

    state: Mapping[str, Any]
    poll_after: float = 10.0
    #: What the operator reads meanwhile, when there is something to say (TikTok's moderation
    #: holds a public post's link back for minutes to hours): the worker shows it on the
    #: publication, which stays ``publishing``.
    message_id: str = ""
    message_en: str = ""


@dataclass(frozen=True)
class Metrics:
    """Engagement numbers for one published item. ``None`` means the platform gave no number,
    which reports show as "not available" — never as 0."""

    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    views: int | None = None
    impressions: int | None = None
    reach: int | None = None
    saves: int | None = None

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in METRIC_NAMES}


@dataclass(frozen=True)
class IncomingComment:
    """One citizen's comment (or reply) as the platform lists it, normalised.

    Author fields are ``None`` when the platform omits them (Facebook leaves ``from`` out for
    many people; YouTube may lack the channel id): never a made-up name. ``parent_id`` is the
    platform id of the comment this one answers (None: top level).
    """

    id: str
    text: str
    created_at: datetime | None = None
    parent_id: str | None = None
    author_name: str | None = None
    author_handle: str | None = None
    #: The platform's last edit time, where it gives one (YouTube ``updatedAt``).
    updated_at: datetime | None = None
    #: None: the platform does not say.
    hidden: bool | None = None
    #: The platform's id of the author, where it gives one: the office's own comments (a
    #: first comment, a reply sent from Warta) are no citizen's and are left out by it.
    author_id: str | None = None


@dataclass(frozen=True)
class CommentPage:
    """One page of a post's comments and where the next page starts.

    ``next_cursor`` is JSON-serialisable; the worker stores it with the page's comments (so a
    restarted worker asks for the next page, never a gap) and hands it back. ``None``: the
    listing is complete."""

    comments: tuple[IncomingComment, ...]
    next_cursor: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class CommentUpdates:
    """What one read of an account's stream of comments brought (``comments_by_updates``).

    ``comments`` pairs each comment with the platform id of the published item it is under
    (the worker files it under that publication); a comment's id is ``<scope>:<id>``, the
    scope being where it was written (Telegram: the discussion group), which ``position``
    names as ``group`` (one bot's stream may carry several channels' scopes). ``position`` is
    where the next read starts (JSON-serialisable): the worker stores it in the same
    transaction as the comments, so a read that was not stored is read again, and one that
    was is never asked for twice.
    ``more``: the read was full, read again at once. ``problem``: a standing condition of the
    account that keeps comments from arriving (a code the channel page explains), or None."""

    comments: tuple[tuple[str | None, IncomingComment], ...]
    position: Mapping[str, Any]
    more: bool = False
    problem: str | None = None


@dataclass(frozen=True)
class AccountInfo:
    """Who the credentials belong to, as verified by the platform."""

    external_id: str
    name: str
    username: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """One reason a post cannot go to this platform as it is (found without any I/O)."""

    field: str
    code: str
    message_id: str
    message_en: str


@dataclass(frozen=True)
class Capabilities:
    """What a platform accepts and gives back, declared as data so the UI and validation agree.

    ``metrics`` lists the metric names the platform can return at all; reports show the others
    as "not available". ``metrics_batch_size`` is how many ids one ``fetch_metrics`` call takes.
    """

    max_text: int
    media_kinds: frozenset[str] = frozenset({"image", "video"})
    max_media: int = 1
    requires_media: bool = False
    max_caption: int | None = None
    max_title: int | None = None
    max_image_bytes: int | None = None
    max_video_bytes: int | None = None
    #: Longest video the platform takes, in seconds (from the file's real duration).
    max_video_seconds: float | None = None
    #: Most pixels (width × height) of a photo the platform takes.
    max_image_pixels: int | None = None
    metrics: frozenset[str] = frozenset(METRIC_NAMES)
    metrics_batch_size: int = 50
    supports_lookup: bool = True
    supports_link: bool = True
    option_names: frozenset[str] = frozenset()
    #: If set, images are converted by the core to one of these MIME types before publishing.
    image_mimes: frozenset[str] | None = None
    #: If set, (min, max) width/height ratio; the core pads images into it before publishing.
    image_aspect: tuple[float, float] | None = None
    #: The platform fetches media itself from ``MediaFile.public_url`` (needs WARTA_PUBLIC_URL).
    needs_public_urls: bool = False
    #: The adapter reads a medium's bytes only through ``FileSlice.of`` (or never: the
    #: platform fetches ``public_url``), never opening ``MediaFile.path`` itself, so the core
    #: may give it media still in object storage (``MediaFile.read_range``) instead of
    #: downloading each whole file to this machine first. False: ``path`` is a local file.
    media_by_range: bool = False
    #: Access tokens expire but the adapter renews them itself (``refresh``) when it has a
    #: refresh token: an access token's expiry date is then no reason for anyone to act.
    renews_tokens: bool = False
    #: Where the platform shows a published post: a permalink must use one of
    #: ``permalink_schemes`` on one of these hosts or their subdomains (``"*"``: any host, for
    #: the sandbox). Empty: no link is accepted, so a new adapter must declare its own.
    permalink_hosts: frozenset[str] = frozenset()
    permalink_schemes: frozenset[str] = frozenset({"https"})
    #: ``list_comments`` exists (citizen voice, issue 19).
    reads_comments: bool = False
    #: The listing is newest first with no "since" (YouTube): a pass stops at the first
    #: comment already stored before it began. Otherwise a pass reads the whole listing, and
    #: what a complete pass no longer lists was deleted.
    comments_newest_first: bool = False
    #: Reading comments costs money per item read (X: per post returned), so it happens only
    #: on channels where a person switched it on (``Channel.state[COMMENTS_OPT_IN]``).
    comments_opt_in: bool = False
    #: Comments arrive as one stream per account, not as a listing per post (Telegram: the
    #: bot's updates from the channel's discussion group): ``comment_updates`` exists instead
    #: of ``list_comments``, and its position is the channel's (``COMMENT_UPDATES``).
    comments_by_updates: bool = False
    #: The platform takes a "first comment" right after the post (the account's own comment
    #: on it; on X a reply to it) of at most this many characters. None: no first comment
    #: (``post_comment`` and ``find_comment`` exist only where this is set).
    max_first_comment: int | None = None

    #: ``reply_to_comment`` / ``find_comment_reply`` exist: Warta answers a citizen as the
    #: office's account (issue 19).
    replies_to_comments: bool = False
    #: ``hide_comment`` exists (the platform can hide a comment from the public).
    hides_comments: bool = False


#: The channel state key that switches an opt-in comment reader on (``comments_opt_in``).
COMMENTS_OPT_IN = "read_comments"
#: ``Channel.state`` key: the API usage the platform reported on the channel's last call,
#: ``{"pct": 0-100, "at": ISO time, "regain_s": seconds}`` (Meta's usage headers, kept by
#: ``adapters/_graph.py``); comment collection stops reading at a threshold.
API_USAGE = "api_usage"
#: The channel state key holding a stream reader's position (``CommentUpdates.position``).
COMMENT_UPDATES = "comment_updates"


def permalink_matches(caps: Capabilities, url: str | None) -> bool:
    """Whether ``url`` is a link to this platform (used for links a person enters, and for
    every link the public transparency page shows)."""
    from urllib.parse import urlsplit

    if not url or len(url) > 1000 or any(c.isspace() or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    if parts.scheme.lower() not in caps.permalink_schemes or not host or parts.username:
        return False
    return "*" in caps.permalink_hosts or any(
        host == h or host.endswith("." + h) for h in caps.permalink_hosts)


Credentials = Mapping[str, Any]


@dataclass
class AdapterContext:
    """Everything an adapter gets from outside.

    ``state`` is a small per-channel JSON dict the worker persists after every call (quota
    counters, a cached username …). ``save_credentials`` persists rotated tokens or a refreshed
    session (encrypted by the core). ``progress(done, total)`` reports upload progress.
    ``settings`` holds platform-specific knobs read from ``WARTA_<PLATFORM>_*`` variables.
    ``save_state()`` persists ``state`` at once, before an irreversible call, so that what
    ``lookup`` needs (TikTok's ``publish_id``) survives a worker killed during the call.
    """

    credentials: Credentials
    base_url: str | None = None
    http: requests.Session = field(default_factory=requests.Session)
    timeout: float = 30.0
    state: MutableMapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    save_credentials: Callable[[Credentials], None] = lambda creds: None
    progress: Callable[[int, int], None] = lambda done, total: None
    now: Callable[[], datetime] | None = None
    save_state: Callable[[], None] = lambda: None


@runtime_checkable
class Adapter(Protocol):
    platform: ClassVar[str]
    caps: ClassVar[Capabilities]

    def validate(self, post: OutgoingPost) -> list[Problem]: ...
    def publish(self, post: OutgoingPost) -> Published | Pending: ...
    def poll(self, pending: Pending) -> Published | Pending: ...
    def lookup(self, post: OutgoingPost, since: datetime) -> Published | None: ...
    def fetch_metrics(self, ids: Sequence[str]) -> dict[str, Metrics]: ...
    def account(self) -> AccountInfo: ...
    def refresh(self) -> Credentials | None: ...


class BaseAdapter:
    """Shared plumbing: the context, and a ``validate`` that checks the declared capabilities.

    Subclasses extend ``validate`` with platform rules (call ``super().validate(post)``).
    """

    platform: ClassVar[str] = ""
    caps: ClassVar[Capabilities]
    #: Human-readable labels, for the UI.
    label: ClassVar[str] = ""
    #: Credential fields the connect form asks for: (name, label, secret?).
    credential_fields: ClassVar[tuple[tuple[str, str, bool], ...]] = ()
    #: Default production base URL; ``WARTA_<PLATFORM>_API_URL`` overrides it.
    default_base_url: ClassVar[str | None] = None
    #: Seconds between the two lookups after an unknown outcome (``WARTA_<P>_RECHECK_SECONDS``
    #: overrides): how long the platform may take to show a post it created (docs/ARCHITECTURE).
    recheck_seconds: ClassVar[float] = 60.0
    #: A token that must be renewed before it expires even on an idle channel (Threads'
    #: 60-day token dies unrefreshed): the worker's token sweep refreshes it once fewer than
    #: this many days are left (``WARTA_<P>_REFRESH_BEFORE_DAYS`` overrides). None: the
    #: adapter renews its tokens when used, or they do not expire.
    renew_before_days: ClassVar[float | None] = None

    def __init__(self, ctx: AdapterContext) -> None:
        self.ctx = ctx
        self.base_url = (ctx.base_url or self.default_base_url or "").rstrip("/")

    @classmethod
    def option_choices(cls, state: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
        """The values this account may use for a choice option, where the platform says so
        per account (TikTok's privacy levels from creator_info), from the channel's cached
        ``state`` (no I/O). The composer offers only these; an option left out offers all."""
        del state
        return {}

    @classmethod
    def channel_notices(cls, state: Mapping[str, Any]) -> tuple[str, ...]:
        """Codes of standing conditions of this account that the channel page explains in
        its own words (TikTok's "private_only": an app TikTok has not audited), read from the
        channel's cached ``state`` (no I/O)."""
        del state
        return ()

    @classmethod
    def first_comment_length(cls, text: str) -> int:
        """How long the platform counts a first comment (X weighs characters)."""
        return len(text)

    # -- validation shared by all platforms -------------------------------------------------
    def validate(self, post: OutgoingPost) -> list[Problem]:
        caps = self.caps
        problems: list[Problem] = []
        limit = caps.max_caption if (post.media and caps.max_caption) else caps.max_text
        if len(post.body) > limit:
            problems.append(Problem(
                "body", "too_long",
                f"Teks terlalu panjang untuk {self.label or self.platform}: "
                f"{len(post.body)} dari maksimal {limit} karakter.",
                f"Text is too long for {self.label or self.platform}: "
                f"{len(post.body)} of at most {limit} characters."))
        if caps.requires_media and not post.media:
            problems.append(Problem(
                "media", "media_required",
                f"{self.label or self.platform} memerlukan foto atau video.",
                f"{self.label or self.platform} needs a photo or a video."))
        if len(post.media) > caps.max_media:
            problems.append(Problem(
                "media", "too_many_media",
                f"Paling banyak {caps.max_media} berkas media untuk {self.label or self.platform}.",
                f"At most {caps.max_media} media files for {self.label or self.platform}."))
        for m in post.media:
            if m.kind not in caps.media_kinds:
                problems.append(Problem(
                    "media", "media_kind",
                    f"{self.label or self.platform} tidak menerima media jenis {m.kind}.",
                    f"{self.label or self.platform} does not accept {m.kind} media."))
            cap = caps.max_image_bytes if m.kind == "image" else caps.max_video_bytes
            if cap is not None and m.size > cap:
                problems.append(Problem(
                    "media", "media_too_large",
                    f"Berkas terlalu besar ({m.size // 1_000_000} MB, maks {cap // 1_000_000} MB).",
                    f"File too large ({m.size // 1_000_000} MB, max {cap // 1_000_000} MB)."))
            if (m.kind == "video" and caps.max_video_seconds is not None
                    and m.duration is not None and m.duration > caps.max_video_seconds):
                problems.append(Problem(
                    "media", "video_too_long",
                    f"Video terlalu panjang untuk {self.label or self.platform} "
                    f"({m.duration:.0f} detik, maks {caps.max_video_seconds:.0f} detik).",
                    f"Video too long for {self.label or self.platform} "
                    f"({m.duration:.0f} s, max {caps.max_video_seconds:.0f} s)."))
            if (m.kind == "image" and caps.max_image_pixels is not None and m.width
                    and m.height and m.width * m.height > caps.max_image_pixels):
                problems.append(Problem(
                    "media", "image_too_many_pixels",
                    f"Foto terlalu besar untuk {self.label or self.platform} "
                    f"({m.width} × {m.height} piksel).",
                    f"Photo too large for {self.label or self.platform} "
                    f"({m.width} × {m.height} pixels)."))
        unknown = set(post.options) - set(caps.option_names)
        if unknown:
            problems.append(Problem(
                "options", "unknown_option",
                f"Opsi tidak dikenal untuk {self.label or self.platform}: "
                f"{', '.join(sorted(unknown))}.",
                f"Unknown option for {self.label or self.platform}: {', '.join(sorted(unknown))}."))
        return problems

    @classmethod
    def image_aspect_for(cls, options: Mapping[str, Any]) -> tuple[float, float] | None:
        """The aspect range images are converted to for this post type (an Instagram Story
        is full-screen 9:16, the feed 4:5 … 1.91:1); by default the channel's one."""
        return cls.caps.image_aspect

    def _now(self) -> datetime:
        """The context's clock (tests move it) or the real one; always aware UTC."""
        return self.ctx.now() if self.ctx.now else datetime.now(UTC)

    def poll(self, pending: Pending) -> Published | Pending:  # pragma: no cover - default
        raise NotImplementedError(f"{self.platform} never returns Pending")

    def refresh(self) -> Credentials | None:
        return None

    def list_comments(self, external_id: str,
                      cursor: Mapping[str, Any] | None) -> CommentPage:  # pragma: no cover
        """One page of comments on the published item ``external_id``, from ``cursor``
        (None: the first page). Only adapters whose caps say ``reads_comments``."""
        raise NotImplementedError(f"{self.platform} does not read comments")

    def comment_updates(self, position: Mapping[str, Any] | None, *,
                        consume: bool = True) -> CommentUpdates:  # pragma: no cover
        """The comments that arrived since ``position`` (None: the first read). ``consume``
        False: only refresh what the position knows of the account, taking no update. Only
        adapters whose caps say ``comments_by_updates``."""
        raise NotImplementedError(f"{self.platform} has no stream of comments")

    def reply_to_comment(self, comment_id: str, text: str) -> str:  # pragma: no cover
        """Publish ``text`` as the office's reply to ``comment_id``; the reply's platform id.
        The irreversible call: an unknown outcome is ``OutcomeUnknown``, never a retry."""
        raise NotImplementedError(f"{self.platform} does not reply to comments")

    def find_comment_reply(self, comment_id: str,
                           text: str) -> str | None:  # pragma: no cover - default
        """The office's own reply to ``comment_id`` with ``text`` (None: not there); raises
        when the platform cannot be asked (then nobody can tell)."""
        raise NotImplementedError(f"{self.platform} does not reply to comments")

    def hide_comment(self, comment_id: str) -> None:  # pragma: no cover - default
        """Hide a citizen's comment from the public (idempotent on every platform)."""
        raise NotImplementedError(f"{self.platform} does not hide comments")
