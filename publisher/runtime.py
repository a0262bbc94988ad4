"""Turning database rows into what an adapter takes: its context and the outgoing post."""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import requests

from adapters import get_adapter_class
from adapters.base import AdapterContext, BaseAdapter, Credentials, MediaFile, OutgoingPost
from adapters.errors import remember_secrets, secret_values
from publisher.core import Core
from publisher.mediafiles import PUBLIC_URL_SECONDS, convert_image, sign_media_path
from publisher.models import Channel, Post, Publication
from publisher.observability.instruments import instrument
from publisher.storage import MediaStorage, storage_for

_local = threading.local()


def http_session() -> requests.Session:
    """One HTTP session per worker thread: connections (and TLS handshakes) to a platform are
    reused across publications instead of being set up for every call."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def channel_credentials(core: Core, channel: Channel) -> dict[str, Any]:
    return core.box.open(channel.credentials_encrypted)


def build_adapter(core: Core, platform: str, credentials: dict[str, Any], *,
                  state: dict[str, Any] | None = None,
                  save_credentials: Callable[[Credentials], None] | None = None,
                  progress: Callable[[int, int], None] | None = None,
                  save_state: Callable[[], None] | None = None) -> BaseAdapter:
    cls = get_adapter_class(platform)
    # From here on every log line and error detail of this process has these values removed,
    # whatever their shape (redaction by pattern alone misses a token pasted oddly).
    remember_secrets(secret_values(credentials, [name for name, _label, secret in
                                                 getattr(cls, "credential_fields", ())
                                                 if secret]))
    base_url, knobs = core.settings.platform_settings(platform)
    # WARTA_<PLATFORM>_TIMEOUT: the HTTP timeout of every call (30 s; tests make it short).
    timeout = float(knobs.get("timeout") or 30.0)
    ctx = AdapterContext(credentials=credentials, base_url=base_url, settings=knobs,
                         timeout=timeout, state=state if state is not None else {}, now=core.clock,
                         http=http_session())
    if save_credentials is not None:
        ctx.save_credentials = save_credentials
    if progress is not None:
        ctx.progress = progress
    if save_state is not None:
        ctx.save_state = save_state
    return instrument(cls(ctx), platform)


def effective_content(post: Post, channel_id: int) -> tuple[str, str | None, dict[str, Any]]:
    """Body, title and options for one channel: the post's, with that channel's override."""
    return effective_content_of(post.body, post.overrides, channel_id)


def effective_content_of(body: str, overrides: dict[str, Any] | None,
                         channel_id: int) -> tuple[str, str | None, dict[str, Any]]:
    override = (overrides or {}).get(str(channel_id)) or {}
    return override.get("body") or body, override.get("title"), dict(override.get("options") or {})


def media_for_channel(media: Sequence[Any], overrides: dict[str, Any] | None,
                      channel_id: int) -> list[Any]:
    """The post's media this channel gets: the operator's choice for it (the ``media``
    override, see ``services/channel_media.py``), in the post's order; all of them without
    a choice."""
    chosen = ((overrides or {}).get(str(channel_id)) or {}).get("media")
    if not chosen:
        return list(media)
    wanted = set(chosen)
    return [m for m in media if m.id in wanted]


def outgoing_post(core: Core, publication: Publication,
                  adapter_cls: type[BaseAdapter]) -> OutgoingPost:
    post = publication.post
    return build_outgoing(core, adapter_cls, pub_id=publication.id, body=post.body,
                          overrides=post.overrides, channel_id=publication.channel_id,
                          link=post.link, media=post.media,
                          scheduled_at=publication.scheduled_at,
                          alts={link.media_id: link.alt_text or "" for link in post.media_links})


def build_outgoing(core: Core, adapter_cls: type[BaseAdapter], *, pub_id: int, body: str,
                   overrides: dict[str, Any] | None, channel_id: int, link: str | None,
                   media: Sequence[Any], scheduled_at: datetime | None,
                   alts: Mapping[int, str] | None = None) -> OutgoingPost:
    """The post as the adapter will publish it: the channel's override applied, images
    converted where the platform needs it, public URLs signed where it fetches media.

    ``alts`` is the post's alt text per media id (``post_media.alt_text``, inside the
    approval hash) — never the library asset's own default, which may have changed since."""
    text, title, options = effective_content_of(body, overrides, channel_id)
    media = media_for_channel(media, overrides, channel_id)
    caps = adapter_cls.caps
    media_dir = core.settings.media_dir
    storage = storage_for(core.settings)
    files: list[MediaFile] = []
    for asset in media:
        mime, width, height, size = asset.mime, asset.width, asset.height, asset.size
        rel = asset.path
        aspect = adapter_cls.image_aspect_for(options)
        converts = asset.kind == "image" and bool(caps.image_mimes or aspect)
        reader = None
        if caps.media_by_range and not converts:
            path, reader = _ranged(storage, asset.path)
        else:
            # A local file for the adapter to read (object storage: this machine's copy)
            path = storage.local_path(asset.path)
        if converts:
            converted, mime, width, height = convert_image(path, media_dir, caps.image_mimes,
                                                           aspect)
            if converted != path:
                rel = Path(converted).relative_to(media_dir).as_posix()
                _keep_derived(storage, Path(converted), rel)
            path = converted
            size = path.stat().st_size
        public_url = None
        if caps.needs_public_urls:
            # The store's own link where it has one (a presigned GET), else Warta's signed
            # one; WARTA_MEDIA_LINKS=warta always Warta's (a store inside the intranet).
            public_url = (storage.url_for(rel, PUBLIC_URL_SECONDS)
                          if core.settings.media_links == "store" else None)
            if public_url is None and core.settings.public_url:
                token = sign_media_path(core.settings.secret_key, rel)
                public_url = f"{core.settings.public_url}/m/{token}{Path(rel).suffix}"
        files.append(MediaFile(path=str(path), kind=asset.kind, mime=mime, size=size,
                               sha256=asset.sha256, width=width, height=height,
                               duration=asset.duration, public_url=public_url,
                               alt_text=(alts or {}).get(asset.id, "") or "",
                               read_range=reader))
    return OutgoingPost(key=f"warta-{pub_id}", body=text, media=tuple(files), link=link,
                        title=title, options=options, scheduled_at=scheduled_at)


