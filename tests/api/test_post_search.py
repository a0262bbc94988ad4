"""GET /api/v1/posts: literal text search, unit scoping, and a query count that does not grow
with the page (publications, channels and media come with the page, not one query per post)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import event

from publisher.models import Role, User
from publisher.services import media as media_svc
from publisher.services import posts as post_svc
from tests.helpers import WILDCARD_BODIES, WILDCARD_CASES, sandbox_channel


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER),
            "op_b": make_user(Role.OPERATOR, "b"), "admin": make_user(Role.ADMIN, None)}


def drafts(core, author: User, bodies: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    channel = sandbox_channel(core, author, f"akun-{author.id}")
    with core.sessions.begin() as s:
        actor = s.get(User, author.id)
        return [post_svc.create_post(core, s, actor,
                                     post_svc.PostInput(body=b, channels=[channel])).id
                for b in bodies]


def bodies_found(api, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    r = api.get("/posts", query_string={"q": text, "per_page": 100})
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["posts"])
    return sorted(p["body"] for p in r.json["posts"])


@pytest.mark.parametrize(("needle", "expected"), WILDCARD_CASES)
def test_search_text_with_wildcards_matches_literally(core, people, api_as, needle, expected):
    drafts(core, people["op"], WILDCARD_BODIES)
    assert bodies_found(api_as(people["op"]), needle) == expected


def test_search_is_scoped_to_the_unit(core, people, api_as):
    drafts(core, people["op"], ["Rapat koordinasi Dinsos", "Diskon 50% Dinsos"])
    drafts(core, people["op_b"], ["Rapat koordinasi Bappeda"])
    op, op_b, admin = api_as(people["op"]), api_as(people["op_b"]), api_as(people["admin"])
    assert bodies_found(op, "rapat") == ["Rapat koordinasi Dinsos"]
    assert bodies_found(op_b, "rapat") == ["Rapat koordinasi Bappeda"]
    assert bodies_found(op_b, "Dinsos") == []
    assert bodies_found(op_b, "%") == []
    assert bodies_found(admin, "rapat") == ["Rapat koordinasi Bappeda", "Rapat koordinasi Dinsos"]
    assert op_b.get("/posts", query_string={"status": "draft"}).json["total"] == 1


def _png() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 90, 160)).save(buf, "PNG")
    buf.seek(0)
    return buf


def test_list_does_a_constant_number_of_queries(core, people, api_as):
    """5 or 25 approved posts, each with two channels, a picture and two publications: the
    list costs the same number of queries (it was one more per post)."""
    channels = [sandbox_channel(core, people["op"], "dinsos-fb"),
                sandbox_channel(core, people["op"], "dinsos-tg")]
    with core.sessions.begin() as s:
        picture = media_svc.upload_media(core, s, s.get(User, people["op"].id), _png(),
                                         "foto.png").id

    def add_posts(n: int) -> None:
        for i in range(n):
            with core.sessions.begin() as s:
                author = s.get(User, people["op"].id)
                post = post_svc.create_post(core, s, author, post_svc.PostInput(
                    body=f"Kabar {i}", channels=channels, media=[picture]))
                post_svc.submit_post(core, s, author, post.id)
                post_svc.approve_post(core, s, s.get(User, people["ap"].id), post.id)

    op = api_as(people["op"])
    # The token's first use records its time (an UPDATE); the clock stands still, so later
    # requests do not: use it once so both counts below see the same authentication work.
    assert op.get("/channels").status_code == 200

    def count_list_queries() -> tuple[int, list[dict]]:
        statements: list[str] = []

        def record(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            statements.append(statement)

        event.listen(core.engine, "before_cursor_execute", record)
        try:
            r = op.get("/posts", query_string={"per_page": 100})
        finally:
            event.remove(core.engine, "before_cursor_execute", record)
        assert r.status_code == 200, r.json
        return len(statements), r.json["posts"]

    add_posts(5)
    few, posts = count_list_queries()
    assert len(posts) == 5
    add_posts(20)
    many, posts = count_list_queries()
    assert len(posts) == 25
    assert all(len(p["publications"]) == 2 and p["media"] == [picture] for p in posts)
    assert {pub["platform"] for p in posts for pub in p["publications"]} == {"sandbox"}
    assert many == few, f"{few} queries for 5 posts, {many} for 25"
