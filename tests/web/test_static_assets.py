"""Static files: their URLs carry a fingerprint of their content (web/assets.py), an answer to
the current fingerprint is cached for a year (``immutable``), anything else is revalidated."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pytest
from flask import url_for

from web.assets import IMMUTABLE
from web.security import CSP

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def _fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', html)


def test_a_pages_asset_urls_carry_their_files_fingerprint(client):  # type: ignore[no-untyped-def]
    urls = _asset_urls(client.get("/masuk").get_data(as_text=True))
    names = [u.split("?")[0].removeprefix("/static/") for u in urls]
    assert {"css/app.css", "js/app.js", "vendor/htmx/htmx.min.js"} <= set(names), urls
    for url, name in zip(urls, names, strict=True):
        assert url == f"/static/{name}?v={_fingerprint(STATIC / name)}"


def test_a_changed_file_gets_a_new_url(app, tmp_path: Path):  # type: ignore[no-untyped-def]
    app.static_folder = str(tmp_path)
    css = tmp_path / "site.css"
    css.write_text("body { color: black }")
    with app.test_request_context():
        first = url_for("static", filename="site.css")
        assert url_for("static", filename="site.css") == first
        css.write_text("body { color: navy }")  # the same size: the new mtime tells
        stat = css.stat()
        os.utime(css, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        second = url_for("static", filename="site.css")
    black = hashlib.sha256(b"body { color: black }").hexdigest()[:12]
    assert first == f"/static/site.css?v={black}"
    assert second == f"/static/site.css?v={_fingerprint(css)}" and second != first
    res = app.test_client().get(second)
    assert res.status_code == 200 and res.headers["Cache-Control"] == IMMUTABLE
    # the old URL now names other content: it must not be kept for a year
    assert app.test_client().get(first).headers["Cache-Control"] == "no-cache"


def test_a_fingerprinted_answer_is_immutable_and_keeps_the_edge_headers(client):  # type: ignore[no-untyped-def]
    url = next(u for u in _asset_urls(client.get("/masuk").get_data(as_text=True))
               if "app.css" in u)
    res = client.get(url)
    assert res.status_code == 200 and res.data == (STATIC / "css/app.css").read_bytes()
    assert res.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert res.headers["Content-Security-Policy"] == CSP
    assert res.headers["X-Content-Type-Options"] == "nosniff"
    again = client.get(url, headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304 and again.headers["Cache-Control"] == IMMUTABLE


@pytest.mark.parametrize("query", ["", "?v=", "?v=000000000000", "upper"])
def test_without_the_current_fingerprint_static_files_are_revalidated(client, query: str):  # type: ignore[no-untyped-def]
    if query == "upper":  # the right digits, not the right fingerprint
        query = f"?v={_fingerprint(STATIC / 'css/app.css').upper()}"
    res = client.get(f"/static/css/app.css{query}")
    assert res.status_code == 200
    assert res.headers["Cache-Control"] == "no-cache"
    assert "immutable" not in res.headers["Cache-Control"] and "Expires" not in res.headers
    again = client.get(f"/static/css/app.css{query}",
                       headers={"If-None-Match": res.headers["ETag"]})
    assert again.status_code == 304


def test_a_missing_file_gets_no_fingerprint_and_is_not_cached(app, client):  # type: ignore[no-untyped-def]
    with app.test_request_context():
        assert url_for("static", filename="nope.css") == "/static/nope.css"
        assert url_for("static", filename="../app.py") == "/static/../app.py"
    res = client.get("/static/nope.css?v=000000000000")
    assert res.status_code == 404 and "immutable" not in res.headers["Cache-Control"]