def _ranged(storage: MediaStorage,
            key: str) -> tuple[Path, Callable[[int, int], bytes] | None]:
    """For an adapter that reads by range: this machine's file of ``key`` if it has one, else
    the object's name and a reader of its byte ranges, so a large video in object storage is
    sent chunk by chunk from the bucket instead of being downloaded whole first. The object is
    asked for now (``FileNotFoundError`` / ``StorageUnavailable`` before any platform call,
    as ``local_path`` would)."""
    local = storage.cached_path(key)
    if local is not None:
        return local, None
    storage.size(key)
    return Path(key), functools.partial(storage.read_range, key)


def _keep_derived(storage: MediaStorage, path: Path, key: str) -> None:
    """A converted copy made on this machine is stored like any medium (once), so a link to
    it works whichever machine serves it. The local folder already holds it where it is."""
    if storage.exists(key):
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    shutil.copyfile(path, tmp)
    storage.put_file(Path(tmp), key)


def preview_post(post: Post, channel: Channel, media_dir: Path) -> OutgoingPost:
    """The outgoing post for validation before approval (no conversion, no URLs)."""
    body, title, options = effective_content(post, channel.id)
    alts = {link.media_id: link.alt_text or "" for link in post.media_links}
    files = tuple(MediaFile(path=str(media_dir / a.path), kind=a.kind, mime=a.mime,  # type: ignore[arg-type]
                            size=a.size, sha256=a.sha256, width=a.width, height=a.height,
                            duration=a.duration, alt_text=alts.get(a.id, ""))
                  for a in media_for_channel(post.media, post.overrides, channel.id))
    return OutgoingPost(key=f"warta-preview-{post.id}", body=body, media=files, link=post.link,
                        title=title, options=options, scheduled_at=post.scheduled_at)
