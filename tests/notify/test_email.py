"""E-mail notifications end to end against a real SMTP server: who gets what, in which
language, with which headers, and never twice."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from publisher.jobs import NOTIFY_FANOUT, NOTIFY_SEND
from publisher.models import DeliveryStatus, Role
from tests.notify.conftest import PUBLIC_URL, SENDER
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post

EMAIL = {"kind-approval_requested": "email"}


def parts(msg: EmailMessage) -> dict[str, str]:
    return {p.get_content_type(): p.get_content() for p in msg.walk()
            if not p.is_multipart()}


@pytest.mark.parametrize("clock", [datetime(2026, 6, 10, 3, 0, tzinfo=UTC)], indirect=True)
def test_approval_request_reaches_each_approver_in_their_language(core, make_user,
                                                                  smtp_server):
    """(The clock is pinned: the message names the scheduled day, a day after it.)"""
    op = make_user(Role.OPERATOR)
    ap_id = make_user(Role.APPROVER, email="penyetuju@dinsos.example.go.id")
    ap_en = make_user(Role.APPROVER, email="approver@dinsos.example.go.id")
    make_user(Role.APPROVER, email="bell-only@dinsos.example.go.id")  # in-app only
    other_unit = make_user(Role.APPROVER, unit="b", email="bappeda@example.go.id")
    set_prefs(core, ap_id, EMAIL)
    set_prefs(core, ap_en, EMAIL, locale="en")
    set_prefs(core, other_unit, EMAIL)
    post_id = submitted_post(core, op)
    drain(core)

    got = {m.rcpt_tos[0]: m for m in smtp_server.messages}
    assert sorted(got) == ["approver@dinsos.example.go.id", "penyetuju@dinsos.example.go.id"]
    for m in smtp_server.messages:
        msg = m.message
        assert m.mail_from == "warta@diskominfo.example.go.id"
        assert msg["From"] == SENDER and msg["To"] == m.rcpt_tos[0]
        assert msg["List-Unsubscribe"] == f"<{PUBLIC_URL}/profil/notifikasi>"
        assert msg["Message-ID"] and msg["Date"]
        assert msg.get_content_type() == "multipart/alternative"
        body = parts(msg)
        assert set(body) == {"text/plain", "text/html"}
        assert f"{PUBLIC_URL}/persetujuan" in body["text/plain"]
        assert f'href="{PUBLIC_URL}/persetujuan"' in body["text/html"]
        assert "Penyaluran bantuan sosial" in body["text/plain"]
        assert "<img" not in body["text/html"]  # no remote images
    id_msg = got["penyetuju@dinsos.example.go.id"].message
    en_msg = got["approver@dinsos.example.go.id"].message
    assert id_msg["Content-Language"] == "id" and en_msg["Content-Language"] == "en"
    assert id_msg["Subject"].startswith("Permintaan persetujuan")
    assert en_msg["Subject"].startswith("Approval requested")
    assert "Pengaturan notifikasi" in parts(id_msg)["text/plain"]
    assert "Notification settings" in parts(en_msg)["text/plain"]
    assert "Kamis, 11 Juni 2026 10.00 WIB" in parts(id_msg)["text/plain"]
    assert "Thursday, 11 June 2026 10:00 WIB" in parts(en_msg)["text/plain"]
    assert all(d.status == DeliveryStatus.SENT for d in deliveries(core))
    assert post_id


def test_the_bell_alone_sends_nothing_and_queues_nothing(core, make_user, smtp_server):
    op = make_user(Role.OPERATOR)
    make_user(Role.APPROVER)
    submitted_post(core, op)
    drain(core)
    assert smtp_server.messages == []
    assert jobs(core, NOTIFY_FANOUT) == [] and deliveries(core) == []


def test_a_send_job_run_again_sends_nothing_more(core, make_user, smtp_server):
    op, ap = make_user(Role.OPERATOR), make_user(Role.APPROVER)
    set_prefs(core, ap, EMAIL)
    submitted_post(core, op)
    drain(core)
    assert len(smtp_server.messages) == 1
    [delivery] = deliveries(core)
    # The same delivery's send job again (a duplicate enqueue, a replayed job) and the
    # event's fan-out again: the unique delivery key and the status stop both.
    import postqueue

    core.queue.enqueue(NOTIFY_SEND, {"delivery_id": delivery.id})
    [fanout] = jobs(core, NOTIFY_FANOUT)
    core.queue.enqueue(NOTIFY_FANOUT, dict(fanout.payload))
    assert drain(core) == 2
    assert len(smtp_server.messages) == 1
    assert len(deliveries(core)) == 1 and postqueue  # noqa: B018
