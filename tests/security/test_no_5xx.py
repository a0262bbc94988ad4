"""Bad input is a 4xx naming what was wrong, never a 500: ids beyond 64 bits, pages out of
range, NUL characters, over-long links and permalinks, dates at the ends of the calendar,
deeply nested JSON, a list where an object belongs (each found by hand or by schemathesis)."""

from __future__ import annotations

import pytest

from publisher.models import Role
from tests.helpers import sandbox_channel

HUGE = "1434" + "9" * 40


@pytest.fixture
def api(make_user, api_as):  # type: ignore[no-untyped-def]
    return api_as(make_user(Role.APPROVER, "a"))


@pytest.mark.parametrize("path", [f"/publications/{HUGE}/metrics", f"/posts/{HUGE}",
                                  f"/publications/{2**63}/attempts",
                                  # ids are INTEGER: 32 bits on PostgreSQL (was a 500 there)
                                  f"/posts/{2**31}", "/posts/104499968653553616/reject"])
def test_ids_beyond_64_bits_are_404(api, path: str):  # type: ignore[no-untyped-def]
    # the router's int converter holds what an id column holds: no such object can exist
    r = api.post(path) if path.endswith("/reject") else api.get(path)
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("args,field", [({"page": HUGE}, "page"), ({"page": "0"}, "page"),
                                        ({"per_page": "1000"}, "per_page"),
                                        ({"channel": HUGE}, "channel"),
                                        ({"author": str(2**63)}, "author"),
                                        ({"q": "a\x00b"}, "q")])
def test_query_out_of_range_names_the_parameter(api, args, field):  # type: ignore[no-untyped-def]
    r = api.get("/posts", query_string=args)
    assert r.status_code == 400, r.get_json()
    assert field in r.get_json()["error"]["fields"]


def test_report_ids_beyond_64_bits(api):  # type: ignore[no-untyped-def]
    r = api.get("/reports/engagement", query_string={"unit": HUGE})
    assert r.status_code == 400 and "unit" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("body,field", [
    ({"body": "a\x00b", "channels": []}, "body"),
    ({"body": "x", "link": "https://e.example/" + "a" * 2000}, "link"),
    ({"body": "x", "channels": [2**63]}, "channels.0"),
    ({"body": "x", "channels": [2**31]}, "channels.0"),
    ({"body": "x", "media": [2**31]}, "media.0"),
    ({"body": "x", "campaign": 2**64}, "campaign"),
    ({"body": "x", "overrides": []}, "overrides"),
    ({"body": "x", "overrides": {"1": ["a"]}}, "overrides.1"),
])
def test_post_bodies_name_the_field(api, body, field):  # type: ignore[no-untyped-def]
    r = api.post("/posts", json=body)
    assert r.status_code == 400, r.get_json()
    assert field in r.get_json()["error"]["fields"], r.get_json()


@pytest.mark.parametrize("raw", ["[1, 2]", '"text"', "[" * 5000 + "]" * 5000,
                                 '{"body": ' + '{"a": ' * 100 + "1" + "}" * 100 + "}",
                                 '{"body": "x"'])
def test_json_that_is_not_an_object_or_too_deep(api, raw: str):  # type: ignore[no-untyped-def]
    r = api.post("/posts", data=raw, content_type="application/json")
    assert r.status_code == 400
    assert r.get_json()["error"]["fields"]


def test_long_permalink_is_a_field_error(core, api, make_user):  # type: ignore[no-untyped-def]
    r = api.post("/publications/1/mark-published",
                 json={"permalink": "https://facebook.com/" + "a" * 1000})
    assert r.status_code == 400 and "permalink" in r.get_json()["error"]["fields"]


