"""The API takes and shows a post's rule; a bad rule is a 400 with field messages."""

from __future__ import annotations

from datetime import timedelta

from publisher.models import Role
from tests.helpers import sandbox_channel


def test_the_post_json_carries_the_rule(core, clock, make_user, api_as) -> None:  # type: ignore[no-untyped-def]
    start = (clock.now + timedelta(days=30)).strftime("%Y-%m-%dT09:00")
    until = (clock.now + timedelta(days=80)).date().isoformat()
    op = make_user(Role.OPERATOR)
    api = api_as(op)
    channel = sandbox_channel(core, op, "ra-1")
    rule = {"freq": "monthly_nth", "nth": 1, "weekday": 0, "count": 6}
    r = api.post("/posts", json={"body": "Rapat warga", "channels": [channel],
                                 "scheduled_at": start, "recurrence": rule})
    assert r.status_code == 201, r.json
    assert r.json["recurrence"] == rule | {"weekdays": None, "month_day": None, "until": None,
                                           "timezone": "Asia/Jakarta"}
    post_id = r.json["id"]
    assert api.get(f"/posts/{post_id}").json["recurrence"]["nth"] == 1
    bad = api.patch(f"/posts/{post_id}", json={"recurrence": {"freq": "weekly", "count": 3}})
    assert bad.status_code == 400 and "recurrence.weekdays" in bad.json["error"]["fields"]
    weekly = api.patch(f"/posts/{post_id}", json={"recurrence": {
        "freq": "weekly", "weekdays": [0, 3], "until": until}})
    assert weekly.json["recurrence"]["weekdays"] == [0, 3]
    assert weekly.json["content_hash"] != r.json["content_hash"]
    assert api.patch(f"/posts/{post_id}", json={"body": "Rapat warga RW 3"}).json[
        "recurrence"]["until"] == until
    assert api.patch(f"/posts/{post_id}", json={"recurrence": None}).json["recurrence"] is None
