"""Cost of collecting citizens' comments: platform calls per day per platform at 1,000 posts
a day, against each platform's budget (issue 19: "collection stays within every platform's
limits at 1,000 posts a day").

    python bench/comments.py [--posts 1000] [--days 2] [--backend sqlite|postgresql]

An installation (SQLite file by default, a fresh PostgreSQL database with ``--backend
postgresql``) gets one Facebook Page, one Instagram (Graph) account and one YouTube channel,
connected through the real channel service against the test fakes (``tests/fakes/graph.py``,
``tests/fakes/youtube.py``, which record every request). On each of ``--days`` days
``--posts`` posts go out on *each* platform at random times of the day (one account carries them
all: the per-account limits' worst case), each with a seeded number of comments: most a few,
some over a page (Facebook 100 a page, Instagram 50, YouTube 100), some comments with more
replies than a listing carries inline (Instagram ``/replies``, YouTube ``comments.list``). Then
the real collection (``sweep_comments`` + ``handle_collect_comments`` jobs through the queue) runs
on the injectable clock until every post's schedule has ended (the metrics one: 10 min, 1 h,
6 h, 1 d, 3 d, 7 d, 30 d after publishing). Nothing else runs (no metrics sweep), so every
request the fakes saw is a comment read.

Steady state: every day publishes the same, so on a day of steady state the calls made are those
of one day's posts over their whole schedule — the run's calls divided by ``--days``. (Posts of 30
days overlap on any one day; their sum is the same.) The peak hour is the busiest hour of the day
in that steady state: calls binned by hour of day over the whole run, divided by ``--days``.
A post's reads depend on its own comments only (its edge, its pages), so the calls grow in
proportion to the posts: the table also gives the figure per 1,000 posts a day (the run's times
1000 / ``--posts``), the one held against the budget. A full-size run (``--posts 1000``) gives
it directly, but takes long: the fakes scan all their objects on each request.
Comments are all there before the first read, so the Facebook/Instagram full listings read their
largest count every pass (the expensive case); YouTube reads newest first and stops at a known one.

Budgets (the reference's figures; the stricter reading where it is ambiguous):

* Facebook Page: Business Use Case limit for Page tokens, ``4800 × engaged users`` calls
  (platform-apis.md §1.6, "Calls within one hour"; Meta's own page words it per 24 hours, so
  the bench takes the 24 h reading, the smaller). ``--engaged-users`` defaults to 1, the floor.
  The app-level ``200 × users`` per hour (same section) applies to user/app tokens, which
  collection does not use.
* Instagram Graph: BUC ``4800 × impressions`` per 24 h per app-user pair (platform-apis.md §2.7,
  table §8); ``--impressions`` defaults to 1, the floor. (The older "200 calls/hour per account"
  is not in the reference; it is also 4,800 a day.)
* YouTube: 10,000 units/day for non-search/non-insert methods, one budget per Google project
  (all channels of the installation share it), ``commentThreads.list`` and ``comments.list`` 1
  unit a call (platform-apis-2.md §1.5, platform-apis.md §5.5). Publishing and metrics share it.

Headroom (``--max-usage``, default 75, the setting ``WARTA_COMMENTS_MAX_USAGE_PERCENT``): the
Graph fake reports a usage modelled on those budgets, scaled to the run (budget × posts / 1000,
so the run's figure × 1000 / posts is held against the real one): the page's (Facebook) or the
account's (Instagram) calls in the last 24 h of the bench clock / that budget, on every answer.
Comment collection stops reading at the threshold (``publisher/worker/comments.py``), so the
run shows what staying within costs: the jobs held and the due sources they left for later.
YouTube's own guard (reads never spend the quota one upload needs) runs on the same scaled
budget: ``WARTA_YOUTUBE_DAILY_QUOTA`` and ``WARTA_YOUTUBE_UPLOAD_COST`` × posts / 1000.
``--no-headroom`` runs without the model and with YouTube's full budget (the old figures).
The busiest 24 h of calls (a window sliding by the bench's steps) is what a budget limits;
calls / days is the work a day of posts asks for.

Only counts are printed, no times, so the machine's load does not change the figures.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
from collections import Counter, deque
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import database_url  # noqa: E402  (after the path)

START = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
PLATFORMS = ("facebook", "instagram_graph", "youtube")
#: Where the schedule ends: its last step (30 days) plus a margin.
SCHEDULE_DAYS = 31
#: The issue's figure: calls per 1,000 posts a day.
PER = 1000
#: Budgets per day: (figure, where it comes from).
BUDGET_SOURCES = {
    "facebook": "4800 x engaged users / 24 h per Page token (platform-apis.md §1.6)",
    "instagram_graph": "4800 x impressions / 24 h per account (platform-apis.md §2.7)",
    "youtube": "10,000 units/day per project, 1 unit a list call (platform-apis-2.md §1.5)",
}


class Clock:
    """The injectable clock (``build_core(clock=…)``), moved by the run."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Result:
    """What one run counted: calls and pages per platform, by hour of day, and the fakes'
    own request logs for the same run (the test compares them)."""

    days: int
    posts: int
    calls: Counter[str] = field(default_factory=Counter)
    pages: Counter[str] = field(default_factory=Counter)
    by_hour: dict[str, Counter[int]] = field(default_factory=dict)
    fake_log: Counter[str] = field(default_factory=Counter)
    comments: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    unfinished: int = 0
    #: Headroom: jobs held by the usage guard (Meta) or by the quota guard (YouTube), the due
    #: sources those held jobs left for later, and the busiest 24 h of calls per platform.
    held: Counter[str] = field(default_factory=Counter)
    held_sources: Counter[str] = field(default_factory=Counter)
    busiest_24h: Counter[str] = field(default_factory=Counter)
    max_usage: int | None = None
    #: YouTube's calls per Pacific day (its quota's day, which the adapter's guard counts).
    youtube_days: Counter[str] = field(default_factory=Counter)

    def per_day(self, platform: str) -> float:
        return self.calls[platform] / self.days

    def peak_hour(self, platform: str) -> float:
        hours = self.by_hour.get(platform) or Counter()
        return max(hours.values(), default=0) / self.days