def test_channel_name_too_long(api):  # type: ignore[no-untyped-def]
    r = api.post("/channels", json={"platform": "sandbox", "name": "n" * 201,
                                    "credentials": {"account": "a"}})
    assert r.status_code == 400 and "name" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/kalender?d=9999-12-31", "/kalender?d=9999-12-31&view=week",
                                  "/kalender?d=0001-01-01&view=week",
                                  "/laporan/?from=9999-12-01&to=9999-12-31",
                                  "/laporan/?from=0001-01-01&to=0001-01-02",
                                  f"/unggahan/{HUGE}", "/unggahan?q=%00"])
def test_pages_at_the_ends_of_the_calendar(client, login_as, path: str):  # type: ignore[no-untyped-def]
    login_as(Role.ADMIN, None)
    assert 400 <= client.get(path).status_code < 500


@pytest.mark.parametrize("path", ["/publik/laporan?bulan=9999-12",
                                  "/publik/laporan.csv?bulan=0001-01",
                                  "/publik/laporan.json?bulan=9999-12"])
def test_public_report_at_the_ends_of_the_calendar(client, path: str):  # type: ignore[no-untyped-def]
    assert client.get(path).status_code == 400  # no login needed to reach it


def test_nul_in_a_form_field_is_refused(client, login_as, core):  # type: ignore[no-untyped-def]
    user = login_as(Role.OPERATOR, "a")
    ch = sandbox_channel(core, user, "nul")
    r = client.post("/unggahan/baru", data={"body": "a\x00b", "channels": [str(ch)]})
    assert r.status_code == 400


def test_a_lone_surrogate_is_a_field_error(api):  # type: ignore[no-untyped-def]
    """``"\\ud800"`` is valid JSON but no UTF-8 text: it was a 500 (UnicodeEncodeError)."""
    r = api.post("/posts", data='{"body": "a\\ud800b", "channels": []}',
                 content_type="application/json")
    assert r.status_code == 400, r.get_json()
    assert "body" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "9001-01-02T00:00:00Z"])
def test_a_time_at_the_end_of_the_calendar_is_refused(api, core, make_user, when):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, make_user(Role.OPERATOR, "a"), "akhir")
    r = api.post("/posts", json={"body": "x", "channels": [ch], "scheduled_at": when})
    assert r.status_code == 400, r.get_json()
    assert "scheduled_at" in r.get_json()["error"]["fields"]


def test_a_post_stored_at_the_end_of_time_does_not_break_the_pages(client, login_as, core):  # type: ignore[no-untyped-def]
    """One post at 9999-12-31 23:59 UTC (stored before it was refused) made every page that
    lists it a 500 for the whole unit: it is past the end of ``datetime`` in WIB."""
    from datetime import UTC, datetime

    from publisher.models import Post
    from publisher.services import posts as post_svc

    user = login_as(Role.APPROVER, "a")
    ch = sandbox_channel(core, user, "akhir")
    with core.sessions.begin() as s:
        post = post_svc.create_post(core, s, s.get(type(user), user.id),
                                    post_svc.PostInput(body="x", channels=[ch]))
        s.get(Post, post.id).scheduled_at = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
        post_id = post.id
    for path in ("/unggahan", f"/unggahan/{post_id}", "/persetujuan", "/"):
        r = client.get(path)
        assert r.status_code == 200, path
    assert "31 Des 9999 23.59 UTC" in client.get("/unggahan").get_data(as_text=True)


def test_a_page_given_json_that_is_not_an_object(client, login_as, core):  # type: ignore[no-untyped-def]
    """Flask-WTF reads a JSON body as a form, the calendar's drag reads ``when`` from it: a
    list there was a 500."""
    r = client.post("/masuk", json=[1, 2])
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {"body": "JSON object"}
    user = login_as(Role.OPERATOR, "a")
    ch = sandbox_channel(core, user, "seret")
    from publisher.services import posts as post_svc

    with core.sessions.begin() as s:
        post_id = post_svc.create_post(core, s, s.get(type(user), user.id),
                                       post_svc.PostInput(body="x", channels=[ch])).id
    assert client.post(f"/unggahan/{post_id}/jadwal", json=[1]).status_code == 400
    assert client.post(f"/unggahan/{post_id}/jadwal", json=7).status_code == 400
