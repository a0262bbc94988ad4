"""Telegram tests: the installation's notification bot points at the project's Telegram fake
(``ft``), and a browser client logs in as a given user."""

from __future__ import annotations

import re

import pytest

from publisher.models import NotifyProfile, Role
from publisher.notify import telegram_updates
from tests.fakes import telegram as tg_fake

CHAT = 777001


@pytest.fixture
def test_env(test_env, ft):  # type: ignore[no-untyped-def]
    return {**test_env, "WARTA_NOTIFY_TELEGRAM_BOT_TOKEN": tg_fake.TOKEN,
            "WARTA_NOTIFY_TELEGRAM_API_URL": ft.url}


@pytest.fixture
def browser(app, client):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False

    def login(user):  # type: ignore[no-untyped-def]
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True
        return client
    return login


def link_from_page(client) -> str:  # type: ignore[no-untyped-def]
    page = client.post("/profil/telegram/tautkan").get_data(as_text=True)
    m = re.search(r'href="(https://t\.me/warta_bot\?start=([A-Za-z0-9_-]+))"', page)
    assert m, page[-2000:]
    assert len(m.group(2)) <= 64  # Telegram's limit for a start parameter
    return m.group(2)


def profile(core, user):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(NotifyProfile, user.id)


def linked(core, ft, make_user, browser, role=Role.APPROVER, chat=CHAT):  # type: ignore[no-untyped-def]
    user = make_user(role)
    token = link_from_page(browser(user))
    ft.person(chat)
    ft.says(chat, f"/start {token}")
    assert telegram_updates.poll(core) == 1
    return user


