"""Telegram updates by webhook (``WARTA_NOTIFY_TELEGRAM_UPDATES=webhook``): the worker
registers ``<public URL>/telegram/pembaruan`` with a secret, the fake posts updates there the
way Telegram does, and each update is acted on once however often it comes."""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from publisher.config import SettingsError, load_settings
from publisher.core import build_core
from publisher.models import NotifyProfile, PostStatus, Role, TelegramUpdate
from publisher.notify import telegram_link, telegram_updates
from tests.notify.conftest import PUBLIC_URL
from tests.notify.flows import drain, set_prefs, submitted_post
from tests.notify.telegram.conftest import CHAT, link_from_page
from tests.notify.telegram.test_approve import audit_of, button, status

HOOK = "/telegram/pembaruan"


@pytest.fixture
def test_env(test_env):  # type: ignore[no-untyped-def]
    return {**test_env, "WARTA_NOTIFY_TELEGRAM_UPDATES": "webhook"}


@pytest.fixture
def telegram(app):  # type: ignore[no-untyped-def]
    """``post(url, json, headers) -> status`` as Telegram's servers: a client without a
    session (no login, no CSRF token)."""
    hook_client = app.test_client()

    def post(url, body, headers):  # type: ignore[no-untyped-def]
        assert url == PUBLIC_URL + HOOK
        return hook_client.post(urlsplit(url).path, json=body, headers=headers).status_code
    return post


def claims(core) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(TelegramUpdate)).scalar_one()


def chat_of(core, user):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(NotifyProfile, user.id).telegram_chat_id


def test_worker_start_sets_the_webhook_once(core, ft):
    assert telegram_updates.ensure_mode(core) == "set"
    assert ft.webhook == {"url": PUBLIC_URL + HOOK,
                          "secret_token": telegram_updates.webhook_secret(core.settings),
                          "allowed_updates": ["message", "callback_query"]}
    assert len(ft.webhook["secret_token"]) == 64
    assert telegram_updates.ensure_mode(core) == "kept"  # idempotent: no second setWebhook
    assert ft.webhook_calls == ["getWebhookInfo", "setWebhook", "getWebhookInfo"]
    ft.webhook = {}  # deleted behind Warta's back: set again at the next check
    assert telegram_updates.ensure_mode(core) == "set"


def test_approve_from_telegram_by_webhook_end_to_end(core, ft, make_user, browser, telegram):
    telegram_updates.ensure_mode(core)
    ap = make_user(Role.APPROVER)
    token = link_from_page(browser(ap))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    assert ft.deliver(telegram) == [200]
    assert chat_of(core, ap) == CHAT and ft.dms_to(CHAT)[-1].startswith("Tertaut")
    set_prefs(core, ap, {"kind-approval_requested": "telegram"})
    op = make_user(Role.OPERATOR)
    post_id = submitted_post(core, op)
    drain(core)
    dm = ft.dms[-1]
    assert dm["text"].startswith("Permintaan persetujuan")
    ft.presses(CHAT, dm["message_id"], button(dm, "Setujui"))
    press = dict(ft.updates[-1])
    assert ft.deliver(telegram) == [200]
    assert status(core, post_id) == PostStatus.APPROVED
    [event] = audit_of(core, "post.approve")
    assert event.actor_id == ap.id and event.data["via"] == "telegram"
    assert len(ft.answers) == 1 and ft.answers[0]["text"].startswith("Disetujui")
    # Telegram re-sends the press (our answer was slow): nothing more happens, still 200
    ft.updates.append(press)
    assert ft.deliver(telegram) == [200]
    assert len(audit_of(core, "post.approve")) == 1 and len(ft.answers) == 1
    assert ft.calls("getUpdates") == []  # never polled, not by ``run_once`` either


def test_a_missing_or_wrong_secret_is_403_and_does_nothing(core, ft, make_user, browser, app,
                                                          telegram):
    telegram_updates.ensure_mode(core)
    ap = make_user(Role.APPROVER)
    token = link_from_page(browser(ap))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    hook = app.test_client()
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "x" * 64},
                    {"X-Telegram-Bot-Api-Secret-Token": ft.webhook["secret_token"][:-1]}):
        assert ft.deliver(lambda url, body, _h, headers=headers: hook.post(
            HOOK, json=body, headers=headers).status_code) == [403]
    assert chat_of(core, ap) is None and ft.dms_to(CHAT) == [] and claims(core) == 0
    assert "Wrong response from the webhook: 403" in ft.webhook_error
    assert ft.deliver(telegram) == [200]  # the right one still works: the update was kept
    assert chat_of(core, ap) == CHAT


def test_a_repeated_update_is_acted_on_once(core, ft, make_user, browser, telegram):
    telegram_updates.ensure_mode(core)
    ap = make_user(Role.APPROVER)
    token = link_from_page(browser(ap))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    start = dict(ft.updates[-1])
    ft.updates.append(dict(start))
    assert ft.deliver(telegram) == [200, 200]
    assert len(ft.dms_to(CHAT)) == 1  # not a second "this link is not valid" reply
    assert claims(core) == 1


