"""The composer's "Ulangi" section and the post page's next occurrences with skip and move."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from publisher.models import Post, RecurrenceException, Role, User
from publisher.services import posts as post_svc
from tests.helpers import sandbox_channel

FORM = {"body": "Senam pagi bersama", "when": "later",
        "r_freq": "weekly", "r_weekdays": ["0", "4"], "r_end": "count", "r_count": "8"}


def _next_monday_7_wib(now: datetime) -> datetime:
    """07.00 WIB on the first Monday at least a day after ``now`` (wherever the clock starts)."""
    day = (now + timedelta(days=1)).astimezone(ZoneInfo("Asia/Jakarta")).date()
    day += timedelta(days=(7 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


def test_composing_approving_and_skipping_a_series(client, core, clock, login_as) -> None:  # type: ignore[no-untyped-def]
    monday = _next_monday_7_wib(clock.now)
    FORM["scheduled_at"] = monday.strftime("%Y-%m-%dT%H:%M")
    op = login_as(Role.OPERATOR, "a")
    channel = sandbox_channel(core, op, "rp-1")
    page = client.get("/unggahan/baru").get_data(as_text=True)
    assert "Ulangi" in page and "RFC 5545" in page
    bad = client.post("/unggahan/baru", data=FORM | {"r_weekdays": [], "channels": [channel]})
    assert bad.status_code == 400 and "Pilih minimal satu hari." in bad.get_data(as_text=True)
    r = client.post("/unggahan/baru", data=FORM | {"channels": [channel], "action": "submit"})
    assert r.status_code == 302
    with core.sessions() as s:
        post = s.execute(select(Post)).scalar_one()
        post_id = post.id
        assert post.recurrence is not None and post.recurrence.weekdays == [0, 4]
        assert post.recurrence.count == 8 and post.recurrence.timezone == "Asia/Jakarta"
    edit = client.get(f"/unggahan/{post_id}/ubah").get_data(as_text=True)
    assert 'name="r_count" min="1" max="366" value="8"' in edit
    ap = login_as(Role.APPROVER, "a")
    queue = client.get("/persetujuan").get_data(as_text=True)
    assert "Setiap minggu pada Senin, Jumat; 8 kali" in queue and "setiap jadwal" in queue
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get(User, ap.id), post_id)
    detail = client.get(f"/unggahan/{post_id}").get_data(as_text=True)
    assert "Jadwal berikutnya" in detail and "Setiap minggu pada Senin, Jumat; 8 kali" in detail
    assert detail.count("data-occurrence=") == 8 and "Lewati" in detail
    first = monday.astimezone(ZoneInfo("UTC"))
    r = client.post(f"/unggahan/{post_id}/ulangan/lewati", data={"occurrence": first.isoformat()})
    assert r.status_code == 302
    login_as(Role.OPERATOR, "a")
    second = first + timedelta(days=4)  # the Friday
    client.post(f"/unggahan/{post_id}/ulangan/lewati", data={"occurrence": second.isoformat()})
    client.post(f"/unggahan/{post_id}/ulangan/lewati", data={"occurrence": "bukan waktu"})
    as_operator = client.get(f"/unggahan/{post_id}").get_data(as_text=True)
    assert "Dilewati" in as_operator and "Lewati</button>" not in as_operator
    with core.sessions() as s:
        assert [e.occurrence_at for e in s.execute(select(RecurrenceException)).scalars()] \
            == [first]
