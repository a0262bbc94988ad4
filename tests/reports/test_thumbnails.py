"""The top-posts table's thumbnails: the URL the page carries answers with the post's first image
for a viewer who may see the post, and 404 for one of another unit.

The installation here uses the default, *relative* media folder (``WARTA_MEDIA_DIR=var/media``
under the working directory), as a fresh clone does: the thumbnails used to be looked up
relative to the ``web`` package instead and were all 404.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from publisher.mediafiles import store_upload
from publisher.models import MediaAsset, Post, PostMedia
from tests.web.conftest import png_bytes

Q = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def test_env(test_env, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The shared environment with the README's relative media folder."""
    monkeypatch.chdir(tmp_path)
    return {**test_env, "WARTA_MEDIA_DIR": "var/media"}


def _asset(core, s, unit_id: int, kind: str = "image", content: bytes | None = None) -> int:  # type: ignore[no-untyped-def]
    if kind == "image":
        import io

        stored = store_upload(io.BytesIO(content or png_bytes()), "foto.png",
                              core.settings.media_dir, 5 * 1024 * 1024)
        a = MediaAsset(unit_id=unit_id, sha256=stored.sha256, kind="image", mime=stored.mime,
                       size=stored.size, width=stored.width, height=stored.height,
                       path=stored.relpath, original_name="foto.png")
    else:  # a video's row only: the thumbnail route never serves it
        a = MediaAsset(unit_id=unit_id, sha256="0" * 64, kind="video", mime="video/mp4",
                       size=10, path="zz/video.mp4", original_name="video.mp4")
    s.add(a)
    s.flush()
    return a.id


@pytest.fixture
def media(core, data):  # type: ignore[no-untyped-def]
    """P1 (unit a): an image first. P2 (unit a): a video first, then an image. P3 (unit b): an
    image. Returns the image ids by post."""
    from PIL import Image

    def other_png() -> bytes:  # a different file (the assets are unique per unit and hash)
        import io

        buf = io.BytesIO()
        Image.new("RGB", (32, 32), (10, 120, 30)).save(buf, "PNG")
        return buf.getvalue()

    assert not Path(core.settings.media_dir).is_absolute()
    with core.sessions.begin() as s:
        p1, p2, p3 = (s.get(Post, data.posts[k]) for k in ("p1", "p2", "p3"))
        img1 = _asset(core, s, p1.unit_id)
        video = _asset(core, s, p2.unit_id, kind="video")
        img2 = _asset(core, s, p2.unit_id, content=other_png())
        img3 = _asset(core, s, p3.unit_id)
        s.add_all([PostMedia(post_id=p1.id, position=0, media_id=img1),
                   PostMedia(post_id=p2.id, position=0, media_id=video),
                   PostMedia(post_id=p2.id, position=1, media_id=img2),
                   PostMedia(post_id=p3.id, position=0, media_id=img3)])
    return {"p1": img1, "p2": img2, "p3": img3, "video": video}


def _thumbs(html: str) -> dict[int, str]:
    """post id -> the thumbnail URL of its entry in the top-posts list."""
    top = re.search(r'<ol class="top-posts" id="top-posts">(.*?)</ol>', html, re.S)
    assert top
    out = {}
    for li in re.findall(r"<li>(.*?)</li>\s*(?=<li>|$)", top.group(1), re.S):
        post = re.search(r'href="/laporan/unggahan/(\d+)"', li)
        img = re.search(r'<img src="([^"]+)"', li)
        if post and img:
            out[int(post.group(1))] = img.group(1)
    return out


def _login(client, user) -> None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True


def test_thumbnails_in_the_page_serve_the_image(client, make_user, data, media):  # type: ignore[no-untyped-def]
    _login(client, make_user("admin", None))
    html = client.get(f"/laporan/?{Q}").get_data(as_text=True)
    thumbs = _thumbs(html)
    # every post with an image has one, the video-first post its first *image*
    assert set(thumbs) == {data.posts["p1"], data.posts["p2"], data.posts["p3"]}
    assert thumbs[data.posts["p2"]].endswith(f"/{media['p2']}")
    for url in thumbs.values():
        r = client.get(url)
        assert r.status_code == 200, url
        assert r.mimetype == "image/png" and r.data.startswith(b"\x89PNG")


def test_thumbnail_of_another_unit_is_not_found(client, make_user, data, media):  # type: ignore[no-untyped-def]
    _login(client, make_user("operator", "a"))
    thumbs = _thumbs(client.get(f"/laporan/?{Q}").get_data(as_text=True))
    assert set(thumbs) == {data.posts["p1"], data.posts["p2"]}  # unit b's post is not listed
    assert client.get(thumbs[data.posts["p1"]]).status_code == 200
    # unit b's image, by its URL: absent for unit a's viewers, served to unit b's
    url_b = thumbs[data.posts["p1"]].rsplit("/", 1)[0] + f"/{media['p3']}"
    assert client.get(url_b).status_code == 404
    _login(client, make_user("approver", "b"))
    assert client.get(url_b).status_code == 200
    assert client.get(thumbs[data.posts["p1"]]).status_code == 404
    # a video is no thumbnail
    assert client.get(url_b.rsplit("/", 1)[0] + f"/{media['video']}").status_code == 404


def test_post_without_image_has_no_thumbnail(client, core, make_user, data, media):  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        s.query(PostMedia).filter(PostMedia.post_id == data.posts["p2"],
                                  PostMedia.position == 1).delete()
    _login(client, make_user("admin", None))
    html = client.get(f"/laporan/?{Q}").get_data(as_text=True)
    assert data.posts["p2"] not in _thumbs(html)  # only a video: no broken image
    assert f'href="/laporan/unggahan/{data.posts["p2"]}"' in html