def budgets(engaged_users: int, impressions: int) -> dict[str, int]:
    return {"facebook": 4800 * engaged_users, "instagram_graph": 4800 * impressions,
            "youtube": 10_000}


class UsageModel:
    """The usage Meta's headers report, modelled: the platform's comment calls in the last
    24 h of the bench clock against its budget scaled to the run, in percent (``GraphFake.
    usage_model``; other requests get the fake's fixed figure)."""

    def __init__(self, clock: Clock, owner: dict[str, str], budget: dict[str, float]) -> None:
        self.clock, self.owner, self.budget = clock, owner, budget
        self.times: dict[str, deque[datetime]] = {p: deque() for p in budget}

    def __call__(self, rec: Any) -> float | None:
        platform = _attribute(rec, self.owner)
        if platform not in self.times:
            return None
        q = self.times[platform]
        q.append(self.clock.now)
        while q and q[0] <= self.clock.now - timedelta(hours=24):
            q.popleft()
        return 100.0 * len(q) / self.budget[platform]


def comment_plan(rnd: random.Random) -> tuple[int, list[int]]:
    """Top-level comments of a post and the replies of each: 70% a few, 25% a dozen or two,
    5% past a page (101-180); one comment in five has 1-5 replies (past 2: a replies call)."""
    roll = rnd.random()
    top = (rnd.randint(0, 3) if roll < .70 else rnd.randint(4, 25) if roll < .95
           else rnd.randint(101, 180))
    return top, [rnd.randint(1, 5) if rnd.random() < .2 else 0 for _ in range(top)]


