"""One frozen settings object read from the environment (``WARTA_`` prefix, ``.env`` honoured).

Parsing is strict: a bad value stops Warta at start-up with a sentence naming the variable,
instead of being guessed at and failing later in the middle of a publish.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values


class SettingsError(ValueError):
    """A WARTA_* variable has a value Warta refuses to guess about."""


#: name -> (default, description). The README and .env.example mirror this table.
VARIABLES: dict[str, tuple[str, str]] = {
    "WARTA_DATABASE_URL": ("sqlite:///var/warta.db",
                           "SQLAlchemy URL (SQLite or postgresql+psycopg://)"),
    "WARTA_SECRET_KEY": ("", "Flask session signing key; generated into var/ when empty"),
    "WARTA_ENCRYPTION_KEY": ("", "Fernet key for channel credentials; generated into var/ "
                                 "when empty"),
    "WARTA_MEDIA_DIR": ("var/media", "where uploaded media are stored, by content hash (with "
                                     "WARTA_MEDIA_URL: this machine's cache of the bucket)"),
    "WARTA_MEDIA_URL": ("", "s3://bucket/prefix to keep media in S3-compatible object storage "
                            "(empty: the WARTA_MEDIA_DIR folder)"),
    "WARTA_MEDIA_LINKS": ("store", "links for platforms that fetch media: store (the object "
                                   "store's presigned link when there is one, else Warta's "
                                   "/m/ link) or warta (always Warta's /m/ link, for a store "
                                   "the platforms cannot reach)"),
    "WARTA_S3_ENDPOINT_URL": ("", "the object store's URL (MinIO, SeaweedFS, a cloud's S3; "
                                  "empty: AWS or AWS_ENDPOINT_URL)"),
    "WARTA_S3_REGION": ("", "its region (empty: boto3's default)"),
    "WARTA_S3_ACCESS_KEY_ID": ("", "its access key (empty: boto3's chain, e.g. AWS_ACCESS_KEY_ID)"),
    "WARTA_S3_SECRET_ACCESS_KEY": ("", "its secret key"),
    "WARTA_MAX_UPLOAD_MB": ("512", "largest accepted upload, in MB"),
    "WARTA_TIMEZONE": ("Asia/Jakarta", "zone for times given without an offset, and new units"),
    "WARTA_POLL_SECONDS": ("1", "worker tick: how often it claims due jobs"),
    "WARTA_WORKER_THREADS": ("16", "short platform calls (text and image posts, polls, metrics) "
                                   "at once per worker process"),
    "WARTA_UPLOAD_THREADS": ("2", "long uploads (video posts) at once per worker process, in "
                                  "their own pool so they never hold up short posts"),
    "WARTA_HEARTBEAT_SECONDS": ("1", "how often a worker writes its heartbeat"),
    "WARTA_WORKER_DEAD_AFTER": ("5", "seconds without a heartbeat after which a worker is dead "
                                     "and others take over its jobs (PostgreSQL: only once its "
                                     "session lock is free too)"),
    "WARTA_LEASE_SECONDS": ("300", "how long a claimed job may run without its worker renewing "
                                   "it (the backstop behind the heartbeat)"),
    "WARTA_MAX_ATTEMPTS": ("8", "publish attempts before a publication is failed"),
    "WARTA_MISSED_AFTER": ("6h", "a publication not out this long after its time becomes missed"),
    "WARTA_ALLOW_SELF_APPROVAL": ("0", "1 lets an author approve their own post"),
    "WARTA_FIGURES_CACHE_SECONDS": ("60", "how long the dashboard's figures (this month's "
                                          "engagement) are reused per unit before they are "
                                          "summed again (0: every time)"),
    "WARTA_INBOX_RETENTION_MONTHS": ("0", "after how many months the citizen inbox forgets "
                                          "who wrote a comment and what it said, keeping its "
                                          "counts (0: keep)"),
    "WARTA_COMMENTS_MAX_USAGE_PERCENT": ("75", "comment collection stops reading a Meta "
                                               "channel whose reported API usage is at or "
                                               "above this percentage, leaving the rest for "
                                               "publishing (1-100)"),
    "WARTA_REQUIRE_TOTP": ("", "roles that must use a second factor (TOTP app), e.g. "
                               "admin,approver"),
    "WARTA_PUBLIC_URL": ("", "public base URL; platforms fetching media (Instagram Graph) need it"),
    "WARTA_SANDBOX_OUTBOX": ("var/outbox", "where the sandbox adapter writes published posts"),
    "WARTA_LOG_LEVEL": ("INFO", "logging level"),
    "WARTA_TRUSTED_PROXIES": ("0", "reverse proxies in front of Warta whose X-Forwarded-* "
                                   "headers are believed (0: none)"),
    # Operations (docs/ops/): health, metrics, logs.
    "WARTA_LOG_FORMAT": ("text", "text, or json for one JSON object per line (log collectors)"),
    "WARTA_READY_WORKER_WITHIN": ("60s", "/readyz fails when no worker beat this recently "
                                         "(0: do not check workers)"),
    "WARTA_METRICS_TOKEN": ("", "Bearer token that may read /metrics"),
    "WARTA_METRICS_ALLOW": ("", "addresses or networks that may read /metrics without the "
                                "token, e.g. 127.0.0.1,10.0.0.0/8"),
    "WARTA_WORKER_METRICS_PORT": ("", "port on which each `warta worker` serves its own "
                                      "Prometheus metrics (empty: none)"),
    "WARTA_WORKER_METRICS_ADDR": ("127.0.0.1", "address that port listens on"),
    # "Connect with X / Google / Facebook" on the Channels page: each button appears only when
    # its platform app is configured. The redirect URI to register at the platform is
    # <WARTA_PUBLIC_URL>/akun/sambung/<x|google|meta|tiktok|threads>/kembali.
    "WARTA_X_CLIENT_ID": ("", "X app OAuth 2.0 Client ID (enables 'Connect with X')"),
    "WARTA_X_CLIENT_SECRET": ("", "X app OAuth 2.0 Client Secret (empty for a public client)"),
    "WARTA_YOUTUBE_CLIENT_ID": ("", "Google OAuth client ID (enables 'Connect with Google')"),
    "WARTA_YOUTUBE_CLIENT_SECRET": ("", "Google OAuth client secret"),
    "WARTA_META_APP_ID": ("", "Meta app ID (enables 'Connect with Facebook')"),
    "WARTA_META_APP_SECRET": ("", "Meta app secret"),
    "WARTA_TIKTOK_CLIENT_KEY": ("", "TikTok app client key (enables 'Connect with TikTok')"),
    "WARTA_TIKTOK_CLIENT_SECRET": ("", "TikTok app client secret"),
    "WARTA_THREADS_APP_ID": ("", "Threads app ID of the Meta app (enables 'Connect with "
                                 "Threads')"),
    "WARTA_THREADS_APP_SECRET": ("", "Threads app secret (not the Facebook app secret)"),
    # Notifications by e-mail (empty host: e-mail is off, and the profile page does not offer
    # it). E-mails link to Warta's pages, so WARTA_PUBLIC_URL must be set with them.
    "WARTA_SMTP_HOST": ("", "SMTP server for notification e-mails (empty: no e-mail)"),
    "WARTA_SMTP_PORT": ("", "SMTP port (empty: 587 for starttls, 465 for ssl, 25 for none)"),
    "WARTA_SMTP_SECURITY": ("starttls", "starttls, ssl (TLS from the first byte) or none"),
    "WARTA_SMTP_USER": ("", "SMTP login (empty: no authentication)"),
    "WARTA_SMTP_PASSWORD": ("", "SMTP password (never logged or shown)"),
    "WARTA_SMTP_FROM": ("", "sender of notification e-mails, e.g. Warta <warta@kab.go.id>"),
    "WARTA_SMTP_TIMEOUT": ("30", "seconds an SMTP connection or reply may take"),
    "WARTA_SMTP_CA_FILE": ("", "PEM file of the certificate authority that signed the SMTP "
                               "server's certificate (empty: the system's trusted ones)"),
    # Notifications by Telegram direct message: the office's bot (may be the one that posts to
    # channels). Empty: Telegram is not offered. Updates are read by polling getUpdates, or
    # come by webhook to WARTA_PUBLIC_URL/telegram/pembaruan (WARTA_NOTIFY_TELEGRAM_UPDATES).
    "WARTA_NOTIFY_TELEGRAM_BOT_TOKEN": ("", "bot token for notification direct messages "
                                            "(empty: no Telegram notifications)"),
    "WARTA_NOTIFY_TELEGRAM_API_URL": ("https://api.telegram.org", "Bot API base URL for "
                                      "notifications (a local server in tests)"),
    "WARTA_NOTIFY_TELEGRAM_UPDATES": ("poll", "how the bot's updates arrive: poll (the worker "
                                      "calls getUpdates) or webhook (Telegram posts them to "
                                      "WARTA_PUBLIC_URL/telegram/pembaruan; https only)"),
}

#: (id variable, secret variable, secret required?) of each platform app.
OAUTH_APPS = (("WARTA_X_CLIENT_ID", "WARTA_X_CLIENT_SECRET", False),
              ("WARTA_YOUTUBE_CLIENT_ID", "WARTA_YOUTUBE_CLIENT_SECRET", True),
              ("WARTA_META_APP_ID", "WARTA_META_APP_SECRET", True),
              ("WARTA_TIKTOK_CLIENT_KEY", "WARTA_TIKTOK_CLIENT_SECRET", True),
              ("WARTA_THREADS_APP_ID", "WARTA_THREADS_APP_SECRET", True))


def _roles(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    roles = tuple(r.strip().lower() for r in (env.get(name) or "").split(",") if r.strip())
    unknown = [r for r in roles if r not in ("admin", "approver", "operator")]
    if unknown:
        raise SettingsError(f"{name}: unknown role {unknown[0]!r} (admin, approver, operator)")
    return roles


def _networks(env: Mapping[str, str], name: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """``127.0.0.1, 10.0.0.0/8, ::1`` into networks (a bare address is a /32 or /128)."""
    out = []
    for part in (p.strip() for p in env[name].split(",")):
        if not part:
            continue
        try:
            out.append(ip_network(part, strict=False))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an address or network "
                                "(e.g. 127.0.0.1, 10.0.0.0/8).") from None
    return tuple(out)


def _port(env: Mapping[str, str], name: str) -> int | None:
    if not env[name].strip():
        return None
    port = _int(env, name, 1)
    if port > 65535:
        raise SettingsError(f"{name}={env[name]!r} must be a port number (1-65535).")
    return port


def parse_duration(text: str, name: str) -> timedelta:
    """Parse ``90``, ``90s``, ``15m``, ``6h`` or ``2d`` into a timedelta."""
    raw = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        if raw and raw[-1] in units:
            return timedelta(seconds=float(raw[:-1]) * units[raw[-1]])
        return timedelta(seconds=float(raw))
    except ValueError:
        raise SettingsError(f"{name}={text!r} is not a duration (use e.g. 90s, 15m, 6h, 2d).") \
            from None


def _int(env: Mapping[str, str], name: str, minimum: int = 0) -> int:
    raw = env[name]
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be a whole number.") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}.")
    return value


def _percent(env: Mapping[str, str], name: str) -> int:
    value = _int(env, name, 1)
    if value > 100:
        raise SettingsError(f"{name}={value} must be at most 100.")
    return value


def _float(env: Mapping[str, str], name: str, minimum: float) -> float:
    raw = env[name]
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} must be a number.") from None
    if value < minimum:
        raise SettingsError(f"{name}={raw!r} must be at least {minimum}.")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env[name].strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name}={env[name]!r} must be 0 or 1.")


@dataclass(frozen=True)
class SmtpSettings:
    """Where notification e-mails go out (``WARTA_SMTP_*``)."""

    host: str
    port: int
    security: str
    user: str
    password: str = field(repr=False)
    sender: str
    timeout: float
    #: PEM of the authority to trust for the server's certificate ("": the system's store).
    ca_file: str = ""


SMTP_SECURITY = {"starttls": 587, "ssl": 465, "none": 25}


def _smtp(full: Mapping[str, str], public_url: str) -> SmtpSettings | None:
    """The SMTP settings, or ``None`` when e-mail is off; refuses half a configuration."""
    host = full["WARTA_SMTP_HOST"].strip()
    security = full["WARTA_SMTP_SECURITY"].strip().lower()
    if security not in SMTP_SECURITY:
        raise SettingsError(f"WARTA_SMTP_SECURITY={full['WARTA_SMTP_SECURITY']!r} must be "
                            "starttls, ssl or none.")
    if not host:
        return None
    raw_port = full["WARTA_SMTP_PORT"].strip()
    port = SMTP_SECURITY[security] if not raw_port else _int(full, "WARTA_SMTP_PORT", 1)
    if port > 65535:
        raise SettingsError(f"WARTA_SMTP_PORT={raw_port!r} must be at most 65535.")
    user, password = full["WARTA_SMTP_USER"].strip(), full["WARTA_SMTP_PASSWORD"]
    if bool(user) != bool(password):
        raise SettingsError("WARTA_SMTP_USER and WARTA_SMTP_PASSWORD: set both or neither.")
    sender = full["WARTA_SMTP_FROM"].strip()
    if "@" not in sender:
        raise SettingsError("WARTA_SMTP_HOST is set: WARTA_SMTP_FROM must be the sender's "
                            "address, e.g. Warta <warta@kab.go.id>.")
    if not public_url:
        raise SettingsError("WARTA_SMTP_HOST is set: WARTA_PUBLIC_URL must be set too (e-mails "
                            "link to the post and to the recipient's notification settings).")
    ca_file = full["WARTA_SMTP_CA_FILE"].strip()
    if ca_file and security == "none":
        raise SettingsError("WARTA_SMTP_CA_FILE is set but WARTA_SMTP_SECURITY=none sends "
                            "without TLS: choose starttls or ssl, or leave the file empty.")
    if ca_file:
        try:
            ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise SettingsError(f"WARTA_SMTP_CA_FILE={ca_file!r} cannot be read as PEM "
                                f"certificates ({type(exc).__name__}).") from None
    return SmtpSettings(host=host, port=port, security=security, user=user, password=password,
                        sender=sender, timeout=_float(full, "WARTA_SMTP_TIMEOUT", 1.0),
                        ca_file=ca_file)


def _telegram_token(full: Mapping[str, str], public_url: str) -> str:
    token = full["WARTA_NOTIFY_TELEGRAM_BOT_TOKEN"].strip()
    if token and ":" not in token:
        raise SettingsError("WARTA_NOTIFY_TELEGRAM_BOT_TOKEN does not look like a bot token "
                            "(123456789:AA…, from @BotFather).")
    if token and not public_url:
        raise SettingsError("WARTA_NOTIFY_TELEGRAM_BOT_TOKEN is set: WARTA_PUBLIC_URL must be "
                            "set too (messages link to Warta's pages).")
    url = full["WARTA_NOTIFY_TELEGRAM_API_URL"].strip()
    if not url.startswith(("http://", "https://")):
        raise SettingsError(f"WARTA_NOTIFY_TELEGRAM_API_URL={url!r} must start with https://.")
    return token


def _telegram_updates(full: Mapping[str, str], public_url: str) -> str:
    """``poll`` or ``webhook``; Telegram only delivers webhooks to an https URL."""
    mode = full["WARTA_NOTIFY_TELEGRAM_UPDATES"].strip().lower() or "poll"
    if mode not in ("poll", "webhook"):
        raise SettingsError(f"WARTA_NOTIFY_TELEGRAM_UPDATES={mode!r} must be poll or webhook.")
    if mode == "webhook" and not full["WARTA_NOTIFY_TELEGRAM_BOT_TOKEN"].strip():
        raise SettingsError("WARTA_NOTIFY_TELEGRAM_UPDATES=webhook needs "
                            "WARTA_NOTIFY_TELEGRAM_BOT_TOKEN (the bot whose updates come).")
    if mode == "webhook" and not public_url.startswith("https://"):
        raise SettingsError("WARTA_NOTIFY_TELEGRAM_UPDATES=webhook needs WARTA_PUBLIC_URL with "
                            f"https:// (Telegram posts only to https; it is {public_url!r}).")
    return mode


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    encryption_key: str
    media_dir: Path
    max_upload_bytes: int
    timezone: str
    poll_seconds: float
    worker_threads: int
    upload_threads: int
    heartbeat_seconds: float
    worker_dead_after: float
    lease_seconds: int
    max_attempts: int
    missed_after: timedelta
    allow_self_approval: bool
    public_url: str
    sandbox_outbox: Path
    log_level: str
    #: every WARTA_<PLATFORM>_* variable, for adapters (see platform_settings()).
    extra: Mapping[str, str] = field(default_factory=dict)
    #: how many reverse proxies' X-Forwarded-* headers to believe (werkzeug's ProxyFix).
    trusted_proxies: int = 0
    #: platform apps for "Connect with …" (empty: that button is not shown).
    x_client_id: str = ""
    x_client_secret: str = field(default="", repr=False)
    youtube_client_id: str = ""
    youtube_client_secret: str = field(default="", repr=False)
    meta_app_id: str = ""
    meta_app_secret: str = field(default="", repr=False)
    tiktok_client_key: str = ""
    tiktok_client_secret: str = field(default="", repr=False)
    threads_app_id: str = ""
    threads_app_secret: str = field(default="", repr=False)
    #: roles that must set up a TOTP second factor before using Warta (WARTA_REQUIRE_TOTP).
    require_totp: tuple[str, ...] = ()
    #: notification e-mails (``None``: e-mail is off).
    smtp: SmtpSettings | None = None
    #: the bot for notification direct messages (empty: Telegram is off).
    notify_telegram_token: str = field(default="", repr=False)
    notify_telegram_api_url: str = "https://api.telegram.org"
    #: "poll" (the worker calls getUpdates) or "webhook" (POST /telegram/pembaruan).
    notify_telegram_updates: str = "poll"
    #: "text" or "json" (WARTA_LOG_FORMAT).
    log_format: str = "text"
    #: /readyz wants a worker heartbeat this recent; None: workers are not checked.
    ready_worker_within: timedelta | None = timedelta(seconds=60)
    #: who may read /metrics: a Bearer token and/or client networks (neither: 404).
    metrics_token: str = field(default="", repr=False)
    metrics_allow: tuple[IPv4Network | IPv6Network, ...] = ()
    #: s3://bucket/prefix, or "" for the local media folder (WARTA_MEDIA_URL).
    media_url: str = ""
    #: "store" (presigned where the store has them) or "warta" (always the signed /m/ links).
    media_links: str = "store"
    s3_endpoint_url: str = ""
    s3_region: str = ""
    s3_access_key_id: str = ""
    s3_secret_access_key: str = field(default="", repr=False)
    #: where a worker serves its own metrics (None: it does not).
    worker_metrics_port: int | None = None
    #: how long per-unit figures are reused (WARTA_FIGURES_CACHE_SECONDS; 0: never).
    figures_cache_seconds: int = 60
    #: months after which comment authors and texts are removed (0: kept; issue 19).
    inbox_retention_months: int = 0
    #: Meta API usage (%) at which comment reads stop so publishing keeps its room (issue 19).
    comments_max_usage_percent: int = 75
    worker_metrics_addr: str = "127.0.0.1"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def platform_settings(self, platform: str) -> tuple[str | None, dict[str, str]]:
        """The base URL and the other knobs of one platform's adapter.

        ``WARTA_YOUTUBE_API_URL`` is the base URL; ``WARTA_YOUTUBE_UPLOAD_URL`` becomes
        ``{"upload_url": ...}``.
        """
        prefix = f"WARTA_{platform.upper()}_"
        knobs = {k[len(prefix):].lower(): v for k, v in self.extra.items()
                 if k.startswith(prefix)}
        # instagram_ must not swallow instagram_graph_ variables
        if platform == "instagram":
            knobs = {k: v for k, v in knobs.items() if not k.startswith("graph_")}
        base = knobs.pop("api_url", None) or None
        if platform == "sandbox":
            knobs.setdefault("outbox", str(self.sandbox_outbox))
        return base, knobs

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def load_settings(env: Mapping[str, str] | None = None, *, dotenv: str | None = ".env") -> Settings:
    """Read settings from ``env`` (default: ``.env`` then the process environment)."""
    merged: dict[str, str] = {}
    if env is None:
        if dotenv and Path(dotenv).is_file():
            merged.update({k: v for k, v in dotenv_values(dotenv).items() if v is not None})
        merged.update(os.environ)
    else:
        merged.update(env)
    full = {name: merged.get(name, default) for name, (default, _) in VARIABLES.items()}
    tz = full["WARTA_TIMEZONE"]
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(f"WARTA_TIMEZONE={tz!r} is not a known time zone "
                            "(e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura).") from None
    level = full["WARTA_LOG_LEVEL"].upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"WARTA_LOG_LEVEL={level!r} must be DEBUG, INFO, WARNING or ERROR.")
    public_url = full["WARTA_PUBLIC_URL"].rstrip("/")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise SettingsError(f"WARTA_PUBLIC_URL={public_url!r} must start with https://.")
    for id_var, secret_var, secret_required in OAUTH_APPS:
        full[id_var], full[secret_var] = full[id_var].strip(), full[secret_var].strip()
        if full[secret_var] and not full[id_var]:
            raise SettingsError(f"{secret_var} is set but {id_var} is empty; set both or neither.")
        if secret_required and full[id_var] and not full[secret_var]:
            raise SettingsError(f"{id_var} is set but {secret_var} is empty; set both or neither.")
    extra = {k: v for k, v in merged.items() if k.startswith("WARTA_") and k not in VARIABLES}
    beat = _float(full, "WARTA_HEARTBEAT_SECONDS", 0.1)
    if _float(full, "WARTA_WORKER_DEAD_AFTER", 1.0) < 3 * beat:
        # A worker missing one beat (a slow disk, a busy CPU) must not be declared dead.
        raise SettingsError(f"WARTA_WORKER_DEAD_AFTER={full['WARTA_WORKER_DEAD_AFTER']!r} must "
                            "be at least three heartbeats (WARTA_HEARTBEAT_SECONDS).")
    log_format = full["WARTA_LOG_FORMAT"].strip().lower()
    if log_format not in ("text", "json"):
        raise SettingsError(f"WARTA_LOG_FORMAT={full['WARTA_LOG_FORMAT']!r} must be text or json.")
    media_url = full["WARTA_MEDIA_URL"].strip()
    media_links = full["WARTA_MEDIA_LINKS"].strip().lower()
    if media_links not in ("store", "warta"):
        raise SettingsError(f"WARTA_MEDIA_LINKS={full['WARTA_MEDIA_LINKS']!r} must be store or "
                            "warta.")
    if media_links == "warta" and not full["WARTA_PUBLIC_URL"].strip():
        raise SettingsError("WARTA_MEDIA_LINKS=warta needs WARTA_PUBLIC_URL: the platforms "
                            "fetch Warta's /m/ links from there.")
    if media_url and (not media_url.startswith("s3://") or not media_url[5:].split("/")[0]):
        raise SettingsError(f"WARTA_MEDIA_URL={media_url!r} must be s3://bucket or "
                            "s3://bucket/prefix (or empty for the local folder).")
    if bool(full["WARTA_S3_ACCESS_KEY_ID"].strip()) != bool(
            full["WARTA_S3_SECRET_ACCESS_KEY"].strip()):
        raise SettingsError("WARTA_S3_ACCESS_KEY_ID and WARTA_S3_SECRET_ACCESS_KEY: set both or "
                            "neither.")
    ready_within = parse_duration(full["WARTA_READY_WORKER_WITHIN"], "WARTA_READY_WORKER_WITHIN")
    return Settings(
        database_url=full["WARTA_DATABASE_URL"],
        secret_key=full["WARTA_SECRET_KEY"],
        encryption_key=full["WARTA_ENCRYPTION_KEY"],
        media_dir=Path(full["WARTA_MEDIA_DIR"]),
        max_upload_bytes=_int(full, "WARTA_MAX_UPLOAD_MB", 1) * 1024 * 1024,
        timezone=tz,
        poll_seconds=_float(full, "WARTA_POLL_SECONDS", 0.05),
        worker_threads=_int(full, "WARTA_WORKER_THREADS", 1),
        upload_threads=_int(full, "WARTA_UPLOAD_THREADS", 1),
        heartbeat_seconds=_float(full, "WARTA_HEARTBEAT_SECONDS", 0.1),
        worker_dead_after=_float(full, "WARTA_WORKER_DEAD_AFTER", 1.0),
        lease_seconds=_int(full, "WARTA_LEASE_SECONDS", 5),
        max_attempts=_int(full, "WARTA_MAX_ATTEMPTS", 1),
        missed_after=parse_duration(full["WARTA_MISSED_AFTER"], "WARTA_MISSED_AFTER"),
        allow_self_approval=_bool(full, "WARTA_ALLOW_SELF_APPROVAL"),
        figures_cache_seconds=_int(full, "WARTA_FIGURES_CACHE_SECONDS", 0),
        inbox_retention_months=_int(full, "WARTA_INBOX_RETENTION_MONTHS", 0),
        comments_max_usage_percent=_percent(full, "WARTA_COMMENTS_MAX_USAGE_PERCENT"),
        public_url=public_url,
        sandbox_outbox=Path(full["WARTA_SANDBOX_OUTBOX"]),
        log_level=level,
        extra=extra,
        trusted_proxies=_int(full, "WARTA_TRUSTED_PROXIES", 0),
        x_client_id=full["WARTA_X_CLIENT_ID"],
        x_client_secret=full["WARTA_X_CLIENT_SECRET"],
        youtube_client_id=full["WARTA_YOUTUBE_CLIENT_ID"],
        youtube_client_secret=full["WARTA_YOUTUBE_CLIENT_SECRET"],
        meta_app_id=full["WARTA_META_APP_ID"],
        meta_app_secret=full["WARTA_META_APP_SECRET"],
        tiktok_client_key=full["WARTA_TIKTOK_CLIENT_KEY"],
        tiktok_client_secret=full["WARTA_TIKTOK_CLIENT_SECRET"],
        threads_app_id=full["WARTA_THREADS_APP_ID"],
        threads_app_secret=full["WARTA_THREADS_APP_SECRET"],
        require_totp=_roles(full, "WARTA_REQUIRE_TOTP"),
        smtp=_smtp(full, public_url),
        notify_telegram_token=_telegram_token(full, public_url),
        notify_telegram_api_url=full["WARTA_NOTIFY_TELEGRAM_API_URL"].strip().rstrip("/"),
        notify_telegram_updates=_telegram_updates(full, public_url),
        log_format=log_format,
        ready_worker_within=ready_within if ready_within.total_seconds() > 0 else None,
        media_url=media_url,
        media_links=media_links,
        s3_endpoint_url=full["WARTA_S3_ENDPOINT_URL"].strip(),
        s3_region=full["WARTA_S3_REGION"].strip(),
        s3_access_key_id=full["WARTA_S3_ACCESS_KEY_ID"].strip(),
        s3_secret_access_key=full["WARTA_S3_SECRET_ACCESS_KEY"].strip(),
        metrics_token=full["WARTA_METRICS_TOKEN"].strip(),
        metrics_allow=_networks(full, "WARTA_METRICS_ALLOW"),
        worker_metrics_port=_port(full, "WARTA_WORKER_METRICS_PORT"),
        worker_metrics_addr=full["WARTA_WORKER_METRICS_ADDR"].strip() or "127.0.0.1",
    )
