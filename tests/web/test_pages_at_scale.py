"""Pages read bounded amounts (issue 15): the calendar counts per day and shows the first few
items with a "more" link to a paged day; the dashboard's lists stop at ``LIST_LIMIT`` with a
link to the rest; the posts list pages by position; the dashboard's figures are cached per
scope, never across units. Each test fails when its bound or its isolation is removed."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from publisher.models import Channel, MetricSnapshot, Post, Publication, Role, User
from web.ui.calendar import entries
from web.ui.dashboard import queries

WIB = ZoneInfo("Asia/Jakarta")


@pytest.fixture
def seed(core, units):  # type: ignore[no-untyped-def]
    """Insert approved posts with one publication each, straight into the tables (hundreds
    through the services would take minutes): ``seed(user, unit, platform, [times], status)``."""
    channels: dict[tuple[str, str], int] = {}

    def add(author: User, unit: str, platform: str, times: list[datetime],
            status: str = "published", body: str = "Unggahan") -> list[int]:
        with core.sessions.begin() as s:
            key = (unit, platform)
            if key not in channels:
                ch = Channel(unit_id=units[unit].id, platform=platform, name=f"{platform} {unit}",
                             status="active", credentials_encrypted=b"x", state={})
                s.add(ch)
                s.flush()
                channels[key] = ch.id
            ids = []
            for n, at in enumerate(times):
                post = Post(unit_id=units[unit].id, author_id=author.id, body=f"{body} {n}",
                            status="approved", scheduled_at=at, overrides={},
                            created_at=at, updated_at=at)
                s.add(post)
                s.flush()
                s.add(Publication(post_id=post.id, channel_id=channels[key], status=status,
                                  scheduled_at=at,
                                  published_at=at if status == "published" else None))
                ids.append(post.id)
            return ids
    return add


def _local_day(clock) -> datetime:  # type: ignore[no-untyped-def]
    """Ten o'clock on the clock's local (WIB) day, in UTC terms."""
    local = clock.now.astimezone(WIB)
    return local.replace(hour=10, minute=0, second=0, microsecond=0)


def _cell(html: str, day: str) -> str:
    start = html.index(f'data-date="{day}"')
    nxt = html.find('class="cell', start)
    return html[start:nxt if nxt != -1 else len(html)]


def test_a_busy_day_shows_counts_the_first_items_and_a_link_to_the_rest(
        client, login_as, make_user, seed, clock):  # type: ignore[no-untyped-def]
    me = login_as(Role.OPERATOR, "a")
    other = make_user(Role.OPERATOR, "b")
    ten = _local_day(clock)
    seed(me, "a", "facebook", [ten + timedelta(minutes=i) for i in range(7)])
    seed(me, "a", "telegram", [ten + timedelta(hours=1, minutes=i) for i in range(3)],
         status="failed")
    seed(other, "b", "facebook", [ten] * 5, body="Punya Bappeda")  # never counted for unit a
    day = ten.date().isoformat()
    cell = _cell(client.get(f"/kalender?d={day}").get_data(as_text=True), day)
    assert cell.count('class="ev-item"') == 3  # the month view's PER_DAY
    assert "10 penayangan" in cell  # 7 + 3, not unit b's 5
    assert re.search(r"Facebook</span> 7", cell) and re.search(r"Telegram</span> 3", cell)
    assert "Gagal 3" in cell
    assert "+ 7 lainnya" in cell and f"view=day&amp;d={day}" in cell
    assert "Punya Bappeda" not in cell


def test_the_day_view_pages_through_every_item_in_time_order(
        client, login_as, seed, clock, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(entries, "DAY_PAGE", 4)
    me = login_as(Role.OPERATOR, "a")
    ten = _local_day(clock)
    seed(me, "a", "facebook", [ten + timedelta(minutes=9 - i) for i in range(10)])
    day = ten.date().isoformat()
    seen = []
    for page in (1, 2, 3):
        html = client.get(f"/kalender?view=day&d={day}&halaman={page}").get_data(as_text=True)
        seen += re.findall(r'class="ev-line">(\d\d[.:]\d\d) ', html)
        assert html.count('class="ev-item"') == (4 if page < 3 else 2)
    assert seen == sorted(seen) and len(seen) == 10  # every item once, earliest first


@pytest.mark.parametrize("clock", ["wib-before-midnight", "wib-after-midnight"],
                         indirect=True)
def test_an_item_just_before_local_midnight_is_on_that_local_day(
        client, login_as, seed, clock):  # type: ignore[no-untyped-def]
    me = login_as(Role.OPERATOR, "a")
    local = clock.now.astimezone(WIB)
    late = datetime.combine(local.date(), datetime.max.time().replace(microsecond=0), WIB)
    seed(me, "a", "facebook", [late - timedelta(seconds=30)], body="Larut")
    seed(me, "a", "facebook", [late + timedelta(seconds=30)], body="Dini")
    html = client.get(f"/kalender?d={local.date().isoformat()}").get_data(as_text=True)
    assert "Larut" in _cell(html, local.date().isoformat())
    assert "Dini" in _cell(html, (local.date() + timedelta(days=1)).isoformat())


def test_dashboard_lists_stop_at_the_limit_with_a_link_to_the_rest(
        client, login_as, seed, clock, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(queries, "LIST_LIMIT", 4)
    me = login_as(Role.OPERATOR, "a")
    later = clock.now + timedelta(minutes=5)
    today_end = datetime.combine(clock.now.astimezone(WIB).date() + timedelta(days=1),
                                 datetime.min.time(), WIB)
    if later >= today_end:  # the clock's day is almost over: stay inside it
        later = clock.now + (today_end - clock.now) / 2
    seed(me, "a", "facebook", [later] * 6, status="queued")
    html = client.get("/").get_data(as_text=True)
    today = html[html.index('id="h-today"'):html.index("</section>", html.index('id="h-today"'))]
    assert today.count("Unggahan ") == 4
    assert "2 lagi hari ini" in today and "view=day" in today


def test_dashboard_figures_are_cached_per_unit_never_across(
        app, client, login_as, make_user, seed, clock, core):  # type: ignore[no-untyped-def]
    cache = app.extensions["warta.figures"]
    ticks = [0.0]
    cache._clock = lambda: ticks[0]
    cache.ttl = 60
    op_a = login_as(Role.OPERATOR, "a")
    op_b = make_user(Role.OPERATOR, "b")
    admin = make_user(Role.ADMIN, None)
    first = clock.now.astimezone(WIB).replace(day=1, hour=12, minute=0)
    at = first if first <= clock.now else clock.now
    for who, unit, likes in ((op_a, "a", 1234), (op_b, "b", 700)):
        pub_post = seed(who, unit, "facebook", [at])[0]
        with core.sessions.begin() as s:
            pub = s.query(Publication).filter_by(post_id=pub_post).one()
            s.add(MetricSnapshot(publication_id=pub.id, collected_at=at, likes=likes))

    def likes_seen(user: User) -> str:
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
        html = client.get("/").get_data(as_text=True)
        card = html[html.index('id="h-eng"'):html.index("</section>", html.index('id="h-eng"'))]
        return re.search(r"<dt>Suka</dt><dd>([^<]+)</dd>", card).group(1)  # type: ignore[union-attr]

    assert likes_seen(op_a) == "1.234"
    assert likes_seen(op_b) == "700"  # unit b's own figure, not unit a's cached one
    assert likes_seen(admin) == "1.934"
    with core.sessions.begin() as s:  # a new figure for unit a: not shown until the entry ages
        pub = s.query(Publication).join(Post).filter(Post.unit_id == op_a.unit_id).first()
        s.add(MetricSnapshot(publication_id=pub.id, collected_at=at + timedelta(minutes=1),
                             likes=2000))
    assert likes_seen(op_a) == "1.234"
    ticks[0] = 61.0
    assert likes_seen(op_a) == "2.000"


def _ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<span class="hint">#(\d+) ', html)]


def test_the_posts_list_pages_by_position_both_ways(client, login_as, make_user, seed,
                                                    clock):  # type: ignore[no-untyped-def]
    me = login_as(Role.OPERATOR, "a")
    other = make_user(Role.OPERATOR, "b")
    made = seed(me, "a", "facebook", [clock.now - timedelta(minutes=i) for i in range(45)])
    foreign = seed(other, "b", "facebook", [clock.now - timedelta(minutes=20)])[0]
    newest_first = made  # minute 0 is the newest
    html = client.get("/unggahan").get_data(as_text=True)
    assert _ids(html) == newest_first[:20] and "45 unggahan" in html
    older = re.search(r'href="(/unggahan\?sebelum=\d+)"', html).group(1)  # type: ignore[union-attr]
    html = client.get(older).get_data(as_text=True)
    assert _ids(html) == newest_first[20:40]
    newer = re.search(r'href="(/unggahan\?sesudah=\d+)"', html).group(1)  # type: ignore[union-attr]
    assert _ids(client.get(newer).get_data(as_text=True)) == newest_first[:20]
    older = re.search(r'href="(/unggahan\?sebelum=\d+)"', html).group(1)  # type: ignore[union-attr]
    last = client.get(older).get_data(as_text=True)
    assert _ids(last) == newest_first[40:] and "sebelum=" not in last
    # another unit's post as the position is ignored: its time says nothing, the first page
    assert _ids(client.get(f"/unggahan?sebelum={foreign}").get_data(as_text=True)) \
        == newest_first[:20]


def test_the_posts_count_stops_at_the_cap(client, login_as, seed, clock,
                                          monkeypatch):  # type: ignore[no-untyped-def]
    from publisher.services import post_search

    monkeypatch.setattr(post_search, "COUNT_CAP", 10)
    monkeypatch.setattr("web.ui.posts.routes.COUNT_CAP", 10)
    me = login_as(Role.OPERATOR, "a")
    seed(me, "a", "facebook", [clock.now - timedelta(minutes=i) for i in range(12)])
    html = client.get("/unggahan").get_data(as_text=True)
    assert "Lebih dari 10 unggahan" in html


def test_the_users_page_is_paged_and_filters_by_unit(client, login_as, make_user,
                                                     monkeypatch):  # type: ignore[no-untyped-def]
    from web.ui.admin import routes

    monkeypatch.setattr(routes, "USERS_PER_PAGE", 3)
    admin = login_as(Role.ADMIN, None)
    made = [make_user(Role.OPERATOR, "a") for _ in range(3)] + [make_user(Role.OPERATOR, "b")]
    seen: list[str] = []
    for page in (1, 2):
        html = client.get(f"/admin/pengguna?halaman={page}").get_data(as_text=True)
        rows = re.findall(r'<tr id="user-(\d+)"', html)
        assert len(rows) == (3 if page == 1 else 2)
        seen += rows
    assert sorted(map(int, seen)) == sorted([admin.id, *(u.id for u in made)])
    unit_b = made[-1].unit_id
    html = client.get(f"/admin/pengguna?unit={unit_b}").get_data(as_text=True)
    assert re.findall(r'<tr id="user-(\d+)"', html) == [str(made[-1].id)]


def test_the_approval_queue_is_paged_oldest_request_first(client, login_as, make_user, core,
                                                          units, clock, monkeypatch):  # type: ignore[no-untyped-def]
    from web.ui.posts import approvals

    monkeypatch.setattr(approvals, "PER_PAGE", 4)
    author = make_user(Role.OPERATOR, "a")
    login_as(Role.APPROVER, "a")
    with core.sessions.begin() as s:
        made = []
        for n in range(6):
            post = Post(unit_id=units["a"].id, author_id=author.id, body=f"Menunggu {n}",
                        status="submitted", overrides={},
                        submitted_at=clock.now - timedelta(minutes=60 - n))
            s.add(post)
            s.flush()
            made.append(post.id)
    first = client.get("/persetujuan").get_data(as_text=True)
    second = client.get("/persetujuan?halaman=2").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'id="post-(\d+)"', first + second)]
    assert shown == made  # every request once, the oldest first, four then two
    assert len(re.findall(r'id="post-(\d+)"', first)) == 4