@contextmanager
def serve_fakes() -> Iterator[tuple[Any, Any]]:
    """The Graph and YouTube fakes, started the way the tests' fixtures start them."""
    from tests.fakes.graph import GraphFake, serving
    from tests.fakes.youtube import FakeYouTube

    yt = FakeYouTube().start()
    try:
        for graph in serving(GraphFake()):
            yield graph, yt
    finally:
        yt.stop()


def _core(url: str, clock: Clock, graph: Any, yt: Any, extra: dict[str, str]) -> Any:
    from cryptography.fernet import Fernet

    from publisher.config import load_settings
    from publisher.core import build_core
    from publisher.migrate import upgrade

    base = graph.url + "/v25.0"
    settings = load_settings({
        "WARTA_DATABASE_URL": url, "WARTA_SECRET_KEY": "bench",
        "WARTA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "WARTA_MEDIA_DIR": "/tmp/warta-bench-media", "WARTA_PUBLIC_URL": "https://warta.test",
        "WARTA_FACEBOOK_API_URL": base, "WARTA_INSTAGRAM_GRAPH_API_URL": base,
        "WARTA_YOUTUBE_API_URL": yt.url, "WARTA_YOUTUBE_TOKEN_URL": f"{yt.url}/token",
        **extra}, dotenv=None)
    core = build_core(settings, clock=clock)
    upgrade(core.engine)
    return core


def _channels(core: Any, graph: Any, yt: Any) -> tuple[int, dict[str, int]]:
    from publisher.models import Role, User
    from publisher.services import channels as channel_svc
    from publisher.services import org

    with core.sessions.begin() as s:
        unit = org.create_unit(s, name="Diskominfo", slug="diskominfo")
        user = org.create_user(s, email="op@bench.go.id", name="Bench", role=Role.OPERATOR,
                               unit=unit, password="rahasia123", check_strength=False)
        user_id = user.id
    creds = {"facebook": {"page_id": graph.page_id, "access_token": graph.page_token},
             "instagram_graph": {"ig_user_id": graph.ig_user_id,
                                 "access_token": graph.page_token},
             "youtube": {"client_id": yt.client_id, "client_secret": yt.client_secret,
                         "refresh_token": yt.refresh_token}}
    out = {}
    for platform in PLATFORMS:
        with core.sessions.begin() as s:
            out[platform] = channel_svc.create_channel(
                core, s, s.get(User, user_id), platform=platform, name=f"{platform} bench",
                credentials=creds[platform]).id
    return user_id, out


def _publish_day(core: Any, graph: Any, yt: Any, user_id: int, channels: dict[str, int],
                 day: datetime, n: int, rnd: random.Random, result: Result) -> dict[str, str]:
    """``n`` published posts per platform at random times of ``day``, their comments on the
    fakes; returns external id -> platform (how the fakes' requests are attributed)."""
    from publisher.models import Post, Publication, User

    owner: dict[str, str] = {}
    with core.sessions.begin() as s:
        unit_id = s.get_one(User, user_id).unit_id
        for platform, channel_id in channels.items():
            for _ in range(n):
                at = day + timedelta(seconds=rnd.randint(0, 86_399))
                ext = _platform_object(graph, yt, platform, rnd, result, owner)
                owner[ext] = platform
                post = Post(unit_id=unit_id, author_id=user_id, body="Pengumuman",
                            status="approved", overrides={}, created_at=at, updated_at=at)
                s.add(post)
                s.flush()
                s.add(Publication(post_id=post.id, channel_id=channel_id, status="published",
                                  scheduled_at=at, published_at=at, external_id=ext,
                                  created_at=at, updated_at=at))
    return owner