def test_two_concurrent_posts_of_one_update_act_once(core, ft, make_user, browser, app,
                                                     monkeypatch):
    telegram_updates.ensure_mode(core)
    ap = make_user(Role.APPROVER)
    token = link_from_page(browser(ap))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    body = dict(ft.updates[-1])
    secret = {"X-Telegram-Bot-Api-Secret-Token": ft.webhook["secret_token"]}
    real = telegram_updates.handle_update

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        time.sleep(0.3)  # the other request arrives while this one holds its claim
        return real(*args, **kwargs)

    monkeypatch.setattr(telegram_updates, "handle_update", slow)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def one() -> None:
        hook = app.test_client()
        barrier.wait()
        statuses.append(hook.post(HOOK, json=body, headers=secret).status_code)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(ft.dms_to(CHAT)) == 1 and claims(core) == 1 and chat_of(core, ap) == CHAT
    if core.engine.dialect.name == "postgresql":
        assert statuses == [200, 200]  # the second waited for the first's claim, then skipped
    else:  # SQLite has one writer: the other waited or was told to retry (503)
        assert sorted(statuses)[0] == 200 and set(statuses) <= {200, 503}


def test_a_database_outage_is_503_and_the_update_comes_again(core, ft, make_user, browser,
                                                            telegram, monkeypatch):
    telegram_updates.ensure_mode(core)
    ap = make_user(Role.APPROVER)
    token = link_from_page(browser(ap))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    real = telegram_updates.take

    def down(*_a, **_k):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(telegram_updates, "take", down)
    assert ft.deliver(telegram) == [503]
    monkeypatch.setattr(telegram_updates, "take", real)
    assert ft.deliver(telegram) == [200]
    assert chat_of(core, ap) == CHAT


def test_a_failing_update_is_logged_without_its_text_and_answered_200(
        core, ft, make_user, browser, telegram, monkeypatch, caplog):
    telegram_updates.ensure_mode(core)
    ft.person(CHAT)
    ft.says(CHAT, "/start tokenrahasia")

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("kata sandi: tokenrahasia")

    monkeypatch.setattr(telegram_updates, "handle_update", broken)
    with caplog.at_level(logging.ERROR):
        assert ft.deliver(telegram) == [200]  # not retried forever
    assert "RuntimeError" in caplog.text and "tokenrahasia" not in caplog.text
    assert ft.webhook["secret_token"] not in caplog.text
    assert ft.updates == []


def test_a_body_that_is_no_update_is_400(core, ft, app):
    telegram_updates.ensure_mode(core)
    hook = app.test_client()
    secret = {"X-Telegram-Bot-Api-Secret-Token": ft.webhook["secret_token"]}
    assert hook.post(HOOK, json={"message": {}}, headers=secret).status_code == 400
    assert hook.post(HOOK, json=[1], headers=secret).status_code == 400
    assert hook.post(HOOK, data=b"x" * (1024 * 1024 + 1), headers={
        **secret, "Content-Type": "application/json"}).status_code == 413


def test_switching_back_to_poll_deletes_the_webhook(core, ft, test_env, clock, caplog):
    telegram_updates.ensure_mode(core)
    assert ft.webhook
    polling = build_core(load_settings({**test_env, "WARTA_NOTIFY_TELEGRAM_UPDATES": "poll"}),
                         clock=clock)
    try:
        with caplog.at_level(logging.ERROR):
            assert telegram_updates.poll(polling) == 0  # 409 while the webhook is set
            assert telegram_updates.poll(polling) == 0
        assert caplog.text.count("a webhook is set for the notification bot") == 1
        assert telegram_updates.ensure_mode(polling) == "deleted" and ft.webhook == {}
        ft.person(CHAT)
        ft.says(CHAT, "/start nothing")
        assert telegram_updates.poll(polling) == 1
        assert telegram_updates.ensure_mode(polling) == "poll"  # nothing to delete
    finally:
        polling.engine.dispose()


def test_the_route_does_not_exist_in_poll_mode(core, ft, test_env, clock):
    from web.app import create_app

    polling = build_core(load_settings({**test_env, "WARTA_NOTIFY_TELEGRAM_UPDATES": "poll"}),
                         clock=clock)
    try:
        hook = create_app(core=polling).test_client()
        secret = {"X-Telegram-Bot-Api-Secret-Token": telegram_updates.webhook_secret(
            polling.settings)}
        assert hook.post(HOOK, json={"update_id": 1}, headers=secret).status_code == 404
    finally:
        polling.engine.dispose()


@pytest.mark.parametrize(("change", "says"), [
    ({"WARTA_NOTIFY_TELEGRAM_UPDATES": "hook"}, "must be poll or webhook"),
    ({"WARTA_PUBLIC_URL": "http://warta.example.go.id"}, "needs WARTA_PUBLIC_URL with https://"),
    ({"WARTA_NOTIFY_TELEGRAM_BOT_TOKEN": ""}, "needs WARTA_NOTIFY_TELEGRAM_BOT_TOKEN"),
])
def test_config_errors(test_env, change, says):
    with pytest.raises(SettingsError, match=says):
        load_settings({**test_env, **change})


def test_the_secret_follows_the_keys(test_env):
    a = load_settings(test_env)
    assert telegram_updates.webhook_secret(a) == telegram_updates.webhook_secret(
        load_settings(test_env))  # every process derives the same one
    assert telegram_updates.webhook_secret(a) != telegram_updates.webhook_secret(
        load_settings({**test_env, "WARTA_SECRET_KEY": "another"}))
    assert telegram_link.bot is not None
