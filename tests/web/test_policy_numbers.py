"""Numbers in the policy forms and arguments: '²' passes ``str.isdigit`` but not ``int``, and
``int`` refuses more than 4,300 digits; each is a 4xx or ignored, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from publisher.models import Post, Role
from publisher.services.query_args import small_int

BAD = ["²", "1" * 5000]


def test_small_int_takes_only_short_ascii_digits() -> None:
    assert small_int("42") == 42
    for raw in BAD + ["", None, "-1", "1.0", "١٢", "1" * 12]:
        assert small_int(raw) is None


@pytest.mark.parametrize("bad", BAD, ids=["sup2", "5000digits"])
@pytest.mark.parametrize("kind", ["daily_limit", "near_duplicate"])
def test_admin_rule_value_is_a_field_message(client, login_as, kind, bad):  # type: ignore[no-untyped-def]
    login_as(Role.ADMIN, None)
    r = client.post("/admin/kebijakan", data={"kind": kind, "severity": "hard", "value": bad,
                                             "reason": "x", "campaign": bad})
    assert r.status_code == 400


@pytest.mark.parametrize("bad", BAD, ids=["sup2", "5000digits"])
def test_composer_panel_and_submit_ignore_a_bad_number(client, login_as, make_user,  # type: ignore[no-untyped-def]
                                                        make_channel, core, bad):
    admin = make_user(Role.ADMIN, None)
    ch = make_channel(admin)
    login_as(Role.OPERATOR, "a")
    form = {"body": "Layanan KTP", "channels": [str(ch), bad], "ack": [bad],
            f"alt_{bad}": "x", f"o_media_{ch}": [bad], "when": "now"}
    assert client.post("/unggahan/periksa-kebijakan", data=form).status_code == 200
    assert client.post("/unggahan/baru", data=form).status_code in (200, 302, 400)
    with core.sessions() as s:
        post = s.execute(select(Post)).scalars().first()
    if post is not None:
        assert client.post(f"/unggahan/{post.id}/ajukan",
                           data={"ack": [bad]}).status_code in (302, 400)


@pytest.mark.parametrize("bad", BAD, ids=["sup2", "5000digits"])
def test_api_acknowledge_is_a_400(core, make_user, make_channel, api_as, bad):  # type: ignore[no-untyped-def]
    op = make_user(Role.OPERATOR, "a")
    ch = make_channel(op)
    api = api_as(op)
    post = api.post("/posts", json={"body": "Layanan KTP", "channels": [ch]}).json
    r = api.post(f"/posts/{post['id']}/submit?acknowledge={bad}")
    assert r.status_code == 400 and "acknowledge" in r.json["error"]["fields"]
