"""One table: every platform × every transport fault on its irreversible call × its path.

Each row connects a channel through the service, has a post approved by a second person, and
runs the real worker (``run_once``, the clock moved between rounds) against the platform's
fake, with one fault (``tests/fakes/faults.py``) aimed at the call that makes the post public:
on the publish path (Facebook, X text and images, YouTube's last chunk, Telegram) or the poll
path (Instagram's ``media_publish``, X's tweet after video processing).

After each: exactly as many posts on the fake as the policy allows (one; none for a Telegram
5xx before processing, since Telegram offers no way to look), and the publication in the state
the policy names (docs/ARCHITECTURE.md, "Reconcile"): published wherever the platform lets
Warta look, ``unconfirmed`` where it does not (Telegram). A platform added later gets the whole
table by adding one ``Case``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from publisher.core import Core
from tests.adapters import worker_e2e as e2e
from tests.adapters.conftest import PUBLIC_URL
from tests.fakes.faults import MODES

FAULTS = [m for m in MODES if not m.startswith("hold")]
#: Client timeout of every adapter in this table: below the fakes' 1.5 s hang.
TIMEOUT = "0.8"


@dataclass
class Fakes:
    core: Core
    graph: Any
    fx: Any
    fy: Any
    ft: Any
    op: Any
    ap: Any


@dataclass(frozen=True)
class Case:
    name: str
    path: str  # "publish" or "poll": where the irreversible call is made
    fake: str  # attribute of Fakes
    call: tuple[str, str]  # method and path (regex) of the irreversible call
    make: Callable[[Fakes], int]  # connect, upload, approve: the publication id
    posts: Callable[[Fakes], int]  # posts now on the fake
    lookup: bool = True  # the platform lets Warta look for a post


def _fb(f: Fakes, media: list[int], body: str) -> int:
    ch = e2e.fb_channel(f.core, f.op, f.graph)
    return e2e.approved(f.core, f.op, f.ap, ch, body=body, media=media)


def _ig(f: Fakes, media: list[int], options: dict[str, Any] | None = None) -> int:
    ch = e2e.ig_graph_channel(f.core, f.op, f.graph)
    return e2e.approved(f.core, f.op, f.ap, ch, body="Lomba foto HUT kota.", media=media,
                        options=options)


def _x(f: Fakes, media: list[int]) -> int:
    ch = e2e.x_channel(f.core, f.op, f.fx)
    return e2e.approved(f.core, f.op, f.ap, ch, body="Car free day Minggu pagi.", media=media)


def _yt(f: Fakes) -> int:
    ch = e2e.yt_channel(f.core, f.op, f.fy)
    return e2e.approved(f.core, f.op, f.ap, ch, body="Rekaman rapat.",
                        media=[e2e.video(f.core, f.op, (1280, 720))], title="Rapat Paripurna",
                        options={"made_for_kids": False})


def _tg(f: Fakes) -> int:
    return e2e.approved(f.core, f.op, f.ap, e2e.tg_channel(f.core, f.op),
                        body="Pengumuman seleksi CPNS.")


def _fb_posts(f: Fakes) -> int:
    return sum(1 for o in f.graph.objects.values() if o.get("kind") == "post")


def _ig_posts(f: Fakes) -> int:
    return sum(1 for o in f.graph.objects.values() if o.get("kind") == "ig_media")


FEED = ("POST", r"/\d+/feed")
CASES = [
    Case("facebook-text", "publish", "graph", FEED,
         lambda f: _fb(f, [], "Pelayanan KTP buka Sabtu."), _fb_posts),
    Case("facebook-photo", "publish", "graph", ("POST", r"/\d+/photos"),
         lambda f: _fb(f, [e2e.photo(f.core, f.op)], "Foto kegiatan."), _fb_posts),
    Case("facebook-album", "publish", "graph", FEED,
         lambda f: _fb(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)], "Album."),
         _fb_posts),
    Case("facebook-video", "publish", "graph", ("POST", r"/\d+/videos"),
         lambda f: _fb(f, [e2e.video(f.core, f.op, (1280, 720))], "Video kegiatan."),
         _fb_posts),
    Case("instagram_graph-image", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.photo(f.core, f.op)]), _ig_posts),
    Case("instagram_graph-carousel", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)]),
         _ig_posts),
    Case("instagram_graph-reel", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.video(f.core, f.op)], {"ig_type": "reel"}), _ig_posts),
    Case("x-text", "publish", "fx", ("POST", "/2/tweets"), lambda f: _x(f, []),
         lambda f: len(f.fx.tweets)),
    Case("x-images", "publish", "fx", ("POST", "/2/tweets"),
         lambda f: _x(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)]),
         lambda f: len(f.fx.tweets)),
    Case("x-video", "poll", "fx", ("POST", "/2/tweets"),
         lambda f: _x(f, [e2e.video(f.core, f.op, (1280, 720))]), lambda f: len(f.fx.tweets)),
    # the resumable upload's last chunk is the call that creates the video
    Case("youtube-video", "publish", "fy", ("PUT", "/upload/youtube/v3/videos"), _yt,
         lambda f: len(f.fy.videos)),
    Case("telegram-text", "publish", "ft", ("POST", r"/bot[^/]+/sendMessage"), _tg,
         lambda f: len(f.ft.messages), lookup=False),
]


def expected(case: Case, fault: str) -> tuple[str, int]:
    """The policy, as (state, posts on the platform)."""
    if case.lookup:
        return e2e.S.PUBLISHED, 1  # found by lookup, or absent twice and published once
    return e2e.S.UNCONFIRMED, 0 if fault == "5xx_before" else 1


PLATFORMS = ("FACEBOOK", "INSTAGRAM_GRAPH", "X", "YOUTUBE", "TELEGRAM")


@pytest.fixture
def fake_env(graph_fake, fx, fy, ft) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The settings that point every adapter at its fake, with short client timeouts."""
    base = graph_fake.url + "/v25.0"
    return {"WARTA_FACEBOOK_API_URL": base, "WARTA_INSTAGRAM_GRAPH_API_URL": base,
            "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "5", "WARTA_PUBLIC_URL": PUBLIC_URL,
            "WARTA_FACEBOOK_VIDEO_TIMEOUT": TIMEOUT, "WARTA_X_API_URL": fx.url,
            "WARTA_TELEGRAM_API_URL": ft.url, "WARTA_YOUTUBE_API_URL": fy.url,
            "WARTA_YOUTUBE_TOKEN_URL": f"{fy.url}/token",
            **{f"WARTA_{p}_TIMEOUT": TIMEOUT for p in PLATFORMS}}


