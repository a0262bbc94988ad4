"""The daily digest by Telegram: non-urgent direct messages held and sent as one message at
the chosen hour, separately from the e-mail digest; approval requests (their buttons) and
urgent kinds still go at once; a rate limit waits as long as Telegram says; a blocked bot
drops the digest's rows and unlinks the chat — against the project's Telegram fake."""

from __future__ import annotations

from datetime import UTC, datetime

from publisher.models import DeliveryStatus, Role, User
from publisher.notify import digest
from publisher.notify.digest import send_digest
from publisher.services import audit
from publisher.services import posts as post_svc
from tests.helpers import sandbox_channel
from tests.notify.flows import deliveries, drain, jobs, set_prefs, submitted_post
from tests.notify.telegram.conftest import CHAT, linked, profile

#: 07.00 WIB on 11 June 2026: the first digest after TEST_NOW (10.00 WIB on 10 June)
MORNING = datetime(2026, 6, 11, 0, 0, tzinfo=UTC)
AUTHOR = "operator@dinsos.example.go.id"


def _decide(core, approver, approve: list[int], reject: list[int]) -> None:  # type: ignore[no-untyped-def]
    with core.sessions.begin() as s:
        me = s.get(User, approver.id)
        for post_id in approve:
            post_svc.approve_post(core, s, me, post_id)
        for post_id in reject:
            post_svc.reject_post(core, s, me, post_id, "Foto kurang jelas, mohon ganti.")


def _author(core, ft, make_user, browser, prefs):  # type: ignore[no-untyped-def]
    op = linked(core, ft, make_user, browser, role=Role.OPERATOR)
    with core.sessions.begin() as s:
        s.get(User, op.id).email = AUTHOR
    set_prefs(core, op, {**prefs, "digest-at": "07.00"})
    return op


def test_telegram_waits_for_one_digest_message_apart_from_the_e_mail_one(
        core, clock, ft, make_user, browser, smtp_server):
    op = _author(core, ft, make_user, browser, {
        "kind-approved": "telegram", "kind-rejected": "email", "kind-needs_reauth": "telegram"})
    ap = make_user(Role.APPROVER)
    first = submitted_post(core, op, "Pengumuman pertama tentang jadwal posyandu balita.")
    second = submitted_post(core, op, "Pengumuman kedua tentang vaksinasi di puskesmas.")
    third = submitted_post(core, op, "Pengumuman ketiga tentang pasar murah.")
    _decide(core, ap, approve=[first, second], reject=[third])
    before = len(ft.dms_to(CHAT))  # the link's confirmation
    drain(core)
    assert len(ft.dms_to(CHAT)) == before and smtp_server.messages == []
    assert {d.not_before for d in deliveries(core)} == {MORNING}
    # one job per person, channel and instant
    assert sorted(str(j.payload.get("channel", "email")) for j in jobs(core, "notify_digest")) \
        == ["email", "telegram"]
    channel = sandbox_channel(core, op, "reauth")
    with core.sessions.begin() as s:  # urgent: at once, by Telegram
        audit.record(s, "channel.needs_reauth", "channel", channel, unit_id=op.unit_id,
                     at=core.now())
    drain(core)
    assert ft.dms_to(CHAT)[before:] and ft.dms_to(CHAT)[-1].startswith(
        "Akun perlu disambung ulang")
    before = len(ft.dms_to(CHAT))
    clock.now = MORNING
    drain(core)
    [dm] = ft.dms_to(CHAT)[before:]
    assert dm.startswith("Ringkasan harian: 2 notifikasi")
    assert dm.count("Unggahan Anda disetujui") == 2 and "ditolak" not in dm
    assert "https://warta.example.go.id/notifikasi" in dm
    [mail] = smtp_server.messages
    assert mail.rcpt_tos == [AUTHOR]
    assert mail.message["Subject"] == "Ringkasan harian: 1 notifikasi"
    held = [d for d in deliveries(core) if d.not_before == MORNING]
    assert {d.status for d in held} == {DeliveryStatus.SENT}
    tg = [d for d in held if d.channel == "telegram"]
    assert len({d.message_id for d in tg}) == 1 and "warta-digest@" in (tg[0].message_id or "")
    assert tg[0].address == str(CHAT)
    # Again (a second run, a later tick): nothing twice.
    assert send_digest(core, op.id, "telegram") is None
    clock.advance(hours=1)
    drain(core)
    assert len(ft.dms_to(CHAT)) == before + 1 and len(smtp_server.messages) == 1


