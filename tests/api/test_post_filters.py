"""GET /api/v1/posts filters: channel, campaign, author and creation time narrow the list as
the posts page's do; unreadable values are a 400 naming the parameter; filtering by another
unit's ids finds nothing and reveals nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher.models import Role, Unit, User
from publisher.reports.campaigns import create_campaign
from publisher.services import posts as post_svc
from tests.helpers import sandbox_channel

#: Creation times (UTC) and what they are in WIB (UTC+7), the units' zone.
SATU_AT = datetime(2026, 12, 1, 16, 30, tzinfo=UTC)    # 1 December, 23:30 WIB
DUA_AT = datetime(2026, 12, 1, 17, 30, tzinfo=UTC)     # 2 December, 00:30 WIB
TIGA_AT = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)    # 29 November, 17:00 WIB


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "op2": make_user(Role.OPERATOR),
            "op_b": make_user(Role.OPERATOR, "b"), "admin": make_user(Role.ADMIN, None)}


@pytest.fixture
def scene(core, clock, people):  # type: ignore[no-untyped-def]
    """Three posts of unit a (two authors, two channels, one campaign) and one of unit b."""
    fb = sandbox_channel(core, people["op"], "dinsos-fb")
    tg = sandbox_channel(core, people["op"], "dinsos-tg")
    ch_b = sandbox_channel(core, people["op_b"], "bappeda-fb")
    with core.sessions.begin() as s:
        admin = s.get(User, people["admin"].id)
        campaign = create_campaign(s, admin, name="Bansos", description="", due_at=None,
                                   unit_ids=[people["op"].unit_id], now=clock.now).id

    def post(author: User, body: str, channels: list[int], at: datetime,
             campaign: int | None = None) -> int:
        clock.now = at
        with core.sessions.begin() as s:
            return post_svc.create_post(core, s, s.get(User, author.id), post_svc.PostInput(
                body=body, channels=channels, campaign=campaign)).id

    ids = {"satu": post(people["op"], "Kabar satu", [fb], SATU_AT, campaign),
           "dua": post(people["op2"], "Kabar dua", [tg], DUA_AT),
           "tiga": post(people["op"], "Kabar tiga", [fb, tg], TIGA_AT),
           "bappeda": post(people["op_b"], "Kabar Bappeda", [ch_b], DUA_AT)}
    return {"fb": fb, "tg": tg, "ch_b": ch_b, "campaign": campaign, "posts": ids,
            "op": people["op"].id, "op2": people["op2"].id, "op_b": people["op_b"].id}


def bodies(api, **args: object) -> list[str]:  # type: ignore[no-untyped-def]
    r = api.get("/posts", query_string={"per_page": 100, **args})
    assert r.status_code == 200, r.json
    assert r.json["total"] == len(r.json["posts"])
    return sorted(p["body"].removeprefix("Kabar ") for p in r.json["posts"])


#: (filter, expected bodies) for an operator of unit a; ``$name`` is an id from the scene.
FILTERS = [
    ({"channel": "$fb"}, ["satu", "tiga"]),
    ({"channel": "$tg"}, ["dua", "tiga"]),
    ({"campaign": "$campaign"}, ["satu"]),
    ({"author": "$op2"}, ["dua"]),
    ({"author": "$op"}, ["satu", "tiga"]),
    # A date alone is that day's midnight in the unit's zone (WIB): 2 December 00:00 WIB
    # is 1 December 17:00 UTC, after "satu" (16:30 UTC) and before "dua" (17:30 UTC).
    ({"created_from": "2026-12-02"}, ["dua"]),
    ({"created_before": "2026-12-02"}, ["satu", "tiga"]),
    ({"created_from": "2026-12-01", "created_before": "2026-12-02"}, ["satu"]),
    ({"created_from": "2026-11-30", "created_before": "2026-12-01"}, []),
    # A time without an offset is local too; with an offset or Z it is what it says.
    ({"created_from": "2026-12-01T23:45"}, ["dua"]),
    ({"created_before": "2026-12-01T16:31:00Z"}, ["satu", "tiga"]),
    ({"created_from": "2026-12-01T23:30+07:00"}, ["dua", "satu"]),
    ({"channel": "$fb", "author": "$op", "created_from": "2026-12-01"}, ["satu"]),
    ({"channel": "$fb", "q": "KABAR"}, ["satu", "tiga"]),  # with the text search
    ({"channel": "$fb", "author": "", "created_from": " "}, ["satu", "tiga"]),  # empty: any
]


@pytest.mark.parametrize(("args", "expected"), FILTERS, ids=[str(a) for a, _ in FILTERS])
def test_each_filter_narrows_the_list(people, scene, api_as, args, expected):
    args = {k: str(scene[v[1:]]) if v.startswith("$") else v for k, v in args.items()}
    assert bodies(api_as(people["op"]), **args) == expected


def test_dates_are_read_in_the_callers_zone(core, people, scene, api_as):
    """Unit a moves to WIT (UTC+9): its operator's "2 December" starts at 1 December 15:00
    UTC, before "satu"; an admin without a unit reads the same date in WARTA_TIMEZONE (WIB)."""
    with core.sessions.begin() as s:
        s.get(Unit, people["op"].unit_id).timezone = "Asia/Jayapura"
    assert core.settings.timezone == "Asia/Jakarta"
    assert bodies(api_as(people["op"]), created_from="2026-12-02") == ["dua", "satu"]
    assert bodies(api_as(people["admin"]), created_from="2026-12-02",
                  created_before="2026-12-03") == ["Bappeda", "dua"]


BAD = [("channel", "fb"), ("channel", "1.5"), ("campaign", "bansos"), ("author", "me"),
       ("created_from", "besok"), ("created_before", "2026-13-01"),
       ("created_from", "01/12/2026"), ("created_before", "0001-01-01"),
       ("per_page", "semua"), ("status", "published"), ("status", "DRAFT")]


@pytest.mark.parametrize(("name", "value"), BAD, ids=[f"{n}={v}" for n, v in BAD])
def test_unreadable_values_are_a_400_naming_the_parameter(people, scene, api_as, name, value):
    r = api_as(people["op"]).get("/posts", query_string={name: value})
    assert r.status_code == 400, r.json
    err = r.json["error"]
    assert err["code"] == "invalid" and list(err["fields"]) == [name], err
    assert name in err["message"] or value in err["message"], err
    assert err["message_en"] and err["message_en"] != err["message"], err


def test_another_units_ids_find_nothing_and_reveal_nothing(people, scene, api_as):
    op_b = api_as(people["op_b"])
    assert bodies(op_b) == ["Bappeda"]
    unknown = op_b.get("/posts", query_string={"channel": 999_999})
    for name, value in (("channel", scene["fb"]), ("campaign", scene["campaign"]),
                        ("author", scene["op"])):
        r = op_b.get("/posts", query_string={name: value})
        assert r.status_code == 200, r.json
        assert r.json == {**unknown.json, "posts": [], "total": 0}, \
            "another unit's id answers exactly like an id that does not exist"
    assert unknown.json["posts"] == [] and unknown.json["total"] == 0
    assert bodies(api_as(people["op"]), channel=scene["ch_b"]) == []
    assert bodies(api_as(people["admin"]), channel=scene["ch_b"]) == ["Bappeda"]


def test_filters_keep_the_paging(people, scene, api_as):
    r = api_as(people["op"]).get("/posts", query_string={"channel": scene["fb"], "per_page": 1,
                                                          "page": 2})
    assert r.status_code == 200, r.json
    assert (r.json["total"], r.json["page"], r.json["per_page"]) == (2, 2, 1)
    assert [p["id"] for p in r.json["posts"]] == [scene["posts"]["tiga"]], "newest first"


def test_openapi_documents_the_filters(client):
    doc = client.get("/api/v1/openapi.json").json
    params = {p["name"]: p for p in doc["paths"]["/posts"]["get"]["parameters"]}
    assert {"status", "q", "channel", "campaign", "author", "created_from", "created_before",
            "page", "per_page"} <= set(params)
    for name in ("channel", "campaign", "author", "page", "per_page"):
        assert params[name]["schema"] == {"type": "integer"}, name
    for name in ("created_from", "created_before"):
        assert params[name]["in"] == "query" and params[name]["schema"]["type"] == "string"
        assert "zone" in params[name]["description"], "says how a date without a zone is read"

