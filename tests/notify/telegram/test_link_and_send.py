"""Telegram direct messages: linking a chat with a one-time ``/start`` deep link (read by
polling ``getUpdates``, the offset kept in the database), messages by the bot, a blocked bot,
a rate limit — against the project's Telegram fake."""

from __future__ import annotations

from sqlalchemy import select

from publisher.models import DeliveryStatus, NotifyPreference, Role, TelegramPoll
from publisher.notify import telegram_link, telegram_updates
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post
from tests.notify.telegram.conftest import CHAT, link_from_page, linked, profile


def test_a_deep_link_links_the_chat_once(core, ft, make_user, browser):
    user = make_user(Role.APPROVER)
    client = browser(user)
    assert "Tautkan Telegram" in client.get("/profil").get_data(as_text=True)
    token = link_from_page(client)
    ft.person(CHAT, "Siti")
    first = ft.says(CHAT, f"/start {token}")
    assert telegram_updates.poll(core) == 1
    p = profile(core, user)
    assert p.telegram_chat_id == CHAT and p.telegram_link_hash is None
    [reply] = ft.dms_to(CHAT)
    assert reply.startswith("Tertaut:")
    with core.sessions() as s:
        assert s.get(TelegramPoll, 1).update_offset == first + 1
    # polling again reads from the stored offset: nothing is acted on twice
    assert telegram_updates.poll(core) == 0
    assert ft.offsets[-1] == first + 1 and len(ft.dms_to(CHAT)) == 1
    # the token worked once
    ft.says(CHAT, f"/start {token}")
    telegram_updates.poll(core)
    assert "tidak berlaku" in ft.dms_to(CHAT)[-1]
    assert "Telegram Anda sudah tertaut" in client.get("/profil").get_data(as_text=True)


def test_two_workers_reading_the_same_updates_act_once(core, ft, make_user, browser):
    """Both read the updates at offset N; only the one whose conditional offset update wins
    acts on them."""
    user = make_user(Role.APPROVER)
    token = link_from_page(browser(user))
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    real = telegram_link.TelegramBot.updates
    seen: list[int] = []

    def twice(self, offset, limit=100):  # type: ignore[no-untyped-def]
        got = real(self, offset, limit)
        if not seen:  # the other worker polls the same offset meanwhile, and acts first
            seen.append(offset)
            assert telegram_updates.poll(core) == 1
        return got

    telegram_link.TelegramBot.updates = twice  # type: ignore[method-assign]
    try:
        assert telegram_updates.poll(core) == 0
    finally:
        telegram_link.TelegramBot.updates = real  # type: ignore[method-assign]
    assert len(ft.dms_to(CHAT)) == 1 and profile(core, user).telegram_chat_id == CHAT


def test_an_expired_link_links_nothing(core, clock, ft, make_user, browser):
    user = make_user(Role.APPROVER)
    token = link_from_page(browser(user))
    clock.advance(minutes=16)
    ft.person(CHAT)
    ft.says(CHAT, f"/start {token}")
    telegram_updates.poll(core)
    assert profile(core, user).telegram_chat_id is None
    assert "tidak berlaku" in ft.dms_to(CHAT)[0] and "not valid" in ft.dms_to(CHAT)[0]


def test_an_approval_request_reaches_the_linked_chat(core, ft, make_user, browser, smtp_server):
    ap = linked(core, ft, make_user, browser)
    client = browser(ap)
    page = client.get("/profil").get_data(as_text=True)
    assert '<option value="telegram">Telegram</option>' in page
    resp = client.post("/profil/notifikasi", data={"kind-approval_requested": "telegram"})
    assert resp.status_code == 302
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    texts = ft.dms_to(CHAT)
    assert len(texts) == 2 and texts[1].startswith("Permintaan persetujuan")
    assert "https://warta.example.go.id/persetujuan" in texts[1]
    assert smtp_server.messages == []
    [d] = deliveries(core)
    assert d.channel == "telegram" and d.status == DeliveryStatus.SENT
    assert d.address == str(CHAT)


def test_telegram_is_refused_before_linking(core, ft, make_user, browser):
    user = make_user(Role.APPROVER)
    resp = browser(user).post("/profil/notifikasi", data={"kind-failed": "telegram"})
    assert resp.status_code == 400
    assert "Tautkan Telegram Anda dulu (di bawah)." in resp.get_data(as_text=True)


def test_a_blocked_bot_drops_the_message_unlinks_and_tells_the_bell(core, ft, make_user,
                                                                    browser):
    ap = linked(core, ft, make_user, browser)
    set_prefs(core, ap, {"kind-approval_requested": "telegram"})
    ft.block(CHAT)
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.DROPPED and "blocked" in d.error
    assert profile(core, ap).telegram_chat_id is None
    with core.sessions() as s:
        assert s.execute(select(NotifyPreference).where(
            NotifyPreference.user_id == ap.id)).scalars().all() == []
    page = browser(ap).get("/notifikasi").get_data(as_text=True)
    assert "Telegram menolak: bot diblokir" in page


def test_a_rate_limit_waits_as_long_as_telegram_says(core, clock, ft, make_user, browser):
    ap = linked(core, ft, make_user, browser)
    set_prefs(core, ap, {"kind-approval_requested": "telegram"})
    ft.retry_after = 600  # longer than the first backoff (a minute): Telegram's wait wins
    ft.fail("sendMessage", "throttle")
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.PENDING and "429" in d.error
    [job] = [j for j in jobs(core, "notify_send")]
    assert 600 <= (job.run_at - clock()).total_seconds() <= 600 * 1.2 + 1
    clock.advance(minutes=9)
    assert drain(core) == 0  # still waiting
    clock.advance(minutes=4)
    drain(core)
    assert deliveries(core)[0].status == DeliveryStatus.SENT
    assert len(ft.dms_to(CHAT)) == 2  # the link confirmation and the one notification


def test_unlinking_is_one_click(core, ft, make_user, browser):
    ap = linked(core, ft, make_user, browser)
    set_prefs(core, ap, {"kind-failed": "telegram"})
    resp = browser(ap).post("/profil/telegram/lepas")
    assert resp.status_code == 302
    assert profile(core, ap).telegram_chat_id is None
    with core.sessions() as s:
        assert s.execute(select(NotifyPreference).where(
            NotifyPreference.user_id == ap.id)).scalars().all() == []
