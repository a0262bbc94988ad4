"""Static files under fingerprinted URLs, cached by browsers and proxies for a year.

Every ``url_for('static', filename=...)`` gets ``?v=<first 12 hex digits of the file's
SHA-256>``; an answer to a URL whose ``v`` is the file's current fingerprint is
``immutable`` for a year, since a changed file gets a new URL. Any other request for a static
file (no ``v``, an old one, or a file a stylesheet names by a relative path) is ``no-cache``:
kept, but checked again each time (werkzeug's ETag makes that a 304). Without this, every
page view asked again for the stylesheet, the scripts and htmx.

A fingerprint is computed once per file and version: the cache is keyed by path, and a changed
size or modification time (an edit while ``warta serve`` runs) computes it again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from typing import Any

from flask import Flask, request
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

#: Query argument carrying the fingerprint.
ARG = "v"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class Fingerprints:
    """The fingerprint of each static file, computed when first asked and kept in memory."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[int, int, str]] = {}

    def of(self, folder: str, filename: str) -> str | None:
        """``filename``'s fingerprint in ``folder``, or ``None`` when it is not a file there
        (the URL is then built without one, and its answer is a 404)."""
        path = safe_join(folder, filename)
        if path is None:
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode):
            return None
        known = self._known.get(path)
        if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
            return known[2]
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 16), b""):
                digest.update(block)
        fingerprint = digest.hexdigest()[:12]
        # Two threads may compute the same file at once; both store the same value.
        self._known[path] = (st.st_mtime_ns, st.st_size, fingerprint)
        return fingerprint


def install(app: Flask) -> Fingerprints:
    """Fingerprint the static URLs ``app`` builds and set the cache policy of its static
    answers (called once by ``create_app``)."""
    prints = Fingerprints()
    app.extensions["warta.fingerprints"] = prints

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and ARG not in values and app.static_folder:
            fingerprint = prints.of(app.static_folder, str(values.get("filename", "")))
            if fingerprint is not None:
                values[ARG] = fingerprint

    @app.after_request
    def _static_cache(response: Response) -> Response:
        if request.endpoint != "static":
            return response
        asked = request.args.get(ARG)
        filename = str((request.view_args or {}).get("filename", ""))
        current = prints.of(app.static_folder, filename) if app.static_folder else None
        if asked and response.status_code in (200, 304) and asked == current:
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = REVALIDATE
        response.headers.pop("Expires", None)
        return response

    return prints
