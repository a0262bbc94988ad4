"""One table: every platform × every transport fault on its irreversible call × its path.

Each row connects a channel through the service, has a post approved by a second person, and
runs the real worker (``run_once``, the clock moved between rounds) against the platform's
fake, with one fault (``tests/fakes/faults.py``) aimed at the call that makes the post public:
on the publish path (Facebook, instagrapi's ``media/configure*``, X text and images, YouTube's
last chunk, Telegram) or the poll path (Instagram Graph's ``media_publish``, X's tweet after
video processing). The process columns (the first row of each platform and path) stop a real
``warta worker`` during that call — SIGKILL before or after processing, or an orderly stop
(``restart``) — and a new process settles the publication.

After each: exactly as many posts on the fake as the policy allows (one; none for a Telegram
5xx before processing, since Telegram offers no way to look), and the publication in the state
the policy names (docs/ARCHITECTURE.md, "Reconcile"): published wherever the platform lets
Warta look, ``unconfirmed`` where it does not (Telegram). A platform added later gets the whole
table by adding one ``Case``.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from publisher.core import Core
from tests.adapters import worker_e2e as e2e
from tests.adapters.conftest import PUBLIC_URL
from tests.fakes import instagram as ig_fake
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
    fi: Any
    ftk: Any
    th: Any
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


def _igp(f: Fakes, media: list[int], options: dict[str, Any] | None = None) -> int:
    """Instagram through instagrapi's private API (platform ``instagram``), by session id."""
    ch = e2e.channel(f.core, f.op, "instagram", {"sessionid": f.fi.sessionid})
    return e2e.approved(f.core, f.op, f.ap, ch, body="Vaksinasi gratis di puskesmas.",
                        media=media, options=options)


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


def _tk(f: Fakes, media: list[int]) -> int:
    ch = e2e.channel(f.core, f.op, "tiktok", {"client_key": f.ftk.client_key,
                                              "client_secret": f.ftk.client_secret,
                                              "access_token": f.ftk.access_token,
                                              "refresh_token": f.ftk.refresh_token})
    return e2e.approved(f.core, f.op, f.ap, ch, body="Festival budaya.", media=media,
                        options={"privacy_level": "PUBLIC_TO_EVERYONE"})


def _th(f: Fakes, media: list[int]) -> int:
    ch = e2e.channel(f.core, f.op, "threads", {"threads_user_id": f.th.threads_user_id,
                                               "access_token": f.th.page_token})
    return e2e.approved(f.core, f.op, f.ap, ch, body="Info layanan.", media=media)


def _fb_typed(f: Fakes, media: list[int], fb_type: str) -> int:
    ch = e2e.fb_channel(f.core, f.op, f.graph)
    return e2e.approved(f.core, f.op, f.ap, ch, body=f"{fb_type} kegiatan.", media=media,
                        options={"fb_type": fb_type})


def _fb_reels(f: Fakes) -> int:
    """Reels whose finish Meta received (processing only delays them)."""
    return len(f.graph.published_reels())


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
    # Reels: the finish of the three-phase upload; Stories: photo_stories / video finish
    Case("facebook_reel-video", "publish", "graph", ("POST", r"/\d+/video_reels#finish"),
         lambda f: _fb_typed(f, [e2e.video(f.core, f.op, (1080, 1920), seconds=5)], "reel"),
         _fb_reels),
    Case("facebook_story-photo", "publish", "graph", ("POST", r"/\d+/photo_stories"),
         lambda f: _fb_typed(f, [e2e.photo(f.core, f.op, 0, (1080, 1920))], "story"),
         lambda f: len(f.graph.stories())),
    Case("facebook_story-video", "publish", "graph", ("POST", r"/\d+/video_stories#finish"),
         lambda f: _fb_typed(f, [e2e.video(f.core, f.op, (1080, 1920), seconds=5)], "story"),
         lambda f: len(f.graph.stories())),
    Case("instagram_graph-image", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.photo(f.core, f.op)]), _ig_posts),
    Case("instagram_graph-carousel", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)]),
         _ig_posts),
    Case("instagram_graph-reel", "poll", "graph", ("POST", r"/\d+/media_publish"),
         lambda f: _ig(f, [e2e.video(f.core, f.op)], {"ig_type": "reel"}), _ig_posts),
    # instagrapi publishes synchronously: uploads, then one configure call makes the post
    Case("instagram-photo", "publish", "fi", ("POST", ig_fake.CONFIGURE),
         lambda f: _igp(f, [e2e.photo(f.core, f.op)]), lambda f: len(f.fi.medias)),
    Case("instagram-album", "publish", "fi", ("POST", ig_fake.CONFIGURE),
         lambda f: _igp(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)]),
         lambda f: len(f.fi.medias)),
    Case("instagram-reel", "publish", "fi", ("POST", ig_fake.CONFIGURE),
         lambda f: _igp(f, [e2e.video(f.core, f.op)], {"ig_type": "reel"}),
         lambda f: len(f.fi.medias)),
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
    # TikTok: the last chunk of a FILE_UPLOAD video, or the init of a photo post by URL
    Case("tiktok-video", "publish", "ftk", ("PUT", "/upload/"),
         lambda f: _tk(f, [e2e.video(f.core, f.op)]), lambda f: len(f.ftk.posts)),
    Case("tiktok-photos", "publish", "ftk", ("POST", "/v2/post/publish/content/init/"),
         lambda f: _tk(f, [e2e.photo(f.core, f.op, 0), e2e.photo(f.core, f.op, 1)]),
         lambda f: len(f.ftk.posts)),
    Case("threads-image", "poll", "th", ("POST", r"/\d+/threads_publish"),
         lambda f: _th(f, [e2e.photo(f.core, f.op)]), lambda f: f.th.posts()),
]


