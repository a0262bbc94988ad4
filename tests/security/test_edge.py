"""The server at the edge: the API's token is checked before a body is read, bodies are
bounded (uploads alone take the upload limit), a login never redirects off-site, and every
answer carries the security headers (HSTS and Secure cookies when served over https)."""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator

import pytest
from PIL import Image

from publisher.models import Role
from web.security import CSP, safe_next


@pytest.fixture
def live_app(app) -> Iterator[tuple[str, int]]:  # type: ignore[no-untyped-def]
    """The app behind werkzeug's threaded server on a free port, for raw-socket tests."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()


def _answer_before_body(addr: tuple[str, int], path: str, headers: dict[str, str],
                        length: int) -> bytes:
    """Send only the request's head, announcing ``length`` bytes of body, and return what the
    server answers without being sent a single byte of it (empty if it waits for the body)."""
    with socket.create_connection(addr, timeout=30) as sock:
        head = [f"POST {path} HTTP/1.1", f"Host: {addr[0]}:{addr[1]}",
                f"Content-Length: {length}", *[f"{k}: {v}" for k, v in headers.items()]]
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sock.settimeout(15)  # generous: the machine is shared; an answer comes in milliseconds
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return answer


def test_api_refuses_an_anonymous_body_without_reading_it(live_app):  # type: ignore[no-untyped-def]
    # 40 MB announced, none sent: the 401 must come first (a server reading the body would
    # wait for it, and before the fix held all of it in memory to parse the JSON).
    answer = _answer_before_body(live_app, "/api/v1/posts",
                                 {"Content-Type": "application/json"}, 40 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b"unauthorized" in answer


def test_api_upload_refuses_an_anonymous_body_without_reading_it(live_app):  # type: ignore[no-untyped-def]
    answer = _answer_before_body(live_app, "/api/v1/media",
                                 {"Content-Type": "multipart/form-data; boundary=x"},
                                 4 * 1024 * 1024)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]


def test_json_route_takes_at_most_a_megabyte(make_user, api_as):  # type: ignore[no-untyped-def]
    api = api_as(make_user(Role.OPERATOR))
    body = '{"body": "' + "x" * (1024 * 1024 + 10) + '"}'
    r = api.post("/posts", data=body, content_type="application/json")
    assert r.status_code == 413
    err = r.get_json()["error"]
    assert err["code"] == "too_large" and "1 MB" in err["message_en"]
    assert err["fields"] == {"body": "max 1 MB"}


def test_upload_route_takes_the_upload_limit(make_user, api_as):  # type: ignore[no-untyped-def]
    # WARTA_MAX_UPLOAD_MB=5 in the tests: a 2 MB photo is more than a JSON route takes but
    # well within an upload's limit.
    buf = io.BytesIO()
    Image.effect_noise((1200, 1200), 100).convert("RGB").save(buf, "PNG")
    assert buf.tell() > 1024 * 1024
    buf.seek(0)
    r = api_as(make_user(Role.OPERATOR)).post("/media", data={"file": (buf, "noise.png")},
                                              content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()


def test_ui_upload_from_an_anonymous_browser_gets_the_small_limit(app):  # type: ignore[no-untyped-def]
    # Without a login the upload route is an ordinary route: the CSRF check would otherwise
    # spool the whole upload to disk before the login check refuses it.
    r = app.test_client().post("/media/unggah", data={"file": (io.BytesIO(b"x" * 2 * 1024 * 1024),
                                                               "a.png")})
    assert r.status_code == 413


@pytest.mark.parametrize("target", [
    "/%09/evil.example", "/\t/evil.example", "//evil.example", "/\\evil.example",
    "\\\\evil.example", "/\\/evil.example", "/\r\n/evil.example", "https://evil.example",
    "http:/evil.example", "javascript:alert(1)", "evil.example", "/\x00/evil.example", "",
])
def test_safe_next_refuses_what_a_browser_would_read_as_off_site(target: str) -> None:
    from urllib.parse import unquote

    assert safe_next(unquote(target)) is None


@pytest.mark.parametrize("target", ["/unggahan", "/unggahan/3/ubah?x=1#top",
                                    "/laporan/?period=last_month"])
def test_safe_next_keeps_same_site_paths(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize("query", ["next=/%09/evil.example", "next=/%5Cevil.example",
                                   "next=//evil.example", "next=/%0D%0A/evil.example"])
def test_login_does_not_redirect_off_site(app, make_user, query: str):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    user = make_user(Role.OPERATOR)
    r = app.test_client().post(f"/masuk?{query}", data={"email": user.email,
                                                         "password": "rahasia123"})
    assert r.status_code == 302
    assert r.headers["Location"] == "/"


def test_login_keeps_a_same_site_next(app, make_user):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    user = make_user(Role.OPERATOR)
    r = app.test_client().post("/masuk?next=/unggahan", data={"email": user.email,
                                                               "password": "rahasia123"})
    assert r.headers["Location"] == "/unggahan"


@pytest.mark.parametrize("path", ["/masuk", "/api/v1/openapi.json", "/tidak-ada",
                                  "/api/v1/posts", "/static/js/app.js"])
def test_every_answer_carries_the_security_headers(client, path: str):  # type: ignore[no-untyped-def]
    r = client.get(path)
    h = r.headers
    assert h["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert "script-src 'self';" in CSP
    assert h["X-Frame-Options"] == "DENY"
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in h  # plain http: HSTS would mean nothing


def test_pages_are_not_cached(client):  # type: ignore[no-untyped-def]
    assert client.get("/masuk").headers["Cache-Control"] == "private, no-store"


def _https_app(core, **changes):  # type: ignore[no-untyped-def]
    from web.app import create_app

    settings = core.settings.with_(**changes)
    object.__setattr__(core, "settings", settings)
    app = create_app(core=core)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    return app


def test_https_public_url_means_hsts_and_secure_cookies(core, make_user):  # type: ignore[no-untyped-def]
    app = _https_app(core, public_url="https://warta.example.go.id")
    user = make_user(Role.OPERATOR)
    r = app.test_client().post("/masuk", data={"email": user.email, "password": "rahasia123"})
    assert r.status_code == 302
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_cookies_are_not_secure(app, make_user):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    user = make_user(Role.OPERATOR)
    r = app.test_client().post("/masuk", data={"email": user.email, "password": "rahasia123"})
    cookie = next(c for c in r.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" not in cookie


def test_forwarded_headers_are_ignored_without_trusted_proxies(client):  # type: ignore[no-untyped-def]
    r = client.get("/masuk", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers


def test_forwarded_headers_of_a_trusted_proxy_are_believed(core):  # type: ignore[no-untyped-def]
    app = _https_app(core, trusted_proxies=1)
    r = app.test_client().get("/masuk", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in r.headers


def test_trusted_proxies_setting_is_read() -> None:
    from publisher.config import load_settings

    assert load_settings({}).trusted_proxies == 0
    assert load_settings({"WARTA_TRUSTED_PROXIES": "2"}).trusted_proxies == 2


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 200, 10)).save(buf, "PNG")
    return buf.getvalue()


def test_private_media_is_never_cached_and_public_links_are(core, client, make_user,
                                                            api_as):  # type: ignore[no-untyped-def]
    from publisher.mediafiles import sign_media_path
    from publisher.models import MediaAsset

    user = make_user(Role.OPERATOR)
    r = api_as(user).post("/media", data={"file": (io.BytesIO(_png()), "a.png")},
                          content_type="multipart/form-data")
    media_id = r.get_json()["id"]
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    private = client.get(f"/media/{media_id}")
    assert private.status_code == 200 and private.mimetype == "image/png"
    assert private.headers["Cache-Control"] == "private, no-store"
    assert private.headers["X-Content-Type-Options"] == "nosniff"
    assert "Expires" not in private.headers
    with core.sessions() as s:
        rel = s.get(MediaAsset, media_id).path
    public = client.get(f"/m/{sign_media_path(core.settings.secret_key, rel)}.png")
    assert public.status_code == 200
    assert "max-age=3600" in public.headers["Cache-Control"]
    assert "no-store" not in public.headers["Cache-Control"]
    assert public.headers["X-Content-Type-Options"] == "nosniff"


#: What the Content-Security-Policy refuses in a page (``script-src 'self'; style-src 'self'``
#: without 'unsafe-inline'): a template that still has one is broken in every browser.
_INLINE = {
    "inline script": r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>",
    "inline style element": r"<style[\s>]",
    "style attribute": r"\sstyle=",
    "event handler attribute": r"\son[a-z]+=",
    "htmx inline handler": r"\shx-on",
    "javascript: link": r"javascript:",
}


def test_no_template_has_what_the_csp_refuses() -> None:
    """Every template, read as text: the browser walks cover only the pages they open (the
    two-step sign-in page once had an inline style the policy blocked)."""
    import re
    from pathlib import Path

    import web

    root = Path(web.__file__).parent
    found = [f"{path.relative_to(root)}: {what}"
             for path in sorted(root.rglob("*.html"))
             for what, pattern in _INLINE.items()
             if re.search(pattern, path.read_text(encoding="utf-8"), re.I)]
    assert found == []