def _platform_object(graph: Any, yt: Any, platform: str, rnd: random.Random,
                     result: Result, owner: dict[str, str]) -> str:
    top, replies = comment_plan(rnd)
    result.comments[platform] += top + sum(replies)
    if platform == "youtube":
        vid = f"vid{rnd.getrandbits(48):012x}"
        for i, k in enumerate(replies):
            tid = yt.add_thread(vid, f"komentar {i}")
            for j in range(k):
                yt.add_reply(tid, f"balasan {j}")
        return vid
    if platform == "facebook":
        ext = graph.add_post()
    else:
        ext = graph.new_id()
        graph.objects[ext] = {"id": ext, "kind": "ig_media", "caption": ""}
    for i, k in enumerate(replies):
        cid = graph.add_comment(ext, f"komentar {i}")
        if platform == "instagram_graph":
            owner[cid] = platform  # its /replies
        for j in range(k):
            graph.add_comment(cid, f"balasan {j}")
    return ext


def _drain(core: Any) -> None:
    """Sweeps and comment jobs until nothing is due now (a job reads at most 50 sources)."""
    from publisher.jobs import COLLECT_COMMENTS
    from publisher.worker.comments import sweep_comments
    from publisher.worker.runner import run_job

    for _ in range(1000):
        sweep_comments(core)
        ran = 0
        while jobs := core.queue.claim("bench", lease_seconds=300, limit=1,
                                       kinds=[COLLECT_COMMENTS]):
            run_job(core, jobs[0])
            ran += 1
        if not ran:
            return


def _attribute(rec: Any, owner: dict[str, str]) -> str | None:
    """The platform a Graph request was for: ``/{post}/comments`` or ``/{comment}/replies``
    (``owner`` holds posts, media and Instagram comments)."""
    parts = rec.path.strip("/").split("/")
    if len(parts) != 2 or parts[1] not in ("comments", "replies"):
        return None
    return owner.get(parts[0])


