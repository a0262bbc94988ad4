"""The office's outgoing webhook against a real local HTTP receiver: a signed JSON POST per
notification (HMAC-SHA256 over timestamp and body), retried with the queue's backoff on 5xx,
429 (Retry-After) and timeouts, dropped on a definite refusal, scoped to its unit; the secret
sealed at rest and in no log, error or audit entry."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text

from publisher.models import AuditEvent, DeliveryStatus, NotifyWebhook, Role, User
from publisher.notify import webhook, webhooks
from publisher.services.errors import Invalid
from tests.notify.flows import deliveries, drain, jobs, submitted_post
from tests.notify.webhook_receiver import Receiver

SECRET = "rahasia-webhook-diskominfo-2026"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def add_hook(core, admin, url: str, kinds=("approval_requested",), unit=None,  # type: ignore[no-untyped-def]
             secret: str = SECRET) -> int:
    with core.sessions.begin() as s:
        me = s.get(User, admin.id)
        hook = webhooks.add(core, s, me, {"name": "Dasbor Diskominfo", "url": url,
                                          "secret": secret, "kinds": list(kinds),
                                          "unit": "" if unit is None else str(unit)})
        return hook.id


@pytest.fixture
def admin(make_user):  # type: ignore[no-untyped-def]
    return make_user(Role.ADMIN, unit=None)


def test_a_notification_arrives_signed_with_its_payload(core, make_user, admin, receiver,
                                                        clock, caplog):
    caplog.set_level(logging.DEBUG)
    hook_id = add_hook(core, admin, receiver.url)
    op = make_user(Role.OPERATOR)
    post_id = submitted_post(core, op)
    drain(core)
    [hit] = receiver.hits
    assert hit.path == "/warta-hook"
    assert hit.headers["Content-Type"] == "application/json; charset=utf-8"
    ts, sig = hit.headers["X-Warta-Timestamp"], hit.headers["X-Warta-Signature"]
    assert int(ts) == int(clock().timestamp())
    # Recomputed here as a receiver would, independently of Warta's own code:
    expected = hmac.new(SECRET.encode(), ts.encode() + b"." + hit.body, hashlib.sha256)
    assert sig == "sha256=" + expected.hexdigest()
    assert webhook.verify(SECRET, ts, hit.body, sig, clock())
    assert not webhook.verify("another-secret-entirely", ts, hit.body, sig, clock())
    assert not webhook.verify(SECRET, ts, hit.body + b" ", sig, clock())  # body tampered
    clock.advance(minutes=6)
    assert not webhook.verify(SECRET, ts, hit.body, sig, clock())  # a replay, too late
    body = json.loads(hit.body)
    [d] = deliveries(core)
    assert hit.headers["X-Warta-Delivery"] == str(d.id) == str(body["delivery_id"])
    assert hit.headers["X-Warta-Event"] == "approval_requested" == body["kind"]
    assert body["action"] == "post.submit" and body["webhook_id"] == hook_id
    assert body["object"] == {"type": "post", "id": post_id}
    assert body["unit"]["id"] == op.unit_id
    assert body["subject"].startswith("Permintaan persetujuan")
    assert body["url"] == "https://warta.example.go.id/persetujuan"
    assert {"label": "Teks", "value": body["facts"][0]["value"]} == body["facts"][0]
    assert d.status == DeliveryStatus.SENT and d.user_id is None and d.channel == "webhook"
    # Run again (a replayed fan-out): nothing more.
    [fanout] = jobs(core, "notify_fanout")
    core.queue.enqueue("notify_fanout", dict(fanout.payload))
    drain(core)
    assert len(receiver.hits) == 1 and len(deliveries(core)) == 1
    assert SECRET not in caplog.text


def test_the_secret_is_sealed_at_rest_and_never_in_the_audit_log(core, admin, receiver):
    hook_id = add_hook(core, admin, receiver.url)
    with core.sessions() as s:
        raw = s.execute(text("SELECT secret_encrypted FROM notify_webhooks WHERE id = :i"),
                        {"i": hook_id}).scalar_one()
        assert SECRET.encode() not in bytes(raw)
        assert core.box.open(s.get(NotifyWebhook, hook_id).secret_encrypted) == {
            "secret": SECRET}
        [event] = s.execute(select(AuditEvent).where(
            AuditEvent.action == "notify.webhook_add")).scalars()
        assert SECRET not in json.dumps(event.data) and event.actor_id == admin.id


def test_a_server_error_is_retried_with_backoff_and_then_arrives(core, make_user, admin,
                                                                  receiver, clock):
    add_hook(core, admin, receiver.url)
    receiver.answers = [503, (429, {"Retry-After": "900"})]
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING and "HTTP 503" in d.error
    [job] = jobs(core, "notify_send")
    assert 60 <= (job.run_at - clock()).total_seconds() <= 60 * 1.2 + 1  # the first backoff
    clock.advance(minutes=2)
    drain(core)
    [d] = deliveries(core)
    assert "HTTP 429" in d.error
    [job] = jobs(core, "notify_send")
    assert 900 <= (job.run_at - clock()).total_seconds() <= 900 * 1.2 + 1  # Retry-After wins
    clock.advance(minutes=20)
    drain(core)
    assert deliveries(core)[0].status == DeliveryStatus.SENT
    assert len(receiver.hits) == 3
    # Every attempt is the same delivery, signed afresh with its own time.
    assert len({h.headers["X-Warta-Delivery"] for h in receiver.hits}) == 1
    assert len({h.headers["X-Warta-Timestamp"] for h in receiver.hits}) == 3
    assert all(webhook.verify(SECRET, h.headers["X-Warta-Timestamp"], h.body,
                              h.headers["X-Warta-Signature"], clock())
               for h in receiver.hits[-1:])


def test_a_receiver_that_does_not_answer_in_time_is_tried_again(core, make_user, admin,
                                                                receiver, monkeypatch):
    monkeypatch.setattr(webhook, "TIMEOUT", (2.0, 0.3))
    monkeypatch.setattr(webhook.WebhookNotifier.__init__, "__defaults__",
                        (None, (2.0, 0.3)))
    add_hook(core, admin, receiver.url)
    receiver.delay = 1.0
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING and "did not answer in time" in d.error


@pytest.mark.parametrize("status, words", [(401, "refused this message (HTTP 401)"),
                                           (410, "HTTP 410"), (302, "redirected (HTTP 302)")])
def test_a_definite_refusal_drops_the_delivery(core, make_user, admin, receiver, status, words):
    add_hook(core, admin, receiver.url)
    receiver.answers = [status]
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.DROPPED and words in d.error
    assert SECRET not in d.error and len(receiver.hits) == 1


def test_a_unit_webhook_hears_only_its_unit(core, make_user, admin, receiver, units):
    add_hook(core, admin, receiver.url, unit=units["b"].id)
    submitted_post(core, make_user(Role.OPERATOR, unit="a"))
    drain(core)
    assert receiver.hits == [] and deliveries(core) == []
    submitted_post(core, make_user(Role.OPERATOR, unit="b"))
    drain(core)
    assert len(receiver.hits) == 1


def test_a_removed_webhook_gets_nothing_more(core, make_user, admin, receiver):
    hook_id = add_hook(core, admin, receiver.url)
    op = make_user(Role.OPERATOR)
    submitted_post(core, op)  # fanned out, its send not yet run
    with core.sessions.begin() as s:
        from publisher.notify.fanout import fan_out
        [event] = s.execute(select(AuditEvent).where(AuditEvent.action == "post.submit"))\
            .scalars()
        fan_out(core, s, event, core.now())
    with core.sessions.begin() as s:
        webhooks.remove(core, s, s.get(User, admin.id), hook_id)
    drain(core)
    assert receiver.hits == []
    assert {d.status for d in deliveries(core)} == {DeliveryStatus.DROPPED}


@pytest.mark.parametrize("change, field", [
    ({"url": "ftp://x.example"}, "url"),
    ({"url": "http://hooks.example.go.id/x"}, "url"),  # plain http off this machine
    ({"url": "https://user:pw@hooks.example.go.id/x"}, "url"),
    ({"secret": "pendek"}, "secret"),
    ({"kinds": []}, "kinds"),
    ({"kinds": ["approval_requested", "nope"]}, "kinds"),
    ({"name": ""}, "name"),
    ({"unit": "99999"}, "unit"),
])
def test_the_form_is_strict(core, admin, change, field):
    form = {"name": "Dasbor", "url": "https://hooks.example.go.id/warta", "secret": SECRET,
            "kinds": ["approval_requested"], "unit": "", **change}
    with core.sessions.begin() as s, pytest.raises(Invalid) as refused:
        webhooks.add(core, s, s.get(User, admin.id), form)
    assert set(refused.value.fields) == {field}
