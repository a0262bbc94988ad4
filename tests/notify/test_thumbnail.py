"""The post's first image in the approval request's and the failure's e-mail: a small JPEG
made with Pillow, attached inline by Content-ID (no remote image), bounded in pixels and
bytes; a post without an image, a missing file or another kind sends the plain message."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from publisher.models import Role, User
from publisher.notify import thumbnail
from publisher.services import audit
from publisher.services import media as media_svc
from publisher.services import posts as post_svc
from tests.helpers import sandbox_channel
from tests.notify.flows import BODY, drain, set_prefs

EMAIL = {"kind-approval_requested": "email", "kind-approved": "email"}


def picture(size: tuple[int, int], colour=(200, 30, 30), fmt: str = "PNG") -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    img = Image.effect_noise(size, 90).convert("RGB") if fmt == "JPEG" else Image.new(
        "RGB", size, colour)
    img.save(buf, fmt)
    return buf.getvalue()


def post_with(core, author, images: list[bytes], submit: bool = True) -> int:  # type: ignore[no-untyped-def]
    channel = sandbox_channel(core, author, f"acc-{author.id}")
    with core.sessions.begin() as s:
        me = s.get(User, author.id)
        ids = [media_svc.upload_media(core, s, me, io.BytesIO(data), f"foto{n}.png").id
               for n, data in enumerate(images)]
        post = post_svc.create_post(core, s, me, post_svc.PostInput(
            body=BODY, channels=[channel], media=ids,
            scheduled_at=core.now() + timedelta(days=1)))
        if submit:
            post_svc.submit_post(core, s, me, post.id)
        return post.id


def inline_images(msg):  # type: ignore[no-untyped-def]
    return [p for p in msg.walk() if p.get_content_maintype() == "image"]


def test_the_approval_request_shows_the_first_image_inline(core, make_user, smtp_server):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, ap, EMAIL)
    post_with(core, op, [picture((1600, 900), (10, 120, 30)), picture((50, 50))])
    drain(core)
    [mail] = smtp_server.messages
    msg = mail.message
    assert msg.get_content_type() == "multipart/alternative"
    [related] = [p for p in msg.walk() if p.get_content_type() == "multipart/related"]
    [img] = inline_images(msg)
    assert img.get_content_type() == "image/jpeg"
    assert img.get_content_disposition() == "inline"
    cid = str(img["Content-ID"]).strip().strip("<>")
    html = msg.get_body(("html",)).get_content()
    assert f'src="cid:{cid}"' in html and 'alt="Gambar pertama unggahan"' in html
    assert "http" not in html.split(f"cid:{cid}")[0].rsplit("<img", 1)[-1]  # no remote src
    data = img.get_content()
    assert len(data) <= thumbnail.MAX_BYTES
    with Image.open(io.BytesIO(data)) as thumb:
        assert thumb.format == "JPEG"
        assert max(thumb.size) <= 240 and thumb.size == (240, 135)  # the first image, scaled
        r, g, b = thumb.convert("RGB").getpixel((120, 67))
        assert g > 100 and r < 60  # green: the first image, not the second (red)
    assert 'width="240" height="135"' in html
    assert related.get_content_type() == "multipart/related"


def test_a_failure_shows_it_too_but_an_approval_does_not(core, make_user, smtp_server):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, op, {"kind-failed": "email", "kind-approved": "email"})
    post_id = post_with(core, op, [picture((300, 300))])
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), post_id)
    drain(core)
    [approved] = smtp_server.messages
    assert inline_images(approved.message) == []
    assert "<img" not in approved.message.get_body(("html",)).get_content()
    with core.sessions.begin() as s:  # a failure of this post (what the publish path records)
        audit.record(s, "publication.failed", "post", post_id, unit_id=op.unit_id,
                     at=core.now(), data={"message": "Token kedaluwarsa."})
    drain(core)
    [_, failed] = smtp_server.messages
    [img] = inline_images(failed.message)
    with Image.open(io.BytesIO(img.get_content())) as thumb:
        assert thumb.size == (240, 240)


def test_a_missing_file_sends_the_message_without_a_picture(core, make_user, smtp_server):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, ap, EMAIL)
    post_id = post_with(core, op, [picture((400, 300))], submit=False)
    with core.sessions.begin() as s:
        asset = thumbnail.first_image(s, post_id)
        assert asset is not None
        (core.settings.media_dir / asset.path).unlink()
        post_svc.submit_post(core, s, s.get(User, op.id), post_id)
    drain(core)
    [mail] = smtp_server.messages
    assert inline_images(mail.message) == []
    assert "Penyaluran bantuan sosial" in mail.message.get_body(("plain",)).get_content()


def test_the_thumbnail_is_bounded_in_pixels_and_bytes(monkeypatch):
    made = thumbnail.make(picture((2000, 2000), fmt="JPEG"))
    assert made is not None and made[1:] == (240, 240) and len(made[0]) <= thumbnail.MAX_BYTES
    monkeypatch.setattr(thumbnail, "MAX_BYTES", 200)  # noise never fits in 200 bytes
    assert thumbnail.make(picture((2000, 2000), fmt="JPEG")) is None
    monkeypatch.setattr(thumbnail, "MAX_PIXELS", 1000)
    assert thumbnail.make(picture((100, 100))) is None
    assert thumbnail.make(b"not an image at all") is None
