"""Approving and rejecting from a simulated Telegram chat: the buttons act through the
approval services as the linked user, with the content hash the message showed."""

from __future__ import annotations

from sqlalchemy import select

from publisher.models import AuditEvent, Post, PostStatus, Role, User
from publisher.notify import telegram_updates
from publisher.services import accounts
from publisher.services import posts as post_svc
from tests.notify.flows import drain, set_prefs, submitted_post
from tests.notify.telegram.conftest import CHAT, link_from_page, linked

ASK = {"kind-approval_requested": "telegram"}


def request(core, ft, make_user, browser_):  # type: ignore[no-untyped-def]
    """An approver linked to CHAT who wants requests by Telegram, an operator's submitted
    post, the request delivered: (approver, operator, post id, the request's DM)."""
    ap = linked(core, ft, make_user, browser_)
    set_prefs(core, ap, ASK)
    op = make_user(Role.OPERATOR)
    post_id = submitted_post(core, op)
    drain(core)
    dm = ft.dms[-1]
    assert dm["text"].startswith("Permintaan persetujuan")
    return ap, op, post_id, dm


def button(dm, label):  # type: ignore[no-untyped-def]
    [row] = dm["reply_markup"]["inline_keyboard"]
    return next(b["callback_data"] for b in row if b["text"] == label)


def status(core, post_id):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Post, post_id).status


def audit_of(core, action):  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_setujui_approves_as_the_linked_approver(core, ft, make_user, browser):
    ap, _op, post_id, dm = request(core, ft, make_user, browser)
    assert [b["text"] for b in dm["reply_markup"]["inline_keyboard"][0]] == ["Setujui", "Tolak"]
    ft.presses(CHAT, dm["message_id"], button(dm, "Setujui"))
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.APPROVED
    [event] = audit_of(core, "post.approve")
    assert event.actor_id == ap.id and event.data["via"] == "telegram"
    assert ft.answers[-1]["text"].startswith("Disetujui")
    assert ft.edits[-1]["reply_markup"] == {"inline_keyboard": []}  # buttons gone
    # pressed again (an old message): nothing more happens
    ft.presses(CHAT, dm["message_id"], button(dm, "Setujui"))
    telegram_updates.poll(core)
    assert len(audit_of(core, "post.approve")) == 1


def test_tolak_asks_for_the_reason_and_rejects_with_it(core, ft, make_user, browser):
    ap, _op, post_id, dm = request(core, ft, make_user, browser)
    ft.presses(CHAT, dm["message_id"], button(dm, "Tolak"))
    telegram_updates.poll(core)
    ask = ft.dms[-1]
    assert ask["reply_markup"] == {"force_reply": True} and f"#{post_id}" in ask["text"]
    assert status(core, post_id) == PostStatus.SUBMITTED
    ft.says(CHAT, "Foto kurang jelas, ganti dengan yang resmi.")
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.REJECTED
    [event] = audit_of(core, "post.reject")
    assert event.actor_id == ap.id and event.data == {
        "comment": "Foto kurang jelas, ganti dengan yang resmi.", "via": "telegram"}
    assert ft.dms[-1]["text"].startswith("Ditolak")


def test_a_stale_button_after_an_edit_says_open_it_in_warta(core, ft, make_user, browser):
    _ap, op, post_id, dm = request(core, ft, make_user, browser)
    with core.sessions.begin() as s:
        post_svc.update_post(core, s, s.get(User, op.id), post_id,
                             post_svc.PostInput(body="Teks yang sudah diubah penulis."))
        if s.get(Post, post_id).status != PostStatus.SUBMITTED:
            post_svc.submit_post(core, s, s.get(User, op.id), post_id)
    ft.presses(CHAT, dm["message_id"], button(dm, "Setujui"))
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.SUBMITTED
    assert "berubah" in ft.answers[-1]["text"] and f"/unggahan/{post_id}" in ft.answers[-1]["text"]
    assert audit_of(core, "post.approve") == []
    # and the reason typed after a stale "Tolak" rejects nothing either
    ft.presses(CHAT, dm["message_id"], button(dm, "Tolak"))
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.SUBMITTED


def test_a_deactivated_users_chat_can_do_nothing(core, ft, make_user, browser):
    ap, _op, post_id, dm = request(core, ft, make_user, browser)
    admin = make_user(Role.ADMIN, None)
    with core.sessions.begin() as s:
        accounts.update_user(s, s.get(User, admin.id), ap.id, active=False)
    ft.presses(CHAT, dm["message_id"], button(dm, "Setujui"))
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.SUBMITTED
    assert "tidak tertaut" in ft.answers[-1]["text"]


def test_the_rules_of_the_approval_page_hold_in_telegram(core, ft, make_user, browser):
    """An approver of another unit who forges a button for this unit's post (the callback
    data is no secret) gets the page's answer: such a post does not exist for them."""
    _ap, _op, post_id, dm = request(core, ft, make_user, browser)
    other = make_user(Role.APPROVER, unit="b")
    token = link_from_page(browser(other))
    ft.person(CHAT + 1)
    ft.says(CHAT + 1, f"/start {token}")
    telegram_updates.poll(core)
    ft.presses(CHAT + 1, 1, button(dm, "Setujui"))
    telegram_updates.poll(core)
    assert status(core, post_id) == PostStatus.SUBMITTED
    assert ft.answers[-1]["show_alert"] is True