def run(url: str, posts: int, days: int, seed: int = 7, *, max_usage: int | None = None,
        budget: dict[str, int] | None = None) -> Result:
    """The whole run; the fakes are started and stopped here. ``max_usage``: the headroom
    guard's threshold with the usage modelled on ``budget`` scaled to the run (None: no model,
    YouTube's full quota)."""
    from sqlalchemy import func, select

    from adapters._google import pacific_day
    from publisher.models import CitizenComment, CommentSource
    from publisher.worker import comments as collect

    result = Result(days=days, posts=posts,
                    by_hour={p: Counter() for p in PLATFORMS})
    rnd = random.Random(seed)
    clock = Clock(START)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fakes' access log
    result.max_usage = max_usage
    scale = posts / PER
    extra: dict[str, str] = {}
    owner: dict[str, str] = {}
    windows: dict[str, deque[datetime]] = {p: deque() for p in PLATFORMS}
    channels_of: dict[int, str] = {}
    with ExitStack() as stack:
        graph, yt = stack.enter_context(serve_fakes())
        if max_usage is not None:
            budget = budget or budgets(1, 1)
            extra = {"WARTA_COMMENTS_MAX_USAGE_PERCENT": str(max_usage),
                     "WARTA_YOUTUBE_DAILY_QUOTA": str(max(1, round(budget["youtube"] * scale))),
                     "WARTA_YOUTUBE_UPLOAD_COST": str(max(1, round(1600 * scale)))}
            graph.usage_model = UsageModel(clock, owner, {
                p: budget[p] * scale for p in ("facebook", "instagram_graph")})
            stack.enter_context(_count_holds(collect, result, channels_of))
        core = _core(url, clock, graph, yt, extra)
        stack.callback(core.engine.dispose)
        user_id, channels = _channels(core, graph, yt)
        channels_of.update({cid: p for p, cid in channels.items()})
        graph.requests.clear()
        yt.requests.clear()
        end = START + timedelta(days=days + SCHEDULE_DAYS)
        seen_graph = seen_yt = 0
        while clock.now < end:
            day = int((clock.now - START).total_seconds() // 86_400)
            if clock.now == START + timedelta(days=day) and day < days:
                owner |= _publish_day(core, graph, yt, user_id, channels, clock.now, posts,
                                      rnd, result)
            _drain(core)
            for rec in graph.requests[seen_graph:]:
                platform = _attribute(rec, owner)
                _count(result, platform or "graph-other", clock.now, rec)
                if platform:
                    windows[platform].append(clock.now)
            for rec in yt.requests[seen_yt:]:
                name = rec.path.rsplit("/", 1)[-1]
                is_read = name in ("commentThreads", "comments")
                _count(result, "youtube" if is_read else "youtube-other", clock.now, rec)
                if is_read:
                    windows["youtube"].append(clock.now)
                    result.youtube_days[pacific_day(clock.now)] += 1
            for p, q in windows.items():
                while q and q[0] <= clock.now - timedelta(hours=24):
                    q.popleft()
                result.busiest_24h[p] = max(result.busiest_24h[p], len(q))
            seen_graph, seen_yt = len(graph.requests), len(yt.requests)
            # 10-minute steps while posts are young, then hourly: a step only delays a read.
            young = clock.now < START + timedelta(days=days + 1)
            clock.now += timedelta(minutes=10 if young else 60)
        result.fake_log.update({
            "facebook": sum(1 for r in graph.requests if r.path.endswith("/comments")
                            and graph.objects.get(r.path.strip("/").split("/")[0], {}).get(
                                "kind") == "post"),
            "instagram_graph": sum(1 for r in graph.requests if r.path.endswith("/replies"))
            + sum(1 for r in graph.requests if r.path.endswith("/comments")
                  and graph.objects.get(r.path.strip("/").split("/")[0], {}).get("kind")
                  == "ig_media"),
            "youtube": len(yt.calls("/youtube/v3/comment")),
            "all": len(graph.requests) + len(yt.requests)})
        with core.sessions() as s:
            result.stored = s.execute(select(func.count(CitizenComment.id))).scalar_one()
            result.unfinished = s.execute(select(func.count(CommentSource.id)).where(
                CommentSource.next_collect_at.is_not(None))).scalar_one()
    return result


@contextmanager
def _count_holds(collect: Any, result: Result, channels_of: dict[int, str]) -> Iterator[None]:
    """Count the jobs the guards hold: Meta's usage guard (``_held``, with the due sources
    it leaves) and YouTube's quota guard (a ``quota_exceeded`` wait of a comment job)."""
    held, waiting = collect._held, collect._waiting

    def counting_held(channel_id: int, until: datetime, state: Any, due: int) -> Any:
        platform = channels_of.get(channel_id, "?")
        result.held[platform] += 1
        result.held_sources[platform] += due
        return held(channel_id, until, state, due)

    def counting_waiting(core: Any, channel_id: int, exc: Any, now: datetime) -> Any:
        if exc.code == "quota_exceeded":
            result.held[channels_of.get(channel_id, "?")] += 1
        return waiting(core, channel_id, exc, now)

    collect._held, collect._waiting = counting_held, counting_waiting
    try:
        yield
    finally:
        collect._held, collect._waiting = held, waiting


def _count(result: Result, platform: str, now: datetime, rec: Any) -> None:
    result.calls[platform] += 1
    if platform in result.by_hour:
        result.by_hour[platform][now.hour] += 1
    # a page of comments is a listing of a post's edge (not a replies continuation)
    if rec.path.endswith("/commentThreads") or (platform != "youtube"
                                                and rec.path.endswith("/comments")):
        result.pages[platform] += 1


def report(result: Result, budget: dict[str, int]) -> list[str]:
    lines = [f"{result.posts} posts a day per platform, {result.days} day(s) of posts, "
             f"schedule to day {result.days + SCHEDULE_DAYS}; comments seeded: "
             + ", ".join(f"{p} {result.comments[p]}" for p in PLATFORMS)
             + f"; stored {result.stored}; sources still scheduled {result.unfinished}",
             f"per day in steady state at {result.posts} posts a day, and per 1,000 posts a day "
             f"(x {PER / result.posts:g}; each post's reads depend on its own comments only):",
             f"{'platform':<16}{'calls/day':>10}{'pages/day':>10}{'peak hour':>10}"
             f"{'calls/day @1000':>16}{'budget/day':>11}{'share':>8}  verdict"]
    for p in PLATFORMS:
        per_day = result.per_day(p)
        at_1000 = per_day * PER / result.posts
        share = at_1000 / budget[p]
        lines.append(f"{p:<16}{per_day:>10.0f}{result.pages[p] / result.days:>10.0f}"
                     f"{result.peak_hour(p):>10.0f}{at_1000:>16.0f}{budget[p]:>11,}"
                     f"{share:>8.1%}  {'within' if at_1000 <= budget[p] else 'OVER'}"
                     f"  ({BUDGET_SOURCES[p]})")
    if result.max_usage is not None:
        lines += headroom_report(result, budget)
    other = {k: v for k, v in result.calls.items() if k not in PLATFORMS}
    lines.append(f"other requests (not comment reads; YouTube's are token refreshes, no "
                 f"quota): {dict(other) or 0}")
    return lines


def headroom_report(result: Result, budget: dict[str, int]) -> list[str]:
    """The guards' side: the busiest 24 h of calls against the budget and the threshold
    (Meta) or the quota less one upload (YouTube), and what staying within deferred."""
    k = PER / result.posts
    lines = [f"headroom: reads stop at {result.max_usage}% of the budget (Meta, usage modelled "
             f"on the budget x {result.posts / PER:g}); YouTube reads keep one upload's "
             f"quota (its day: the Pacific day, so YouTube's figure is its busiest Pacific "
             f"day); busiest 24 h of calls, x {k:g} per 1,000 posts a day:",
             f"{'platform':<16}{'busiest 24h':>12}{'@1000':>8}{'budget':>8}{'limit':>8}"
             f"{'share':>8}{'jobs held':>10}{'sources left due':>17}  verdict"]
    for p in PLATFORMS:
        busiest = (max(result.youtube_days.values(), default=0) if p == "youtube"
                   else result.busiest_24h[p])
        at_1000 = busiest * k
        limit = (budget[p] - 1600 if p == "youtube"
                 else budget[p] * (result.max_usage or 100) / 100)
        left = str(result.held_sources[p]) if p != "youtube" else "-"
        lines.append(f"{p:<16}{busiest:>12}{at_1000:>8.0f}{budget[p]:>8,}"
                     f"{limit:>8,.0f}{at_1000 / budget[p]:>8.1%}{result.held[p]:>10}"
                     f"{left:>17}  {'within' if at_1000 <= budget[p] else 'OVER'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--posts", type=int, default=1000, help="posts a day per platform")
    ap.add_argument("--days", type=int, default=1, help="days of posts (steady state: any)")
    ap.add_argument("--engaged-users", type=int, default=1)
    ap.add_argument("--impressions", type=int, default=1)
    ap.add_argument("--path", default="var/bench-comments.db")
    ap.add_argument("--max-usage", type=int, default=75,
                    help="WARTA_COMMENTS_MAX_USAGE_PERCENT for the run")
    ap.add_argument("--no-headroom", action="store_true",
                    help="no usage model, YouTube's full quota (the figures before the guard)")
    args = ap.parse_args(argv)
    if args.posts < 1 or args.days < 1:
        ap.error("--posts and --days must be at least 1")
    Path("var").mkdir(exist_ok=True)
    url = database_url(args.backend, 0.0, args.path, fresh=True)
    budget = budgets(args.engaged_users, args.impressions)
    result = run(url, args.posts, args.days, budget=budget,
                 max_usage=None if args.no_headroom else args.max_usage)
    for line in report(result, budget):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
