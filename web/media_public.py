"""Unguessable, expiring public URLs for media that a platform fetches itself (Instagram
Graph). Everything else about media requires a login; these links die after 24 hours."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_file

from publisher.mediafiles import unsign_media_path
from publisher.storage import UnsafeKey, storage_for

bp = Blueprint("public_media", __name__)


@bp.get("/m/<token>")
def public_media(token: str):  # type: ignore[no-untyped-def]
    from web.app import get_core

    core = get_core()
    rel = unsign_media_path(core.settings.secret_key, Path(token).stem if "." in token else token)
    if rel is None:
        abort(404)
    try:
        path = storage_for(core.settings).local_path(rel).resolve()
    except (UnsafeKey, FileNotFoundError):
        abort(404)
    return send_file(path, max_age=3600)
