"""The application factory. Importing this module builds nothing; ``create_app`` does."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from publisher.config import Settings
from publisher.core import Core, build_core
from publisher.db import READ_ONLY
from publisher.logs import configure_logging, redact_existing_handlers
from publisher.models import User
from web.errors import json_error
from web.extensions import babel, csrf, login_manager

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

#: Key of the Flask session holding the user's session version at login.
SESSION_VERSION = "_sv"


def get_core() -> Core:
    from flask import current_app

    return current_app.extensions["warta.core"]


#: Requests that only read (RFC 9110 safe methods).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_on_get(view: F) -> F:
    """Mark a view whose GET must write (an OAuth callback: the platform sends the browser
    back with a GET that creates the channel): its session is a normal write session."""
    view.writes_on_get = True  # type: ignore[attr-defined]
    return view


def db():  # type: ignore[no-untyped-def]
    """The request's database session (closed at teardown).

    On SQLite every transaction begins ``IMMEDIATE`` (the write lock), which a claim needs; a
    page that only reads then held the lock for its whole render, so twenty officers' pages
    (and a year's report) ran one after another, and requests holding a pooled connection
    waited on the lock while the lock's holder waited for a connection (``bench/load.py``:
    stalls, "database is locked"). A safe request's session begins deferred and reads a WAL
    snapshot beside the others. It must not write: the few GET handlers that record
    something (the bell's "seen" time, a token's last use) do it in their own short
    transaction, and ``WARTA_STRICT_SAFE_REQUESTS`` (on by default under ``TESTING``) makes
    a flush from a safe request's session an error, so a new one cannot slip in."""
    if "db" not in g:
        from flask import current_app, has_request_context

        core = get_core()
        safe = has_request_context() and request.method in SAFE_METHODS
        if safe and request.endpoint:
            view = current_app.view_functions.get(request.endpoint)
            safe = not getattr(view, "writes_on_get", False)
        if safe and core.engine.dialect.name == "sqlite":
            g.db = core.sessions(bind=core.engine.execution_options(**{READ_ONLY: True}))
        else:
            g.db = core.sessions()
        if safe:
            _guard_safe_session(g.db)
    return g.db


def _guard_safe_session(session) -> None:  # type: ignore[no-untyped-def]
    from flask import current_app
    from sqlalchemy import event

    strict = bool(current_app.config.get("WARTA_STRICT_SAFE_REQUESTS", current_app.testing))
    path = request.path

    @event.listens_for(session, "before_flush")
    def _no_writes(sess, _ctx, _instances) -> None:  # type: ignore[no-untyped-def]
        if not (sess.new or sess.dirty or sess.deleted):
            return
        if strict:
            raise RuntimeError(f"a {request.method} request wrote through its read session "
                               f"({path}); write in a short transaction of its own")
        log.warning("a safe request wrote through its read session (%s)", path)


def select_locale() -> str:
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in ("id", "en"):
        return current_user.locale
    return request.cookies.get("lang", "id") if request else "id"


def create_app(settings: Settings | None = None, *, core: Core | None = None) -> Flask:
    core = core or build_core(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=core.settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE="id",
        BABEL_DEFAULT_TIMEZONE=core.settings.timezone,
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.extensions["warta.core"] = core
    from web.ui.figures_cache import FiguresCache

    app.extensions["warta.figures"] = FiguresCache(core.settings.figures_cache_seconds)
    if not logging.getLogger().handlers:
        configure_logging(core.settings.log_level, core.settings.log_format)
    redact_existing_handlers(app.logger, logging.getLogger("gunicorn.error"),
                             logging.getLogger("gunicorn.access"),
                             json_lines=core.settings.log_format == "json")

    from web import assets, security

    security.install(app, upload_limit=core.settings.max_upload_bytes + 1024 * 1024,
                     https=core.settings.public_url.startswith("https://"),
                     trusted_proxies=core.settings.trusted_proxies)
    assets.install(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Silakan masuk terlebih dahulu."
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)

    @login_manager.user_loader
    def _load_user(user_id: str) -> User | None:
        """The session's user, if it is still active and the session was opened with the
        user's current session version (logout, a password change or deactivation bump it,
        ending every session at once)."""
        from flask import session as cookie

        try:
            user = db().get(User, int(user_id))
        except (TypeError, ValueError):
            return None
        if user is None or not user.active:
            return None
        return user if cookie.get(SESSION_VERSION, 0) == (user.session_version or 0) else None

    @app.teardown_appcontext
    def _close_db(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()

    from web.api import bp as api_bp

    csrf.exempt(api_bp)
    app.register_blueprint(api_bp, url_prefix="/api/v1")
    from web.media_public import bp as media_bp

    app.register_blueprint(media_bp)
    from web.ops import bp as ops_bp
    from web.telegram_hook import bp as telegram_hook_bp

    csrf.exempt(telegram_hook_bp)
    app.register_blueprint(telegram_hook_bp)

    app.register_blueprint(ops_bp)

    @app.get("/favicon.ico")
    def favicon():  # type: ignore[no-untyped-def]
        # Browsers ask for it on every page; a 404 there filled the logs.
        return app.send_static_file("favicon.ico")

    _register_ui(app)
    _register_errors(app)
    return app


def _register_ui(app: Flask) -> None:
    """The browser UI's blueprints (each optional, so the API stands on its own)."""
    import importlib

    for name in ("web.ui", "web.reports", "web.public"):
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(app)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def _register_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if _wants_json():
            code = {404: "not_found", 405: "method_not_allowed", 413: "too_large",
                    400: "bad_request", 401: "unauthorized", 403: "forbidden"}.get(
                        exc.code or 500, "error")
            if exc.code == 413:
                limit = request.max_content_length or 0
                mb = f"{limit / (1024 * 1024):g}"
                return json_error(413, code, f"Permintaan terlalu besar (batas {mb} MB).",
                                  f"The request is too large (limit {mb} MB).",
                                  {"body": f"max {mb} MB"})
            return json_error(exc.code or 500, code, exc.description or "")
        try:
            # A view's own sentence (``abort(400, description=...)``, already in the
            # user's language) is said as it is; werkzeug's default stays hidden.
            said = exc.description if exc.description != type(exc).description else None
            return render_template("error.html", code=exc.code, exc=exc,
                                   said=said), exc.code
        except Exception:  # noqa: BLE001 - never let an error page raise
            return f"{exc.code} {exc.name}", exc.code

    @app.errorhandler(Exception)
    def _crash(exc: Exception):  # type: ignore[no-untyped-def]
        log.exception("unhandled error on %s %s", request.method, request.path)
        if _wants_json():
            return json_error(500, "internal",
                              "Terjadi kesalahan di server; kejadian ini sudah dicatat.",
                              "Server error; it has been logged.")
        try:
            return render_template("error.html", code=500, exc=None), 500
        except Exception:  # noqa: BLE001
            return "500 Internal Server Error", 500
