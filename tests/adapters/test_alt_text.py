"""Alt text reaches the platforms that take it (issue 21): X (media metadata), Facebook
(Photo ``alt_text_custom``), Instagram Graph and Threads (image containers' ``alt_text``) —
each asserted on what the local fake recorded. A video and an image without alt text send
nothing. One test goes the whole way: library asset → post → approval → real worker → X."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from sqlalchemy import select

from adapters.base import OutgoingPost, Published
from publisher.models import MediaAsset, Publication, PublicationStatus, User
from publisher.services import media_library
from publisher.worker import run_once
from tests.adapters import test_facebook, test_instagram_graph, test_threads
from tests.adapters import test_x as x_cases
from tests.adapters import worker_e2e as e2e
from tests.fakes.x import FakeX
from tests.helpers import approved_post

ALT = "Bupati menyerahkan bantuan beras kepada warga Desa Sukamaju"


def _containers(fake) -> list[dict]:  # type: ignore[no-untyped-def]
    return [o for o in fake.objects.values() if o.get("kind") == "container"]


def test_x_sends_alt_text_as_media_metadata_before_the_post(fx: FakeX, tmp_path: Path) -> None:
    img = replace(x_cases.media(tmp_path, "a.jpg"), alt_text=ALT)
    bare = x_cases.media(tmp_path, "b.jpg")
    vid = replace(x_cases.media(tmp_path, "c.mp4", "video", size=2000), alt_text="video")
    result = x_cases.make(fx).publish(OutgoingPost("k", "Bantuan", media=(img, bare)))
    assert isinstance(result, Published)
    (meta,) = fx.calls("/2/media/metadata", "POST")
    assert meta.json["metadata"] == {"alt_text": {"text": ALT}}
    assert fx.tweets[result.external_id]["alt_texts"] == [ALT, ""]
    # a video takes no alt text on X: nothing is sent for it
    x_cases.make(fx).publish(OutgoingPost("k2", "Video", media=(vid,)))
    assert len(fx.calls("/2/media/metadata", "POST")) == 1


def test_facebook_sends_alt_text_custom_on_photos(graph_fake, make_media) -> None:  # type: ignore[no-untyped-def]
    adapter = test_facebook.make_adapter(graph_fake)
    img = replace(make_media("image"), alt_text=ALT)
    adapter.publish(OutgoingPost("k", "Foto", media=(img,)))
    (single,) = graph_fake.calls("POST", "/1000/photos")
    assert single.form["alt_text_custom"] == ALT
    album = (replace(make_media("image"), alt_text="Peta banjir"), make_media("image"))
    adapter.publish(OutgoingPost("k2", "Album", media=album))
    photos = [o for o in graph_fake.objects.values() if o.get("kind") == "photo"]
    assert [p["alt_text_custom"] for p in photos] == [ALT, "Peta banjir", ""]


def test_instagram_sends_alt_text_on_image_containers(graph_fake, make_media) -> None:  # type: ignore[no-untyped-def]
    adapter = test_instagram_graph.make_adapter(graph_fake)
    img = replace(make_media(), alt_text=ALT)
    result, _ = test_instagram_graph.run(adapter, OutgoingPost("k", "Halo", media=(img,)))
    assert isinstance(result, Published)
    assert [c["alt_text"] for c in _containers(graph_fake)] == [ALT]
    items = (replace(make_media(), alt_text="Satu"), make_media())
    test_instagram_graph.run(adapter, OutgoingPost("k2", "Album", media=items))
    assert [c["alt_text"] for c in _containers(graph_fake)][1:] == ["Satu", "", ""]


def test_threads_sends_alt_text_on_image_containers(threads_fake, make_media) -> None:  # type: ignore[no-untyped-def]
    adapter = test_threads.make_adapter(threads_fake)
    img = replace(make_media(), alt_text=ALT)
    result, _ = test_threads.run(adapter, OutgoingPost("k", "Foto", media=(img,)))
    assert isinstance(result, Published)
    (create,) = test_threads.creates(threads_fake)
    assert create.form["alt_text"] == ALT
    assert [c["alt_text"] for c in _containers(threads_fake)] == [ALT]


def test_the_library_alt_text_goes_through_the_post_and_the_worker_to_x(  # type: ignore[no-untyped-def]
        xt_core, people, fx) -> None:
    """The asset's alt text becomes the post's default when attached; the post's (approved,
    hashed) alt text is what the worker sends, not the asset's later edit."""
    core, (op, ap) = xt_core, people
    x_id = e2e.x_channel(core, op, fx)
    mid = e2e.photo(core, op)
    with core.sessions.begin() as s:
        media_library.update_asset(core, s, s.get(User, op.id), mid, alt_text=ALT)
    approved_post(core, op, ap, [x_id], body="Penyaluran bantuan beras.", media=[mid])
    with core.sessions.begin() as s:  # changed in the library after approval: not the post's
        s.get(MediaAsset, mid).alt_text = "Teks baru di pustaka"
    run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.status == PublicationStatus.PUBLISHED
    (meta,) = fx.calls("/2/media/metadata", "POST")
    assert meta.json["metadata"]["alt_text"]["text"] == ALT