def expected(case: Case, fault: str) -> tuple[str, int]:
    """The policy, as (state, posts on the platform)."""
    if case.lookup:
        return e2e.S.PUBLISHED, 1  # found by lookup, or absent twice and published once
    return e2e.S.UNCONFIRMED, 0 if fault == "5xx_before" else 1


PLATFORMS = ("FACEBOOK", "INSTAGRAM_GRAPH", "INSTAGRAM", "X", "YOUTUBE", "TELEGRAM", "TIKTOK",
             "THREADS")


@pytest.fixture
def fake_env(graph_fake, fx, fy, ft, fig, ftk, threads_fake) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The settings that point every adapter at its fake, with short client timeouts."""
    base = graph_fake.url + "/v25.0"
    return {"WARTA_FACEBOOK_API_URL": base, "WARTA_INSTAGRAM_GRAPH_API_URL": base,
            "WARTA_INSTAGRAM_API_URL": fig.url,
            "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "5", "WARTA_PUBLIC_URL": PUBLIC_URL,
            "WARTA_FACEBOOK_VIDEO_TIMEOUT": TIMEOUT, "WARTA_X_API_URL": fx.url,
            "WARTA_FACEBOOK_UPLOAD_URL": graph_fake.url + "/video-upload/v25.0",
            "WARTA_FACEBOOK_LOOKUP_GRACE_SECONDS": "5",
            "WARTA_TELEGRAM_API_URL": ft.url, "WARTA_YOUTUBE_API_URL": fy.url,
            "WARTA_YOUTUBE_TOKEN_URL": f"{fy.url}/token",
            "WARTA_TIKTOK_API_URL": ftk.url, "WARTA_THREADS_API_URL": threads_fake.url + "/v1.0",
            "WARTA_THREADS_OAUTH_URL": threads_fake.url, "WARTA_THREADS_POLL_SECONDS": "5",
            **{f"WARTA_{p}_TIMEOUT": TIMEOUT for p in PLATFORMS}}


@pytest.fixture
def fakes(core_with, fake_env, graph_fake, fx, fy, ft, fig, ftk, threads_fake, people) -> Fakes:  # type: ignore[no-untyped-def]
    f = Fakes(core_with(**fake_env), graph_fake, fx, fy, ft, fig, ftk, threads_fake, *people)
    f.ftk.moderation_reads = 0  # the moderation delay has its own tests
    return f


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-{c.path}")
def test_fault_on_the_irreversible_call(fakes: Fakes, clock, monkeypatch, case: Case,  # type: ignore[no-untyped-def]
                                        fault: str) -> None:
    f = fakes
    f.graph.clock = f.fx.clock = f.fy.clock = f.fi.clock = clock  # new posts carry the test's time
    f.ftk.clock = f.th.clock = clock
    ig_fake.without_pacing(monkeypatch)
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


def process_rows(cases: list[Case]) -> list[Case]:
    """The first row of each platform and path: the rows whose real worker process is stopped
    during the irreversible call (real processes take seconds, so one row per platform and
    path; a platform added to ``CASES`` gets these columns with its first row)."""
    first: dict[tuple[str, str], Case] = {}
    for case in cases:
        first.setdefault((case.name.split("-")[0], case.path), case)
    return list(first.values())


#: How the worker is stopped during the call: the fault it meets, the signal, and the transport
#: fault whose policy then applies. ``restart`` is the worker's own orderly stop (SIGINT: it
#: finishes the calls in flight, their answer is lost, then it exits) followed by a new process.
STOPS = {"kill_before": ("hold_before", signal.SIGKILL, "5xx_before"),
         "kill_after": ("hold_after", signal.SIGKILL, "drop"),
         "restart": ("hold_after", signal.SIGINT, "drop")}


@pytest.mark.slow
@pytest.mark.parametrize("how", list(STOPS))
@pytest.mark.parametrize("case", process_rows(CASES), ids=lambda c: f"{c.name}-{c.path}")
def test_worker_stopped_during_the_irreversible_call(fakes: Fakes, fake_env, test_env, clock,
                                                     tmp_path, case: Case, how: str) -> None:  # type: ignore[no-untyped-def]
    """A real ``warta worker`` process is stopped while the fake holds the call open (before or
    after processing it): SIGKILLed, or stopped in order (``restart``); a new process (the
    restart) settles the publication: the same state and post count as the policy names for a
    5xx before processing (killed before) or a drop (after)."""
    from tests.worker.procs import kill, start_worker, stop, wait_for

    clock.frozen = False  # worker processes run on real time
    f = fakes
    f.graph.clock = f.fx.clock = f.fy.clock = f.fi.clock = clock  # new posts carry the same time
    f.ftk.clock = f.th.clock = clock
    fake = getattr(f, case.fake)
    env = {**test_env, **fake_env, "WARTA_LEASE_SECONDS": "5", "WARTA_POLL_SECONDS": "0.2",
           "WARTA_INSTAGRAM_GRAPH_POLL_SECONDS": "1",
           **{f"WARTA_{p}_TIMEOUT": "30" for p in PLATFORMS},
           **{f"WARTA_{p}_RECHECK_SECONDS": "1" for p in PLATFORMS}}
    hold, sig, policy = STOPS[how]
    fake.faults.add(hold, *case.call)
    pub_id = case.make(f)
    first = start_worker(env, tmp_path / "worker1.log")
    try:
        assert fake.faults.holding.wait(60), (tmp_path / "worker1.log").read_text()[-2000:]
        assert e2e.publication(f.core, pub_id).status == e2e.S.PUBLISHING, "stopped mid-call"
        if sig == signal.SIGINT:
            first.send_signal(sig)
            fake.faults.release.set()  # the call it waits for ends without an answer
            stop(first)
    finally:
        kill(first)
        fake.faults.release.set()
    second = start_worker(env, tmp_path / "worker2.log")
    try:
        wait_for(lambda: e2e.publication(f.core, pub_id).status not in e2e.UNSETTLED, 90,
                 "the restarted worker to settle the publication")
    finally:
        stop(second)
    state, posts = expected(case, policy)
    pub = e2e.publication(f.core, pub_id)
    assert (pub.status, case.posts(f)) == (state, posts), (
        pub.error_en, (tmp_path / "worker2.log").read_text()[-3000:])


def test_reel_finish_answer_lost_and_status_lagging_is_one_reel(fakes: Fakes, clock, core_with,  # type: ignore[no-untyped-def]
                                                                fake_env) -> None:
    """The finish's answer is lost and Meta's status still reads ``not_started`` for the first
    reads after it (longer than the recheck): within the lookup grace that is "look again",
    never "absent", so exactly one reel goes out."""
    f = fakes
    f.core = core_with(**{**fake_env, "WARTA_FACEBOOK_LOOKUP_GRACE_SECONDS": "1800"})
    f.graph.clock = clock
    f.graph.reel_lag_reads = 4
    f.graph.faults.add("drop", "POST", r"/\d+/video_reels#finish")
    pub_id = _fb_typed(f, [e2e.video(f.core, f.op, (1080, 1920), seconds=5)], "reel")
    pub = e2e.run_until_settled(f.core, clock, pub_id, rounds=16, step_seconds=30)
    assert (pub.status, _fb_reels(f)) == (e2e.S.PUBLISHED, 1), (pub.error_en, pub.error_code)
    assert len(f.graph.calls("POST", r"/\d+/video_reels")) == 2, "one start, one finish"
