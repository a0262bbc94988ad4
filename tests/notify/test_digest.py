"""The daily digest: non-urgent e-mails held and gathered into one message at the chosen hour
of the recipient's zone (across that zone's midnight), urgent ones at once, nothing twice."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from publisher.models import DeliveryStatus, Role, Unit
from publisher.notify import digest, prefs
from publisher.notify.digest import next_digest, send_digest
from publisher.services import audit
from publisher.services.errors import Invalid
from tests.helpers import sandbox_channel
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post

APPROVER = "penyetuju@dinsos.example.go.id"
#: 07.00 WIB on 11 June 2026: the first digest after TEST_NOW (10.00 WIB on 10 June)
MORNING = datetime(2026, 6, 11, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("now, zone, minute, expected", [
    # 23.45 WIT, digest at 00.15: in half an hour, on the zone's next date (same UTC date)
    (datetime(2026, 6, 10, 14, 45, tzinfo=UTC), "Asia/Jayapura", 15,
     datetime(2026, 6, 10, 15, 15, tzinfo=UTC)),
    # 00.30 WIT, digest at 00.15: just missed, tomorrow's
    (datetime(2026, 6, 10, 15, 30, tzinfo=UTC), "Asia/Jayapura", 15,
     datetime(2026, 6, 11, 15, 15, tzinfo=UTC)),
    # 23.45 WIT, digest at 23.30: the next day's 23.30 WIT
    (datetime(2026, 6, 10, 14, 45, tzinfo=UTC), "Asia/Jayapura", 23 * 60 + 30,
     datetime(2026, 6, 11, 14, 30, tzinfo=UTC)),
    # exactly at the hour: the next one (this one is being sent)
    (MORNING, "Asia/Jakarta", 7 * 60, datetime(2026, 6, 12, 0, 0, tzinfo=UTC)),
    (datetime(2026, 6, 10, 3, 0, tzinfo=UTC), "Asia/Jakarta", 7 * 60, MORNING),
])
def test_the_digest_hour_is_read_on_the_zones_own_dates(now, zone, minute, expected):
    assert next_digest(now, zone, minute) == expected


def _approver(core, make_user, digest_at: str = "07.00"):
    ap = make_user(Role.APPROVER, email=APPROVER)
    set_prefs(core, ap, {"kind-approval_requested": "email", "kind-needs_reauth": "email",
                         "digest-at": digest_at})
    return ap


def test_non_urgent_mails_wait_for_one_digest_urgent_ones_come_at_once(
        core, make_user, smtp_server, clock):
    op = make_user(Role.OPERATOR)
    _approver(core, make_user)
    submitted_post(core, op, "Pengumuman pertama tentang jadwal posyandu balita.")
    submitted_post(core, op, "Pengumuman kedua tentang vaksinasi di puskesmas.")
    drain(core)
    assert smtp_server.messages == []
    assert [d.not_before for d in deliveries(core)] == [MORNING, MORNING]
    assert len(jobs(core, "notify_digest")) == 1  # one per person and hour, not per event
    channel = sandbox_channel(core, op, "reauth")
    with core.sessions.begin() as s:  # urgent: not held
        audit.record(s, "channel.needs_reauth", "channel", channel, unit_id=op.unit_id,
                     at=core.now())
    drain(core)
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Akun perlu disambung ulang"]
    clock.now = datetime(2026, 6, 10, 23, 59, tzinfo=UTC)
    drain(core)
    assert len(smtp_server.messages) == 1
    clock.now = MORNING
    drain(core)
    assert len(smtp_server.messages) == 2
    mail = smtp_server.messages[1]
    assert mail.rcpt_tos == [APPROVER]
    assert mail.message["Subject"] == "Ringkasan harian: 2 notifikasi"
    text = mail.message.get_body(("plain",)).get_content()
    assert "Pengumuman pertama" in text and "Pengumuman kedua" in text
    assert {d.status for d in deliveries(core)} == {DeliveryStatus.SENT}
    # Again (a second run of the job, a later tick): nothing is sent twice.
    assert send_digest(core, deliveries(core)[0].user_id) is None
    clock.advance(hours=1)
    drain(core)
    assert len(smtp_server.messages) == 2
    # The next event waits for tomorrow's digest.
    submitted_post(core, op, "Pengumuman ketiga.")
    drain(core)
    assert deliveries(core)[-1].not_before == datetime(2026, 6, 12, 0, 0, tzinfo=UTC)
    assert len(smtp_server.messages) == 2


def test_the_digest_hour_across_the_zones_midnight(core, make_user, smtp_server, clock):
    with core.sessions.begin() as s:
        s.get(Unit, make_user(Role.OPERATOR).unit_id).timezone = "Asia/Jayapura"
    op = make_user(Role.OPERATOR)
    _approver(core, make_user, "00.15")
    clock.now = datetime(2026, 6, 10, 14, 45, tzinfo=UTC)  # 23.45 WIT
    submitted_post(core, op)
    drain(core)
    assert smtp_server.messages == []
    clock.now = datetime(2026, 6, 10, 15, 15, tzinfo=UTC)  # 00.15 WIT, the next local day
    drain(core)
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Ringkasan harian: 1 notifikasi"]


class _Killed(BaseException):
    """The worker dies after the digest was handed to the server."""


def test_a_digest_interrupted_mid_send_is_not_sent_again(core, make_user, smtp_server, clock,
                                                         monkeypatch):
    op = make_user(Role.OPERATOR)
    ap = _approver(core, make_user)
    submitted_post(core, op)
    drain(core)
    clock.now = MORNING

    def dies(self, msg, to, begin):  # noqa: ANN001, ANN202
        assert begin()
        raise _Killed()

    monkeypatch.setattr(digest.SmtpNotifier, "send", dies)
    with pytest.raises(_Killed):
        send_digest(core, ap.id)
    monkeypatch.undo()
    assert send_digest(core, ap.id) is None
    assert smtp_server.messages == []
    assert [d.status for d in deliveries(core)] == [DeliveryStatus.UNCONFIRMED]


def test_a_notification_taken_meanwhile_stops_the_digest_and_it_gathers_again(
        core, make_user, smtp_server, clock, monkeypatch):
    """All of the digest's rows are claimed at once or none: one taken by another run (here:
    turned ``sending`` under it) means no message; the next run sends the rest."""
    op = make_user(Role.OPERATOR)
    ap = _approver(core, make_user)
    submitted_post(core, op, "Satu.")
    submitted_post(core, op, "Dua.")
    drain(core)
    clock.now = MORNING
    real = digest._claim_all
    first = deliveries(core)[0].id

    def taken(core_, ids, message_id):  # noqa: ANN001, ANN202
        from sqlalchemy import update

        from publisher.models import NotifyDelivery
        with core.sessions.begin() as s:
            s.execute(update(NotifyDelivery).where(NotifyDelivery.id == first)
                      .values(status=DeliveryStatus.SENT))
        return real(core_, ids, message_id)

    monkeypatch.setattr(digest, "_claim_all", taken)
    again = send_digest(core, ap.id)
    monkeypatch.undo()
    assert again is not None and smtp_server.messages == []
    assert send_digest(core, ap.id) is None
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Ringkasan harian: 1 notifikasi"]


def test_a_backlog_goes_out_in_bounded_messages_one_after_the_other(
        core, make_user, smtp_server, clock, monkeypatch):
    """A digest reads at most ``MAX_ROWS`` notifications; the rest come in the next message,
    which the job asks for at once, and none twice."""
    monkeypatch.setattr(digest, "MAX_ROWS", 2)
    op = make_user(Role.OPERATOR)
    ap = _approver(core, make_user)
    for body in ("Satu.", "Dua.", "Tiga."):
        submitted_post(core, op, body)
    drain(core)
    clock.now = MORNING
    again = send_digest(core, ap.id)
    assert again is not None and again.when <= clock.now
    assert send_digest(core, ap.id) is None
    assert [m.message["Subject"] for m in smtp_server.messages] == [
        "Ringkasan harian: 2 notifikasi", "Ringkasan harian: 1 notifikasi"]
    assert [d.status for d in deliveries(core)] == [DeliveryStatus.SENT] * 3


def test_the_digest_hour_is_a_strict_field_and_round_trips(core, make_user):
    ap = make_user(Role.APPROVER)
    with pytest.raises(Invalid) as refused:
        set_prefs(core, ap, {"digest-at": "25.00"})
    assert "digest-at" in refused.value.fields
    set_prefs(core, ap, {"kind-approved": "email", "digest-at": "07.30"})
    with core.sessions() as s:
        from publisher.models import User

        loaded = prefs.load(s, s.get(User, ap.id))
    assert loaded.digest_at == 7 * 60 + 30 and loaded.channels["approved"] == "email"


def test_a_digest_hour_alone_costs_no_queue_work(core, make_user):
    """Only the bell chosen (the default) plus a digest hour: still nothing to fan out."""
    set_prefs(core, make_user(Role.APPROVER), {"digest-at": "07.00"})
    submitted_post(core, make_user(Role.OPERATOR))
    assert jobs(core, "notify_fanout") == []
