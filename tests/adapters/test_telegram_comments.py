"""Citizens' comments from a Telegram channel's discussion group (issue 19), through the real
worker against the Bot API fake: read from the bot's updates with the offset stored with the
comments (no gap and no duplicate across a crash), filed under the right post and channel
(one bot in two channels), edits followed, the office's own words left out, the account's
problems explained on the Accounts page, and a reply from Warta sent into the thread once
(an unknown outcome is "unconfirmed": a bot cannot read the group back)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from adapters.base import COMMENT_UPDATES
from postqueue.models import Job
from publisher.models import (
    Channel,
    CitizenComment,
    CommentReply,
    ReplyStatus,
    Role,
)
from publisher.worker import comment_updates, run_once
from tests.adapters import worker_e2e as e2e
from tests.adapters.test_comment_replies import approved_reply, reply_row, send_due
from tests.fakes import telegram as tg_fake
from tests.helpers import published_on

G = tg_fake.GROUP_ID
BOT = str(tg_fake.BOT_ID)  # the digits before the token's colon


@pytest.fixture
def tg_core(core_with, ft):  # type: ignore[no-untyped-def]
    return core_with(WARTA_TELEGRAM_API_URL=ft.url)


def published(core: Any, people: Any, channel_id: int, external_id: str) -> int:
    return published_on(core, people[0], channel_id, external_id)


def rows(core: Any) -> list[CitizenComment]:
    with core.sessions() as s:
        return list(s.execute(select(CitizenComment).order_by(CitizenComment.id)).scalars())


def position(core: Any, channel_id: int) -> dict[str, Any]:
    with core.sessions() as s:
        return dict((s.get_one(Channel, channel_id).state or {}).get(COMMENT_UPDATES) or {})


def test_comments_reach_the_inbox_once_across_a_crash_and_edits_follow(  # type: ignore[no-untyped-def]
        tg_core, ft, people, clock, monkeypatch):
    core = tg_core
    ft.link_group()
    ch = e2e.tg_channel(core, people[0])
    pub = published(core, people, ch, "105")
    copy = ft.forward(105)
    first = ft.comment(copy, "Kapan bansos cair di desa kami?")
    reply = ft.comment(first, "Saya juga belum", person=(556, "Sri", None))
    other = ft.comment(copy, "Info dari kanal lain",
                       sender_chat={"id": -100555, "title": "Kanal Warga", "username": "warga"})
    ft.comment(copy, "Pengumuman admin", sender_chat=ft._chat())  # the channel itself
    stranger = ft.forward(999)  # a post Warta did not publish
    ft.comment(stranger, "Bukan unggahan Warta")

    clock.advance(minutes=11)
    run_once(core)
    got = rows(core)
    assert [r.external_id for r in got] == [f"{G}:{first}", f"{G}:{reply}", f"{G}:{other}"]
    assert {r.publication_id for r in got} == {pub}
    assert got[0].parent_external_id is None and got[1].parent_external_id == f"{G}:{first}"
    assert (got[0].author_name, got[0].author_handle) == ("Budi", "budi_w")
    assert (got[1].author_name, got[1].author_handle) == ("Sri", None)
    assert (got[2].author_name, got[2].author_handle) == ("Kanal Warga", "warga")
    assert got[0].text == "Kapan bansos cair di desa kami?" and got[0].due_at is not None
    pos = position(core, ch)
    assert pos["group"] == G and pos["offset"] == ft.next_update + 1
    assert pos["bot"] == BOT and tg_fake.TOKEN not in str(pos)
    assert "problem" not in pos

    # A worker dies after reading the next updates, before storing them: they are read again.
    late = ft.comment(copy, "Sudah tiga bulan belum cair")

    def crash(*_a: Any, **_k: Any) -> int:
        raise RuntimeError("worker killed mid-store")

    monkeypatch.setattr(comment_updates, "store_updates", crash)
    clock.advance(minutes=6)
    run_once(core)
    assert len(rows(core)) == 3 and position(core, ch)["offset"] == pos["offset"]
    monkeypatch.undo()
    clock.advance(minutes=30)
    run_once(core)
    assert [r.external_id for r in rows(core)].count(f"{G}:{late}") == 1
    assert ft.offsets[-2:] == [pos["offset"], pos["offset"]]  # the same updates asked again

    # An edit arrives as edited_message; a month later the account is still read.
    ft.edit_comment(first, "Kapan bansos tahap 2 cair di desa kami?")
    clock.advance(days=40)
    fresh = ft.comment(copy, "Masih belum cair")
    run_once(core)
    by_id = {r.external_id: r for r in rows(core)}
    assert by_id[f"{G}:{first}"].text == "Kapan bansos tahap 2 cair di desa kami?"
    assert by_id[f"{G}:{first}"].edited_at is not None
    assert f"{G}:{fresh}" in by_id and len(by_id) == 5

    # Within the poll interval nothing is asked; after it, one read.
    reads = len(ft.calls("/getUpdates", "POST"))
    clock.advance(minutes=2)
    run_once(core)
    assert len(ft.calls("/getUpdates", "POST")) == reads
    clock.advance(minutes=4)
    run_once(core)
    assert len(ft.calls("/getUpdates", "POST")) == reads + 1


def test_one_bot_in_two_channels_files_each_groups_comments_under_its_own_channel(  # type: ignore[no-untyped-def]
        tg_core, ft, people, clock):
    """Telegram keeps one stream per bot: whichever channel reads it files the other
    channel's comments under that channel (even while it is paused), and the offset moves
    on both, so neither asks for updates the other already took."""
    core = tg_core
    ft.link_group()
    a = e2e.tg_channel(core, people[0])
    b = e2e.channel(core, people[0], "telegram", {"bot_token": tg_fake.TOKEN,
                                                  "channel": "@diskominfo_test"}, name="kedua")
    other_group = -1007777777777
    with core.sessions.begin() as s:  # channel B's group, as its own first read found it;
        row = s.get_one(Channel, b)  # B is paused by the platform, so only A reads
        row.state = {**(row.state or {}), COMMENT_UPDATES: {
            "bot": BOT, "channel": "@diskominfo_test", "group": other_group,
            "channel_chat": -1002222222222, "checked_at": core.now().isoformat()}}
        row.paused_until = core.now() + timedelta(hours=3)
    pub_a = published(core, people, a, "105")
    pub_b = published(core, people, b, "105")  # the same post id, in another channel
    copy = ft.forward(105)
    in_a = ft.comment(copy, "Komentar di kanal A")

    def b_update(message_id: int, text: str, **fields: Any) -> None:
        with ft.lock:
            ft.next_update += 1
            ft.updates.append({"update_id": ft.next_update, "message": {
                "message_id": message_id, "date": 1760000100, "text": text,
                "chat": {"id": other_group, "type": "supergroup"}, **fields}})

    forward_b = {"message_id": 70, "date": 1760000000, "is_automatic_forward": True,
                 "chat": {"id": other_group, "type": "supergroup"},
                 "forward_origin": {"type": "channel", "message_id": 105}}
    b_update(77, "Komentar di kanal B", reply_to_message=forward_b,
             **{"from": {"id": 901, "is_bot": False, "first_name": "Ani"}})
    b_update(78, "Admin B menjawab", reply_to_message=forward_b,
             sender_chat={"id": -1002222222222, "title": "Kanal B"})  # B itself: not stored
    clock.advance(minutes=11)
    run_once(core)
    by_id = {r.external_id: r for r in rows(core)}
    assert by_id[f"{G}:{in_a}"].channel_id == a and by_id[f"{G}:{in_a}"].publication_id == pub_a
    assert by_id[f"{other_group}:77"].channel_id == b
    assert by_id[f"{other_group}:77"].publication_id == pub_b
    assert len(by_id) == 2
    assert position(core, b)["offset"] == position(core, a)["offset"] == ft.next_update + 1
    with core.sessions() as s:
        locks = s.execute(select(Job.lock_key).where(Job.dedupe_key.like("comments:%"))
                          ).scalars().all()
    assert locks and set(locks) == {comment_updates.updates_lock(BOT)}


def test_a_channel_of_the_same_bot_not_read_yet_is_looked_at_before_the_stream_is(  # type: ignore[no-untyped-def]
        tg_core, ft, people, clock):
    """Reading the bot's stream takes every group's updates: a channel of that bot whose group
    is not known yet (just connected, paused) has its group found first, so its comments
    have somewhere to go, and it then shares the offset."""
    core = tg_core
    ft.link_group()
    a = e2e.tg_channel(core, people[0])
    b = e2e.channel(core, people[0], "telegram", {"bot_token": tg_fake.TOKEN,
                                                  "channel": "@diskominfo_test"}, name="kedua")
    with core.sessions.begin() as s:
        s.get_one(Channel, b).paused_until = core.now() + timedelta(hours=3)
    published(core, people, a, "105")
    ft.comment(ft.forward(105), "Kapan cair?")
    assert COMMENT_UPDATES not in (e2e.channel_row(core, b).state or {})
    clock.advance(minutes=11)
    run_once(core)
    theirs = position(core, b)
    assert theirs["group"] == G and theirs["bot"] == BOT and theirs["checked_at"]
    assert theirs["offset"] == position(core, a)["offset"] == ft.next_update + 1


def test_replies_to_the_offices_own_words_and_a_new_bot(  # type: ignore[no-untyped-def]
        tg_core, ft, people, clock):
    """A citizen answering the channel's own message in the thread is filed under the post
    (through the thread's copy); the group's anonymous admins are the office; a channel moved
    to another bot starts that bot's stream afresh instead of confirming it away."""
    core = tg_core
    ft.link_group()
    ch = e2e.tg_channel(core, people[0])
    pub = published(core, people, ch, "105")
    copy = ft.forward(105)
    office = ft.comment(copy, "Pendaftaran dibuka Senin.", sender_chat=ft._chat())
    anon = ft.comment(copy, "Admin grup", sender_chat={"id": G, "title": "Diskusi Uji"})
    follow = ft.comment(office, "Di kantor mana, Pak?", person=(558, "Tono", None))
    clock.advance(minutes=11)
    run_once(core)
    got = {r.external_id: r for r in rows(core)}
    assert set(got) == {f"{G}:{follow}"}, (office, anon)
    assert got[f"{G}:{follow}"].publication_id == pub
    assert got[f"{G}:{follow}"].parent_external_id == f"{G}:{office}"

    new_token = "987654321:BBOtherTokenValue_abcdefghijklmnopq"
    ft.token = new_token
    from publisher.models import User
    from publisher.services import channels as channel_service
    with core.sessions.begin() as s:
        channel_service.reconnect_channel(core, s, s.get_one(User, people[1].id), ch, {
            "bot_token": new_token, "channel": "@diskominfo_test"})
    asked = len(ft.offsets)
    clock.advance(minutes=6)
    run_once(core)
    assert ft.offsets[asked:][:1] == [0]  # the new bot's stream from its start
    assert position(core, ch)["bot"] == "987654321"


@pytest.mark.parametrize("setup, code, words", [
    ("no_group", "tg_no_discussion", "grup diskusi"),
    ("not_member", "tg_not_in_group", "bukan anggota"),
    ("privacy", "tg_cannot_read", "privasi"),
    ("webhook", "tg_updates_conflict", "webhook"),
    ("notify_bot", "tg_notify_bot", "bot notifikasi"),
])
def test_why_comments_do_not_arrive_is_on_the_accounts_page(  # type: ignore[no-untyped-def]
        core_with, ft, people, clock, client, login_as, setup, code, words):
    env = {"WARTA_TELEGRAM_API_URL": ft.url}
    if setup == "notify_bot":
        env.update(WARTA_NOTIFY_TELEGRAM_BOT_TOKEN=tg_fake.TOKEN,
                   WARTA_NOTIFY_TELEGRAM_API_URL=ft.url, WARTA_PUBLIC_URL=e2e.PUBLIC_URL)
    core = core_with(**env)
    if setup != "no_group":
        ft.link_group()
    ft.group_status = "left" if setup == "not_member" else (
        "member" if setup == "privacy" else "administrator")
    ch = e2e.tg_channel(core, people[0])
    published(core, people, ch, "105")
    if setup != "no_group":
        copy = ft.forward(105)
        ft.comment(copy, "Kapan cair?")
    if setup == "webhook":
        ft.webhook = {"url": "https://elsewhere.example/hook"}
    clock.advance(minutes=11)
    if setup == "notify_bot":
        ft.updates.clear()  # the notification poller's own reads are not what is tested
    run_once(core)
    assert position(core, ch).get("problem") == code
    assert rows(core) == []
    if setup in ("no_group", "not_member", "notify_bot"):
        group_reads = [c for c in ft.calls("/getUpdates", "POST")
                       if (c.json or {}).get("allowed_updates") == ["message", "edited_message"]]
        assert group_reads == []  # nothing is consumed from a stream that is not ours to read
    login_as(Role.OPERATOR, "a")
    page = client.get("/akun").get_data(as_text=True)
    assert f'data-notice="{code}"' in page and words in page.lower()


def test_a_reply_goes_into_the_thread_once_and_an_unknown_outcome_is_unconfirmed(  # type: ignore[no-untyped-def]
        tg_core, ft, people, clock):
    core = tg_core
    ft.link_group()
    ch = e2e.tg_channel(core, people[0])
    pub = published(core, people, ch, "105")
    copy = ft.forward(105)
    first = ft.comment(copy, "Kapan cair?")
    second = ft.comment(copy, "Di mana daftarnya?", person=(557, "Rina", "rina"))
    clock.advance(minutes=11)
    run_once(core)
    by_id = {r.external_id: r.id for r in rows(core)}

    rid = approved_reply(core, people, by_id[f"{G}:{first}"], "Minggu depan, Bu. Terima kasih.")
    assert send_due(core) == 1
    sent = reply_row(core, rid)
    assert sent.status == ReplyStatus.SENT
    assert len(ft.group_replies) == 1
    out = ft.group_replies[0]
    assert out["text"] == "Minggu depan, Bu. Terima kasih."
    assert out["reply_to_message"]["message_id"] == first and out["chat"]["id"] == G
    assert sent.external_id == f"{G}:{out['message_id']}"
    assert send_due(core) == 0  # sent once

    # A citizen answers the office's reply: filed under the same post (through the reply).
    back = ft.comment(out["message_id"], "Baik, terima kasih")
    clock.advance(minutes=6)
    run_once(core)
    got = {r.external_id: r for r in rows(core)}
    assert got[f"{G}:{back}"].publication_id == pub
    assert got[f"{G}:{back}"].parent_external_id == sent.external_id

    # The answer to the send is lost after Telegram posted it: nobody can read it back.
    ft.fail("sendMessage", "drop")
    rid2 = approved_reply(core, people, by_id[f"{G}:{second}"], "Di kantor desa.")
    send_due(core)
    clock.advance(minutes=5)
    send_due(core)
    assert reply_row(core, rid2).status == ReplyStatus.UNCONFIRMED
    assert [m["text"] for m in ft.group_replies].count("Di kantor desa.") == 1
    with core.sessions() as s:
        assert s.execute(select(CommentReply).where(CommentReply.id == rid2)
                         ).scalar_one().attempts == 1