def test_approval_requests_by_telegram_keep_their_buttons_and_come_at_once(
        core, ft, make_user, browser):
    ap = linked(core, ft, make_user, browser)
    set_prefs(core, ap, {"kind-approval_requested": "telegram", "digest-at": "07.00"})
    submitted_post(core, make_user(Role.OPERATOR))
    drain(core)
    [d] = deliveries(core)
    assert d.status == DeliveryStatus.SENT and jobs(core, "notify_digest") == []
    [sent] = [m for m in ft.dms if m["chat_id"] == CHAT and m.get("reply_markup")]
    assert [b["text"] for b in sent["reply_markup"]["inline_keyboard"][0]] == ["Setujui", "Tolak"]


def _held_digest(core, ft, make_user, browser, posts: int = 2):  # type: ignore[no-untyped-def]
    op = _author(core, ft, make_user, browser, {"kind-approved": "telegram"})
    ap = make_user(Role.APPROVER)
    ids = [submitted_post(core, op, f"Pengumuman nomor {n} untuk warga.") for n in range(posts)]
    _decide(core, ap, approve=ids, reject=[])
    drain(core)
    return op


def test_a_rate_limit_waits_as_long_as_telegram_says(core, clock, ft, make_user, browser):
    op = _held_digest(core, ft, make_user, browser)
    before = len(ft.dms_to(CHAT))
    clock.now = MORNING
    ft.retry_after = 600  # longer than the first backoff (a minute): Telegram's wait wins
    ft.fail("sendMessage", "throttle")
    drain(core)
    assert len(ft.dms_to(CHAT)) == before
    rows = deliveries(core)
    assert {d.status for d in rows} == {DeliveryStatus.PENDING}
    assert all("429" in (d.error or "") and "rate limiting" in (d.error or "") for d in rows)
    [job] = jobs(core, "notify_digest")
    assert 600 <= (job.run_at - clock()).total_seconds() <= 600 * 1.2 + 1
    clock.advance(minutes=9)
    assert drain(core) == 0  # still waiting
    clock.advance(minutes=4)
    drain(core)
    assert [d.status for d in deliveries(core)] == [DeliveryStatus.SENT] * 2
    [dm] = ft.dms_to(CHAT)[before:]
    assert dm.startswith("Ringkasan harian: 2 notifikasi")
    assert op


def test_a_blocked_bot_drops_the_digest_and_unlinks_the_chat(core, clock, ft, make_user,
                                                             browser):
    op = _held_digest(core, ft, make_user, browser)
    ft.block(CHAT)
    clock.now = MORNING
    drain(core)
    rows = deliveries(core)
    assert {d.status for d in rows} == {DeliveryStatus.DROPPED}
    assert all("blocked" in (d.error or "") for d in rows)
    assert profile(core, op).telegram_chat_id is None
    assert "Telegram menolak: bot diblokir" in browser(op).get("/notifikasi").get_data(
        as_text=True)


def test_a_long_digest_lists_a_bounded_number_and_counts_the_rest(core, clock, ft, make_user,
                                                                  browser, monkeypatch):
    monkeypatch.setattr(digest, "TELEGRAM_ITEMS", 2)
    _held_digest(core, ft, make_user, browser, posts=3)
    before = len(ft.dms_to(CHAT))
    clock.now = MORNING
    drain(core)
    [dm] = ft.dms_to(CHAT)[before:]
    assert dm.startswith("Ringkasan harian: 3 notifikasi")
    assert dm.count("Unggahan Anda disetujui") == 2 and "…dan 1 lainnya di Warta." in dm
    assert {d.status for d in deliveries(core)} == {DeliveryStatus.SENT}
