"""A citizen's comment past its deadline: one ``comment.overdue`` event per comment (across
sweeps and workers), to the unit that must answer it, never for a closed comment; deadlines
that run across a weekend and a national holiday are met only when they really pass."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from publisher.models import AuditEvent, CitizenComment, CommentStatus, Role, User
from publisher.notify.inbox_overdue import OVERDUE_ACTION, sweep
from publisher.services import inbox
from publisher.services.working_days import due_at
from tests.inbox.helpers import comment, published
from tests.notify.flows import deliveries, drain, set_prefs
from web.ui.notifications.feed import notifications_for

WIB = ZoneInfo("Asia/Jakarta")
A_EMAIL, A_EN, B_EMAIL = "op@dinsos.example.go.id", "en@dinsos.example.go.id", \
    "op@bappeda.example.go.id"


def _due(core, cid: int, when: datetime) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        row = s.get(CitizenComment, cid)
        assert row is not None
        row.due_at = when


def _events(core) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.action == OVERDUE_ACTION)
                              .order_by(AuditEvent.id)).scalars())


def _people(core, make_user):  # type: ignore[no-untyped-def]
    a = make_user(Role.OPERATOR, "a", email=A_EMAIL)
    a_en = make_user(Role.APPROVER, "a", email=A_EN)
    b = make_user(Role.OPERATOR, "b", email=B_EMAIL)
    admin = make_user(Role.ADMIN, None, email="admin@diskominfo.example.go.id")
    for u in (a, b, admin):
        set_prefs(core, u, {"kind-comment_overdue": "email"})
    set_prefs(core, a_en, {"kind-comment_overdue": "email"}, locale="en")
    return a, a_en, b, admin


def test_told_once_to_the_assigned_unit_across_sweeps_and_two_workers(
        core, make_user, smtp_server, clock):  # type: ignore[no-untyped-def]
    a, _a_en, b, _admin = _people(core, make_user)
    cid = comment(core, published(core, a), "Bansos belum cair sampai sekarang")
    _due(core, cid, clock.now + timedelta(hours=1))
    assert sweep(core) == []  # not yet due
    clock.advance(hours=2)

    start = threading.Barrier(2)
    got: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            got.append(sweep(core))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == [[], [cid]]  # one of the two workers recorded it
    clock.advance(minutes=10)
    assert sweep(core) == []  # the next sweep: already told
    assert len(_events(core)) == 1

    drain(core)
    by_rcpt = {m.rcpt_tos[0]: m.message for m in smtp_server.messages}
    assert sorted(by_rcpt) == sorted([A_EMAIL, A_EN])  # unit A's people; not B, not the admin
    assert by_rcpt[A_EMAIL]["Subject"] == "Komentar warga melewati tenggat"
    assert by_rcpt[A_EN]["Subject"] == "A citizen's comment is past its deadline"
    assert f"/suara-warga/{cid}" in by_rcpt[A_EMAIL].get_body(("plain",)).get_content()
    assert {d.kind for d in deliveries(core)} == {"comment_overdue"}
    drain(core)
    assert len(smtp_server.messages) == 2  # nothing sent twice
    with core.sessions() as s:
        assert [n.event.action for n in notifications_for(s, s.get(User, a.id))] == [
            OVERDUE_ACTION]
        assert notifications_for(s, s.get(User, b.id)) == []


def test_a_forwarded_comment_is_told_to_the_unit_that_has_it(core, make_user, smtp_server,
                                                             clock, units):  # type: ignore[no-untyped-def]
    a, _a_en, _b, _admin = _people(core, make_user)
    cid = comment(core, published(core, a), "Jalan rusak di desa kami")
    _due(core, cid, clock.now + timedelta(hours=1))
    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, a.id), cid, units["b"].id, "Urusan Bappeda", now=clock.now)
    drain(core)
    smtp_server.messages.clear()
    clock.advance(hours=2)
    assert sweep(core) == [cid]
    assert _events(core)[0].unit_id == units["b"].id
    drain(core)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[B_EMAIL]]


def test_closed_comments_are_never_told(core, make_user, smtp_server, clock):  # type: ignore[no-untyped-def]
    a, *_ = _people(core, make_user)
    pub = published(core, a)
    closed = []
    for status in (CommentStatus.RESPONDED, CommentStatus.DONE, CommentStatus.NO_ACTION):
        cid = comment(core, pub, f"sudah {status}")
        with core.sessions.begin() as s:
            s.get(CitizenComment, cid).status = status
        closed.append(cid)
    still_open = comment(core, pub, "belum dijawab")
    for cid in (*closed, still_open):
        _due(core, cid, clock.now + timedelta(minutes=5))
    clock.advance(hours=1)
    assert sweep(core) == [still_open]
    assert [e.object_id for e in _events(core)] == [still_open]


def test_a_batch_is_bounded_and_the_backlog_drains_oldest_first(core, make_user, clock):  # type: ignore[no-untyped-def]
    a = make_user(Role.OPERATOR, "a")
    pub = published(core, a)
    ids = [comment(core, pub, f"komentar {n}") for n in range(5)]
    for n, cid in enumerate(ids):
        _due(core, cid, clock.now - timedelta(hours=10 - n))
    assert sweep(core, batch=2) == ids[:2]
    assert sweep(core, batch=2) == ids[2:4]
    assert sweep(core, batch=2) == ids[4:]
    assert sweep(core, batch=2) == []


def test_a_deadline_across_a_weekend_and_independence_day(core, make_user, clock, units):  # type: ignore[no-untyped-def]
    a = make_user(Role.OPERATOR, "a")
    # Friday 14 August 2026, 10.00 WIB; Monday the 17th is Independence Day.
    clock.now = datetime(2026, 8, 14, 10, 0, tzinfo=WIB).astimezone(UTC)
    cid = comment(core, published(core, a), "Kapan pendaftaran dibuka?")
    with core.sessions.begin() as s:
        due = due_at(s, units["a"].id, "Asia/Jakarta", clock.now, days=1)
    # One working day: not Sat, Sun or the 17th; Tuesday the 18th, due at its end.
    assert due.astimezone(WIB) == datetime(2026, 8, 19, 0, 0, tzinfo=WIB)
    _due(core, cid, due)
    for instant in (datetime(2026, 8, 15, 12, tzinfo=WIB), datetime(2026, 8, 17, 23, tzinfo=WIB),
                    datetime(2026, 8, 18, 23, 59, tzinfo=WIB)):
        clock.now = instant.astimezone(UTC)
        assert sweep(core) == [], instant
    clock.now = datetime(2026, 8, 19, 0, 1, tzinfo=WIB).astimezone(UTC)
    assert sweep(core) == [cid]


def test_the_units_webhook_receives_it_once_and_another_units_does_not(
        core, make_user, clock, units):  # type: ignore[no-untyped-def]
    import json

    from tests.notify.test_webhook import add_hook
    from tests.notify.webhook_receiver import Receiver

    mine, theirs = Receiver().start(), Receiver().start()
    try:
        admin = make_user(Role.ADMIN, None)
        add_hook(core, admin, mine.url, kinds=("comment_overdue",), unit=units["a"].id)
        add_hook(core, admin, theirs.url, kinds=("comment_overdue",), unit=units["b"].id)
        a = make_user(Role.OPERATOR, "a")
        cid = comment(core, published(core, a), "Lampu jalan mati")
        _due(core, cid, clock.now - timedelta(minutes=1))
        assert sweep(core) == [cid]
        assert sweep(core) == []
        drain(core)
        drain(core)
        [hit] = mine.hits
        assert json.loads(hit.body)["kind"] == "comment_overdue"
        assert theirs.hits == []
    finally:
        mine.stop()
        theirs.stop()


def test_each_worker_sweeps_for_overdue_comments(core):  # type: ignore[no-untyped-def]
    from publisher.notify.inbox_overdue import SWEEP_MINUTES
    from publisher.worker import Worker

    w = Worker(core)
    w.start()
    try:
        job = w._scheduler.get_job("inbox-overdue")
        assert job is not None and job.trigger.interval == timedelta(minutes=SWEEP_MINUTES)
    finally:
        w.stop()