@pytest.fixture
def fakes(core_with, fake_env, graph_fake, fx, fy, ft, people) -> Fakes:  # type: ignore[no-untyped-def]
    return Fakes(core_with(**fake_env), graph_fake, fx, fy, ft, *people)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-{c.path}")
def test_fault_on_the_irreversible_call(fakes: Fakes, clock, case: Case, fault: str) -> None:  # type: ignore[no-untyped-def]
    f = fakes
    f.graph.clock = f.fx.clock = clock  # the platforms stamp new posts with the test's time
    fake = getattr(f, case.fake)
    fake.faults.add(fault, *case.call)
    pub_id = case.make(f)
    pub = e2e.run_until_settled(f.core, clock, pub_id, rounds=16, step_seconds=30)
    state, posts = expected(case, fault)
    assert (pub.status, case.posts(f)) == (state, posts), (pub.error_en, pub.error_code)
    assert not fake.faults.faults, "the fault was never met: the row tests nothing"
    if state == e2e.S.PUBLISHED:
        assert pub.external_id, "published with the platform's id"
    # nothing more happens later: no second post from a late retry or poll
    for _ in range(3):
        clock.advance(minutes=10)
        e2e.run_once(f.core)
    assert case.posts(f) == posts
    assert e2e.publication(f.core, pub_id).status == state


#: The rows whose real worker process is SIGKILLed during the irreversible call.
KILL_ROWS = ("facebook-text", "instagram_graph-image", "x-text", "x-video", "telegram-text")


@pytest.mark.slow
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("case", [c for c in CASES if c.name in KILL_ROWS],
                         ids=lambda c: f"{c.name}-{c.path}")
def test_worker_killed_during_the_irreversible_call(fakes: Fakes, fake_env, test_env, clock,
                                                    tmp_path, case: Case, when: str) -> None:  # type: ignore[no-untyped-def]
    """A real ``warta worker`` process is SIGKILLed while the fake holds the call open
    (before or after processing it); a new process (a restart) settles the publication:
    the same state and post count as the policy names for a drop (after) or a 5xx before."""
    from tests.worker.procs import kill, start_worker, stop, wait_for

    clock.frozen = False  # worker processes run on real time
    f = fakes
    f.graph.clock = f.fx.clock = clock  # the platforms stamp new posts with the same time
    fake = getattr(f, case.fake)
    env = {**test_env, **fake_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2",
           "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "1",
           **{f"WARTA_{p}_TIMEOUT": "30" for p in PLATFORMS},
           **{f"WARTA_{p}_RECHECK_SECONDS": "1" for p in PLATFORMS}}
    fake.faults.add(f"hold_{when}", *case.call)
    pub_id = case.make(f)
    first = start_worker(env, tmp_path / "worker1.log")
    try:
        assert fake.faults.holding.wait(60), (tmp_path / "worker1.log").read_text()[-2000:]
    finally:
        kill(first)
        fake.faults.release.set()
    assert e2e.publication(f.core, pub_id).status == e2e.S.PUBLISHING, "killed mid-call"
    second = start_worker(env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: e2e.publication(f.core, pub_id).status not in e2e.UNSETTLED, 90,
                 "the restarted worker to settle the publication")
    finally:
        stop(second)
    state, posts = expected(case, "drop" if when == "after" else "5xx_before")
    pub = e2e.publication(f.core, pub_id)
    assert (pub.status, case.posts(f)) == (state, posts), (
        pub.error_en, (tmp_path / "worker2.log").read_text()[-3000:])
