"""Uploads are what they claim to be: a decompression bomb is refused before it is decoded
and leaves nothing on disk, and a video is parsed by FFmpeg (PyAV), so a video header glued
to an HTML page is refused while a real video's resolution and duration are kept."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import pytest
from PIL import Image

from publisher.mediafiles import MAX_IMAGE_PIXELS
from publisher.models import MediaAsset, Role

HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` × ``height`` pixels (a decompression bomb's
    shape: a few bytes on disk, gigabytes once decoded)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr - 4:ihdr + 13]))
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def make_video(path: Path, fmt: str = "mp4", codec: str = "libx264", frames: int = 12,
               size: tuple[int, int] = (64, 48), fps: int = 6) -> bytes:
    """A real, small video encoded by PyAV (a couple of seconds of coloured frames)."""
    import av

    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i in range(frames):
            img = Image.new("RGB", size, (i * 20 % 256, 80, 160))
            frame = av.VideoFrame.from_image(img)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


def _upload(api, content: bytes, name: str):  # type: ignore[no-untyped-def]
    return api.post("/media", data={"file": (io.BytesIO(content), name)},
                    content_type="multipart/form-data")


def _leftovers(core) -> list[Path]:  # type: ignore[no-untyped-def]
    media = Path(core.settings.media_dir)
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


@pytest.mark.parametrize("size", [(50_000, 50_000), (9000, 9000)])
def test_decompression_bomb_refused_and_nothing_kept(core, make_user, api_as,
                                                     size):  # type: ignore[no-untyped-def]
    api = api_as(make_user(Role.OPERATOR))
    r = _upload(api, png_claiming(*size), "bom.png")
    assert r.status_code == 400, r.get_json()
    err = r.get_json()["error"]
    assert err["fields"] == {"file": "too many pixels"}
    assert "megapi" in err["message"] and "megapixel" in err["message_en"]
    assert _leftovers(core) == []  # no .part file, no stored file
    with core.sessions() as s:
        assert s.query(MediaAsset).count() == 0


def test_warta_caps_pixels_itself_even_without_pillows_guard(core, make_user, api_as,
                                                          monkeypatch):  # type: ignore[no-untyped-def]
    """Pillow's own bomb check is one setting away from being off (another library may set
    ``MAX_IMAGE_PIXELS = None``): the header's size is compared with Warta's cap as well."""
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    r = _upload(api_as(make_user(Role.OPERATOR)), png_claiming(9000, 9000), "bom.png")
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["fields"] == {"file": "too many pixels"}
    assert "9000 × 9000" in r.get_json()["error"]["message"]
    assert _leftovers(core) == []


def test_pillow_limit_is_set_explicitly() -> None:
    assert Image.MAX_IMAGE_PIXELS == MAX_IMAGE_PIXELS == 8192 * 8192


def test_a_big_but_honest_photo_is_fine(core, make_user, api_as):  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), (1, 2, 3)).save(buf, "PNG")
    r = _upload(api_as(make_user(Role.OPERATOR)), buf.getvalue(), "besar.png")
    assert r.status_code == 201, r.get_json()
    assert (r.get_json()["width"], r.get_json()["height"]) == (4000, 3000)


@pytest.mark.parametrize("fmt,codec,name,mime", [("mp4", "libx264", "v.mp4", "video/mp4"),
                                                 ("webm", "libvpx", "v.webm", "video/webm")])
def test_real_video_is_parsed(core, make_user, api_as, tmp_path, fmt, codec, name,
                              mime):  # type: ignore[no-untyped-def]
    content = make_video(tmp_path / name, fmt, codec)
    r = _upload(api_as(make_user(Role.OPERATOR)), content, name)
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["kind"], body["mime"], body["width"], body["height"]) == ("video", mime, 64, 48)
    with core.sessions() as s:
        asset = s.get(MediaAsset, body["id"])
        assert asset.duration == pytest.approx(2.0, abs=0.5)


@pytest.mark.parametrize("fmt,codec,name", [("mp4", "libx264", "v.mp4"),
                                            ("webm", "libvpx", "v.webm")])
def test_video_header_glued_to_html_is_refused(core, make_user, api_as, tmp_path, fmt, codec,
                                               name):  # type: ignore[no-untyped-def]
    real = make_video(tmp_path / name, fmt, codec)
    # The first bytes of a real video (its ftyp box / EBML header) and then a web page.
    polyglot = real[:40] + HTML * 50
    r = _upload(api_as(make_user(Role.OPERATOR)), polyglot, "film." + fmt)
    assert r.status_code == 400, r.get_json()
    assert r.get_json()["error"]["fields"] == {"file": "unreadable video"}
    assert _leftovers(core) == []


def test_ftyp_box_with_an_executable_is_refused(core, make_user, api_as):  # type: ignore[no-untyped-def]
    fake = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + b"MZ\x90\x00" + b"\x00" * 4000
    r = _upload(api_as(make_user(Role.OPERATOR)), fake, "setup.mp4")
    assert r.status_code == 400
    assert _leftovers(core) == []


def test_platform_rules_use_the_real_duration_and_pixels() -> None:
    """``Capabilities.max_video_seconds`` / ``max_image_pixels`` are checked by every adapter's
    ``validate`` against what the upload's parsing found."""
    from dataclasses import replace

    from adapters.base import MediaFile, OutgoingPost
    from adapters.sandbox import SandboxAdapter

    class Strict(SandboxAdapter):
        caps = replace(SandboxAdapter.caps, max_video_seconds=60, max_image_pixels=1000 * 1000,
                       max_media=4)

    adapter = Strict.__new__(Strict)

    def codes(m: MediaFile) -> list[str]:
        return [p.code for p in adapter.validate(OutgoingPost(key="warta-1", body="hai",
                                                              media=(m,)))]

    video = MediaFile(path="x.mp4", kind="video", mime="video/mp4", size=1000, sha256="0",
                      width=64, height=48, duration=61)
    photo = MediaFile(path="x.png", kind="image", mime="image/png", size=1000, sha256="0",
                      width=2000, height=1000)
    assert "video_too_long" in codes(video)
    assert "video_too_long" not in codes(replace(video, duration=59))
    assert "image_too_many_pixels" in codes(photo)
    assert "image_too_many_pixels" not in codes(replace(photo, width=1000))
