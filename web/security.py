"""The server's edge: how much of a body a request may send, which headers every answer
carries, which proxies are believed, and where a login may send the browser next.

Everything here is decided before a view runs or after it returns, so no route can forget it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from publisher.services.bulk_files import MAX_FILE_BYTES, MAX_TEXT_BYTES
from publisher.services.query_args import MAX_ID

#: Largest body of a request that is not an upload (JSON, forms): far above any real post.
BODY_LIMIT = 1024 * 1024

#: Endpoints that take files; only these accept bodies up to the upload limit (streamed to
#: disk by werkzeug's form parser, then by ``store_upload``).
UPLOAD_ENDPOINTS = frozenset({"api.upload_media", "posts.upload", "posts.new", "posts.edit"})

#: The bulk import's two posts, with their own limits: the spreadsheet (its size limit, plus
#: the form around it), and the preview's signed rows sent back to be created (one hidden
#: field far above werkzeug's 500 kB per field: the rows' text, compressed, in base64).
IMPORT_LIMITS = {"posts.import_check": MAX_FILE_BYTES + 64 * 1024,
                 "posts.import_create": 2 * MAX_TEXT_BYTES}

#: No inline script or style, no plugins, no framing, forms and fetches back to us only.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "media-src 'self' blob:; font-src 'self'; connect-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

#: Endpoints whose answers a browser or proxy may keep: static files and the signed public
#: media links (which are unguessable and expire). Everything else is private.
CACHEABLE_ENDPOINTS = frozenset({"static", "public_media.public_media"})


class BoundedInt(IntegerConverter):
    """werkzeug's ``int`` converter, limited to what an id column holds."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def install(app: Flask, *, upload_limit: int, https: bool, trusted_proxies: int) -> None:
    """Attach the edge rules to ``app`` (called once by ``create_app``)."""
    app.config.update(MAX_CONTENT_LENGTH=BODY_LIMIT,
                      SESSION_COOKIE_SECURE=https, REMEMBER_COOKIE_SECURE=https,
                      PREFERRED_URL_SCHEME="https" if https else "http")
    # Every <int:…> in a route holds at most an id column's value: a bigger number is a 404 from the
    # router, never a database error (must be set before the blueprints are registered).
    app.url_map.converters["int"] = BoundedInt
    if trusted_proxies > 0:
        n = trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n,  # type: ignore[method-assign]
                                x_port=n, x_prefix=n)

    @app.before_request
    def _body_limit() -> None:
        # Runs before anything reads the body (CSRF's check reads the form): an upload route
        # takes the upload limit, but only for a logged-in browser (or the API, which checks
        # its token before reading); every other request gets the small limit, and werkzeug
        # answers 413 without reading further.
        if request.endpoint in UPLOAD_ENDPOINTS and (
                request.blueprint == "api" or getattr(current_user, "is_authenticated", False)):
            request.max_content_length = upload_limit
        elif request.endpoint in IMPORT_LIMITS and getattr(current_user, "is_authenticated",
                                                           False):
            request.max_content_length = request.max_form_memory_size = \
                IMPORT_LIMITS[request.endpoint]

    @app.before_request
    def _no_nul():  # type: ignore[no-untyped-def]
        # PostgreSQL cannot store a NUL character in text; refuse it here for every query
        # argument and form field, by name, instead of a database error later.
        # (Not the API's forms: its upload must check the token before the body is read; its
        # JSON bodies are checked by ``parse_body``.)
        fields = [request.args]
        if request.blueprint != "api" and request.mimetype in (
                "application/x-www-form-urlencoded", "multipart/form-data"):
            fields.append(request.form)
        for values in fields:
            for name, value in values.items(multi=True):
                if "\x00" in name or "\x00" in value:
                    from web.errors import json_error

                    return json_error(400, "bad_request", f"'{name}' berisi karakter NUL.",
                                      f"'{name}' contains a NUL character.",
                                      {name: "NUL character not allowed"})
        return None

    @app.before_request
    def _json_is_an_object():  # type: ignore[no-untyped-def]
        # The pages' JSON (the calendar's drag) and Flask-WTF's forms, which read a JSON body
        # as their form data, expect an object: a list or a number was a 500. (The API's
        # bodies are checked by ``parse_body``, after its token.)
        # (Nor the Telegram webhook's: its secret header is checked before the body is read.)
        if request.blueprint in ("api", "telegram_hook") or not request.is_json \
                or not request.content_length:
            return None
        if not isinstance(request.get_json(silent=True), dict):
            from web.errors import json_error

            return json_error(400, "bad_json", "Badan permintaan harus berupa objek JSON.",
                              "The request body must be a JSON object.",
                              {"body": "JSON object"})
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https or request.is_secure:
            h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint not in CACHEABLE_ENDPOINTS:
            # Pages and private media name people, drafts and unpublished photos: a shared
            # computer's cache or a proxy must not keep them.
            h["Cache-Control"] = "private, no-store"
            h.pop("Expires", None)
        return response


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site as a browser would read it, else ``None``.

    Browsers drop tabs and newlines anywhere in a URL and treat ``\\`` as ``/``, so
    ``/\\tevil.example`` and ``/\\\\evil.example`` are ``//evil.example`` to them: a
    scheme-relative link off-site. Refuse any control character or backslash rather than
    guess, then require a path without scheme or host.
    """
    if not target or not target.startswith("/"):
        return None
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
