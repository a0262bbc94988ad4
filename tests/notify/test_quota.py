"""The admin event "a platform's quota holds a channel": one per channel and pause window,
however many calls hit the limit in it, told to admins by their preferences (never to an
operator), labelled in the audit log and the bell."""

from __future__ import annotations

import threading
from datetime import timedelta

from adapters.errors import RetryLater
from publisher.models import AuditEvent, Channel, Role
from publisher.notify.admin import QUOTA_EXHAUSTED, QUOTA_SAME_EPISODE
from publisher.worker.reconcile import pause_channel, platform_wait
from tests.helpers import approved_post, sandbox_channel, set_control
from tests.notify.flows import deliveries, drain, set_prefs

ADMIN = "admin@diskominfo.example.go.id"
OPERATOR = "operator@dinsos.example.go.id"


def _quota(wait: float = 3600.0) -> RetryLater:
    return RetryLater("sandbox", "Kuota habis.", "Quota spent.", retry_after=wait,
                      scope="channel", code="quota_exceeded")


def _events(core) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.query(AuditEvent).filter_by(action=QUOTA_EXHAUSTED)
                    .order_by(AuditEvent.id))


def _people(core, make_user):  # type: ignore[no-untyped-def]
    admin = make_user(Role.ADMIN, None, email=ADMIN)
    op = make_user(Role.OPERATOR, email=OPERATOR)
    approver = make_user(Role.APPROVER)
    for u in (admin, op):
        set_prefs(core, u, {"kind-quota_exhausted": "email"})
    return admin, op, approver


def test_two_hits_of_one_quota_window_are_one_event_and_one_email(core, make_user,
                                                                  smtp_server, clock):
    admin, op, approver = _people(core, make_user)
    ch = sandbox_channel(core, op, "quota-acc", name="Instagram Dinsos")
    set_control(core, "quota-acc", mode="quota", retry_after=7200)
    approved_post(core, op, approver, [ch], body="Pengumuman pertama.")
    drain(core)  # the publish call meets the quota: the channel pauses for two hours
    with core.sessions() as s:
        paused = s.get(Channel, ch).paused_until
    assert paused is not None and paused > clock.now + timedelta(hours=1)
    assert len(_events(core)) == 1
    # A read that was under way meets the same quota in the same window (the metrics or poll
    # path), and a second post of the account waits for the window without calling.
    clock.advance(minutes=10)
    platform_wait(core, ch, _quota(3 * 3600))
    approved_post(core, op, approver, [ch], body="Pengumuman kedua.")
    drain(core)
    assert len(_events(core)) == 1, "one pause window is one event"
    with core.sessions() as s:
        assert s.get(Channel, ch).paused_until > paused, "the pause itself was extended"
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ADMIN]]
    msg = smtp_server.messages[0].message
    assert msg["Subject"] == "Akun tertahan batas platform: Instagram Dinsos"
    body = msg.get_body(("plain",)).get_content()
    assert "Instagram Dinsos mencapai batas platformnya" in body
    assert "WIB" in body and "Kuota harian akun sandbox habis" in body
    assert [d.kind for d in deliveries(core)] == ["quota_exhausted"]


def test_a_window_long_after_the_last_is_news_and_a_short_throttle_is_not(core, make_user,
                                                                          smtp_server, clock):
    _admin, op, _ap = _people(core, make_user)
    ch = sandbox_channel(core, op, "acc", name="Facebook Dinsos")
    pause_channel(core, ch, clock.now + timedelta(minutes=3), _quota(180))
    assert _events(core) == [], "a three-minute throttle is over before anyone could act"
    clock.advance(minutes=5)
    pause_channel(core, ch, clock.now + timedelta(hours=1), _quota())
    assert len(_events(core)) == 1
    # The limit refills slower than the platform said: a new window right after the first is
    # the same episode, not one e-mail an hour.
    clock.advance(hours=1, minutes=1)
    pause_channel(core, ch, clock.now + timedelta(hours=1), _quota())
    assert len(_events(core)) == 1
    clock.now += timedelta(hours=1, minutes=1) + QUOTA_SAME_EPISODE
    pause_channel(core, ch, clock.now + timedelta(hours=1), _quota())
    assert len(_events(core)) == 2, "the next day's spent quota is news again"
    drain(core)
    assert [m.rcpt_tos for m in smtp_server.messages] == [[ADMIN], [ADMIN]]


def test_two_workers_starting_the_same_window_at_once_record_it_once(core, make_user,
                                                                     smtp_server, clock):
    _admin, op, _ap = _people(core, make_user)
    ch = sandbox_channel(core, op, "acc", name="X Dinsos")
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def hit(n: int) -> None:
        try:
            start.wait()
            pause_channel(core, ch, clock.now + timedelta(hours=1, minutes=n), _quota())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
    threads = [threading.Thread(target=hit, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(_events(core)) == 1
    with core.sessions() as s:
        assert s.get(Channel, ch).paused_until >= clock.now + timedelta(hours=1, minutes=3) \
            - timedelta(seconds=1)


def test_the_admins_bell_shows_it_and_an_operators_does_not(core, make_user, client, clock,
                                                           smtp_server):
    admin, op, _ap = _people(core, make_user)
    ch = sandbox_channel(core, op, "acc", name="TikTok Dinsos")
    pause_channel(core, ch, clock.now + timedelta(hours=5), _quota())
    for user, shown in ((admin, True), (op, False)):
        with client.session_transaction() as sess:
            sess["_user_id"], sess["_fresh"] = str(user.id), True
        page = client.get("/notifikasi").get_data(as_text=True)
        assert ("Akun tertahan batas platform: TikTok Dinsos" in page) is shown
        assert ("Kuota habis." in page) is shown
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"] = str(admin.id), True
    log = client.get("/admin/riwayat").get_data(as_text=True)
    assert "Akun media sosial tertahan batas platform" in log
    assert "channel.quota_exhausted" not in log.split("<tbody>", 1)[1]
