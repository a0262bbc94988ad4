"""Replying to citizens from Warta and hiding comments (issue 19), against the Graph and
YouTube fakes with the real worker's handler run in-process: approval by a second person bound
to the reply's hash, sent exactly once across a crash or a lost answer, ``unconfirmed`` when
nobody can tell, hiding audited, and only the unit holding the comment acting on it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from postqueue.models import Job
from publisher.jobs import SEND_REPLY
from publisher.models import (
    AuditEvent,
    CitizenComment,
    CommentReply,
    ReplyStatus,
    Role,
    Unit,
    User,
)
from publisher.services import inbox, inbox_reply
from publisher.services.errors import Forbidden, NotFound
from publisher.worker import replies as reply_worker
from publisher.worker.runner import run_job
from tests.adapters import worker_e2e as e2e
from tests.helpers import published_on

R = ReplyStatus


@pytest.fixture
def meta(core_with, graph_fake):  # type: ignore[no-untyped-def]
    base = graph_fake.url + "/v25.0"
    return core_with(WARTA_FACEBOOK_API_URL=base, WARTA_INSTAGRAM_GRAPH_API_URL=base)


@pytest.fixture
def yt():  # type: ignore[no-untyped-def]
    from tests.fakes.youtube import serve

    yield from serve()


@pytest.fixture
def yt_core(core_with, yt):  # type: ignore[no-untyped-def]
    return core_with(WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token")


def _on_platform(core: Any, user: User, channel_id: int, platform: str, post_ext: str,
                 comment_ext: str, text: str = "Bansos saya belum cair") -> int:
    """A published post of ``user``'s unit and a citizen's comment on it, as collected."""
    pub_id = published_on(core, user, channel_id, post_ext, body="Bansos tahap 2 cair.")
    now = core.now()
    with core.sessions.begin() as s:
        row = CitizenComment(channel_id=channel_id, publication_id=pub_id, platform=platform,
                             external_id=comment_ext, text=text, posted_at=now,
                             origin_unit_id=user.unit_id, unit_id=user.unit_id,
                             collected_at=now, seen_at=now, updated_at=now)
        s.add(row)
        s.flush()
        return row.id


def fb_comment(core: Any, user: User, graph: Any) -> tuple[int, str]:
    channel_id = e2e.fb_channel(core, user, graph)
    post = graph.add_post()
    cid = graph.add_comment(post, "Bansos saya belum cair")
    return _on_platform(core, user, channel_id, "facebook", post, cid), cid


def act(core: Any, fn: Any, user: User, *args: Any, **kw: Any) -> Any:
    with core.sessions.begin() as s:
        out = fn(s, s.get(User, user.id), *args, now=core.now(), **kw)
        return out.id


def reply_row(core: Any, reply_id: int) -> CommentReply:
    with core.sessions() as s:
        return s.get_one(CommentReply, reply_id)


def send_due(core: Any) -> int:
    """The worker's round for reply jobs only (no sweeps: nothing else calls the fakes)."""
    ran = 0
    while jobs := core.queue.claim("w", lease_seconds=60, kinds=[SEND_REPLY]):
        run_job(core, jobs[0])
        ran += 1
    return ran


def actions(core: Any) -> list[str]:
    with core.sessions() as s:
        return list(s.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())


def approved_reply(core: Any, people: tuple[User, User], comment_id: int,
                   text: str = "Mohon kirim NIK Anda lewat pesan, kami cek.") -> int:
    op, ap = people
    rid = act(core, inbox_reply.write_reply, op, comment_id, text)
    act(core, inbox_reply.approve_reply, ap, comment_id, rid)
    return rid


def test_a_reply_waits_for_a_second_person_then_goes_out_once(meta, people, graph_fake,
                                                               make_user) -> None:
    core = meta
    op, ap = people
    comment_id, cid = fb_comment(core, op, graph_fake)
    rid = act(core, inbox_reply.write_reply, op, comment_id, "  Terima kasih, kami cek.  ")
    assert reply_row(core, rid).status == R.AWAITING
    assert send_due(core) == 0  # nothing queued before approval
    with pytest.raises(Forbidden):  # an operator is no approver
        act(core, inbox_reply.approve_reply, op, comment_id, rid)
    own = make_user(Role.APPROVER)  # an approver who writes cannot approve it either
    rid2_comment, _ = fb_comment(core, own, graph_fake)
    rid2 = act(core, inbox_reply.write_reply, own, rid2_comment, "Balasan sendiri")
    with pytest.raises(Forbidden, match="sendiri"):
        act(core, inbox_reply.approve_reply, own, rid2_comment, rid2)

    act(core, inbox_reply.approve_reply, ap, comment_id, rid)
    assert send_due(core) == 1
    row = reply_row(core, rid)
    assert row.status == R.SENT and row.external_id
    posted = graph_fake.calls("POST", rf"/{cid}/comments")
    assert len(posted) == 1 and posted[0].form["message"] == "Terima kasih, kami cek."
    assert [r["id"] for r in graph_fake.replies_to(cid)] == [row.external_id]
    with core.sessions() as s:
        assert s.get_one(CitizenComment, comment_id).responded_at is not None
    assert {"reply.write", "reply.approve", "reply.sent"} <= set(actions(core))
    assert send_due(core) == 0 and len(graph_fake.calls("POST", rf"/{cid}/comments")) == 1


def test_an_edit_after_approval_voids_it(meta, people, graph_fake) -> None:
    core = meta
    op, ap = people
    comment_id, cid = fb_comment(core, op, graph_fake)
    rid = approved_reply(core, people, comment_id)
    act(core, inbox_reply.edit_reply, op, comment_id, rid, "Teks baru yang belum disetujui")
    row = reply_row(core, rid)
    assert row.status == R.AWAITING and row.approval_hash is None and row.approved_by is None
    send_due(core)
    assert graph_fake.calls("POST", rf"/{cid}/comments") == []
    act(core, inbox_reply.approve_reply, ap, comment_id, rid)
    send_due(core)
    assert reply_row(core, rid).status == R.SENT
    assert [r["message"] for r in graph_fake.replies_to(cid)] == ["Teks baru yang belum disetujui"]


def test_the_worker_refuses_a_reply_whose_hash_changed(meta, people, graph_fake) -> None:
    core = meta
    comment_id, cid = fb_comment(core, people[0], graph_fake)
    rid = approved_reply(core, people, comment_id)
    with core.sessions.begin() as s:  # a change behind the services' back
        s.get_one(CommentReply, rid).text = "Isi lain yang tidak pernah disetujui"
    send_due(core)
    row = reply_row(core, rid)
    assert row.status == R.FAILED and row.error_code == "approval_mismatch"
    assert graph_fake.calls("POST", rf"/{cid}/comments") == []
    assert "reply.failed" in actions(core)


def test_a_crash_after_the_platform_accepted_is_settled_by_lookup_not_a_resend(
        meta, people, graph_fake, clock, monkeypatch) -> None:
    core = meta
    comment_id, cid = fb_comment(core, people[0], graph_fake)
    rid = approved_reply(core, people, comment_id)
    real = reply_worker._sent

    def die(*a: Any, **kw: Any) -> None:  # the worker dies before Warta records the id
        raise RuntimeError("worker killed")
    monkeypatch.setattr(reply_worker, "_sent", die)
    send_due(core)
    assert reply_row(core, rid).status == R.SENDING
    assert len(graph_fake.replies_to(cid)) == 1

    monkeypatch.setattr(reply_worker, "_sent", real)
    clock.advance(minutes=10)  # the job's retry is due
    send_due(core)
    row = reply_row(core, rid)
    assert row.status == R.SENT and row.external_id == graph_fake.replies_to(cid)[0]["id"]
    assert len(graph_fake.calls("POST", rf"/{cid}/comments")) == 1  # never a second send
    assert len(graph_fake.calls("GET", rf"/{cid}/comments")) == 1  # the lookup


def test_instagram_answer_lost_after_the_reply_was_made_is_found(meta, people,
                                                                   graph_fake) -> None:
    core = meta
    op = people[0]
    channel_id = e2e.ig_graph_channel(core, op, graph_fake)
    media = graph_fake.new_id()
    graph_fake.objects[media] = {"id": media, "kind": "ig_media"}
    cid = graph_fake.add_comment(media, "Kapan pendaftaran dibuka?",
                                 author=("5150", "warga_contoh"))
    comment_id = _on_platform(core, op, channel_id, "instagram_graph", media, cid)
    graph_fake.faults.add("drop", "POST", rf"/{cid}/replies")  # acted, connection dropped
    rid = approved_reply(core, people, comment_id, "Senin depan, Kak.")
    send_due(core)
    row = reply_row(core, rid)
    assert row.status == R.SENT
    assert [r["id"] for r in graph_fake.replies_to(cid)] == [row.external_id]
    assert graph_fake.calls("POST", rf"/{cid}/replies")[0].query["message"] == "Senin depan, Kak."
    with core.sessions() as s:
        sent = s.execute(select(AuditEvent).where(AuditEvent.action == "reply.sent")).scalar_one()
        assert sent.data["found_by_lookup"] is True


def test_youtube_lookup_error_leaves_it_unconfirmed_and_never_resent(yt_core, people, yt,
                                                                      clock) -> None:
    core = yt_core
    op = people[0]
    channel_id = e2e.yt_channel(core, op, yt)
    tid = yt.add_thread("vid1", "Jalan di desa kami rusak")
    comment_id = _on_platform(core, op, channel_id, "youtube", "vid1", tid)
    yt.faults.add("drop", "POST", r"/youtube/v3/comments")
    yt.faults.add("5xx_before", "GET", r"/youtube/v3/comments")  # and so does the lookup
    rid = approved_reply(core, people, comment_id, "Sudah kami teruskan ke Dinas PU.")
    send_due(core)
    row = reply_row(core, rid)
    assert row.status == R.UNCONFIRMED and row.error_code == "lookup_failed"
    assert "reply.unconfirmed" in actions(core)
    clock.advance(hours=2)
    send_due(core)
    inserts = yt.calls("/youtube/v3/comments", "POST")
    assert len(inserts) == 1
    assert inserts[0].json == {"snippet": {"parentId": tid,
                                           "textOriginal": "Sudah kami teruskan ke Dinas PU."}}
    assert len(yt.office_replies(tid)) == 1 and reply_row(core, rid).status == R.UNCONFIRMED


def test_youtube_reply_absent_after_two_looks_is_sent_once_more(yt_core, people, yt,
                                                                clock) -> None:
    core = yt_core
    op = people[0]
    channel_id = e2e.yt_channel(core, op, yt)
    tid = yt.add_thread("vid1", "Terima kasih infonya")
    comment_id = _on_platform(core, op, channel_id, "youtube", "vid1", tid)
    yt.faults.add("5xx_before", "POST", r"/youtube/v3/comments")  # nothing made, 503
    rid = approved_reply(core, people, comment_id, "Sama-sama.")
    send_due(core)
    assert reply_row(core, rid).status == R.SENDING  # absent once: look again later
    clock.advance(minutes=2)
    send_due(core)
    row = reply_row(core, rid)
    assert row.status == R.SENT and row.attempts == 2
    assert [r["id"] for r in yt.office_replies(tid)] == [row.external_id]


def test_a_unit_without_approval_sends_as_written(meta, people, graph_fake) -> None:
    core = meta
    op = people[0]
    with core.sessions.begin() as s:
        s.get_one(Unit, op.unit_id).replies_need_approval = False
    comment_id, cid = fb_comment(core, op, graph_fake)
    rid = act(core, inbox_reply.write_reply, op, comment_id, "Langsung terkirim.")
    send_due(core)
    assert reply_row(core, rid).status == R.SENT and len(graph_fake.replies_to(cid)) == 1


def test_hide_on_each_platform_is_called_and_audited(meta, yt_core, people, graph_fake,
                                                     yt) -> None:
    op = people[0]
    comment_id, cid = fb_comment(meta, op, graph_fake)
    with meta.sessions.begin() as s:
        inbox_reply.hide_comment(meta, s, s.get(User, op.id), comment_id, now=meta.now())
    assert graph_fake.objects[cid]["is_hidden"] is True
    assert graph_fake.calls("POST", rf"/{cid}")[0].form["is_hidden"] == "true"

    channel_id = e2e.ig_graph_channel(meta, op, graph_fake)
    media = graph_fake.new_id()
    graph_fake.objects[media] = {"id": media, "kind": "ig_media"}
    ig = graph_fake.add_comment(media, "slot gacor wa.me/123")
    ig_comment = _on_platform(meta, op, channel_id, "instagram_graph", media, ig)
    with meta.sessions.begin() as s:
        inbox_reply.hide_comment(meta, s, s.get(User, op.id), ig_comment, now=meta.now())
    assert graph_fake.objects[ig]["is_hidden"] is True
    assert graph_fake.calls("POST", rf"/{ig}")[0].query["hide"] == "true"

    yt_channel = e2e.yt_channel(yt_core, op, yt)
    tid = yt.add_thread("vid9", "judi online")
    yt_comment = _on_platform(yt_core, op, yt_channel, "youtube", "vid9", tid)
    with yt_core.sessions.begin() as s:
        inbox_reply.hide_comment(yt_core, s, s.get(User, op.id), yt_comment, now=yt_core.now())
    assert yt.moderation_of(tid) == "heldForReview"
    with meta.sessions() as s:
        hidden = s.execute(select(AuditEvent).where(AuditEvent.action == "comment.hide")).all()
        assert len(hidden) == 3
        assert all(s.get_one(CitizenComment, i).hidden
                   for i in (comment_id, ig_comment, yt_comment))
        assert [e.kind for e in inbox.history(s, comment_id)] == ["hide"]


def test_only_the_holder_unit_replies_or_hides(meta, people, graph_fake, make_user,
                                               units) -> None:
    core = meta
    op, ap = people
    b_op, b_ap = make_user(Role.OPERATOR, "b"), make_user(Role.APPROVER, "b")
    comment_id, cid = fb_comment(core, op, graph_fake)
    rid = act(core, inbox_reply.write_reply, op, comment_id, "Kami cek.")
    for fn, args in ((inbox_reply.write_reply, (comment_id, "x")),
                     (inbox_reply.approve_reply, (comment_id, rid))):
        with pytest.raises(NotFound):  # B cannot see A's comment at all
            act(core, fn, b_ap, *args)
    with core.sessions.begin() as s, pytest.raises(NotFound):
        inbox_reply.hide_comment(core, s, s.get(User, b_op.id), comment_id, now=core.now())
    with core.sessions.begin() as s:
        inbox.forward(s, s.get(User, op.id), comment_id, units["b"].id, "Untuk Bappeda",
                      now=core.now())
    # A still sees it (its post) but B holds it now: A may no longer act on it.
    for fn, args in ((inbox_reply.approve_reply, (comment_id, rid)),
                     (inbox_reply.write_reply, (comment_id, "y"))):
        with pytest.raises(Forbidden):
            act(core, fn, ap, *args)
    with core.sessions.begin() as s, pytest.raises(Forbidden):
        inbox_reply.hide_comment(core, s, s.get(User, op.id), comment_id, now=core.now())
    assert graph_fake.calls("POST", rf"/{cid}") == []
    with core.sessions() as s:
        assert s.execute(select(Job).where(Job.kind == SEND_REPLY)).first() is None


def test_the_comment_page_replies_approves_and_hides(meta, people, graph_fake,
                                                     make_user) -> None:
    from web.app import create_app

    core = meta
    op, ap = people
    comment_id, cid = fb_comment(core, op, graph_fake)
    app = create_app(core=core)
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()

    def login(user: User) -> None:
        with client.session_transaction() as sess:
            sess["_user_id"] = str(user.id)
            sess["_fresh"] = True

    login(op)
    page = client.get(f"/suara-warga/{comment_id}").get_data(as_text=True)
    assert "Balas sebagai akun kantor" in page and "Sembunyikan di platform" in page
    assert client.post(f"/suara-warga/{comment_id}/balas", data={"text": ""}).status_code == 400
    assert client.post(f"/suara-warga/{comment_id}/balas",
                       data={"text": "Kami cek, Bu."}).status_code == 302
    page = client.get(f"/suara-warga/{comment_id}").get_data(as_text=True)
    assert "Menunggu persetujuan" in page and "Setujui dan kirim" not in page
    with core.sessions() as s:
        rid = s.execute(select(CommentReply.id)).scalar_one()
    r = client.post(f"/suara-warga/{comment_id}/balasan/setujui", data={"reply_id": str(rid)})
    assert r.status_code == 403  # the writer (and an operator) cannot approve

    login(ap)
    assert "Setujui dan kirim" in client.get(f"/suara-warga/{comment_id}").get_data(as_text=True)
    for bad in ("abc", "²", "9" * 50):
        assert client.post(f"/suara-warga/{comment_id}/balasan/setujui",
                           data={"reply_id": bad}).status_code == 404
    assert client.post(f"/suara-warga/{comment_id}/balasan/setujui",
                       data={"reply_id": str(rid)}).status_code == 302
    send_due(core)
    assert "Terkirim" in client.get(f"/suara-warga/{comment_id}").get_data(as_text=True)

    assert client.post(f"/suara-warga/{comment_id}/sembunyikan").status_code == 302
    assert graph_fake.objects[cid]["is_hidden"] is True
    page = client.get(f"/suara-warga/{comment_id}").get_data(as_text=True)
    assert "Sembunyikan di platform" not in page
    assert client.post(f"/suara-warga/{comment_id}/sembunyikan").status_code == 409
    other = make_user(Role.OPERATOR, "b")
    login(other)
    assert client.post(f"/suara-warga/{comment_id}/sembunyikan").status_code == 404
    assert client.post(f"/suara-warga/{comment_id}/balas", data={"text": "x"}).status_code == 404


def test_the_offices_own_comments_are_not_collected_as_citizens(graph_fake) -> None:  # type: ignore[no-untyped-def]
    """A first comment or a reply sent from Warta is the Page's own (``from.id`` is the Page):
    the inbox holds citizens' words only."""
    from adapters.base import AdapterContext
    from adapters.facebook import FacebookAdapter

    post = graph_fake.add_post(message="Bansos tahap 2")
    citizen = graph_fake.add_comment(post, "Kapan cair?")
    graph_fake.add_comment(citizen, "Senin depan, Bu.", author=(graph_fake.page_id,
                                                                graph_fake.page_name))
    graph_fake.add_comment(post, "Info lengkap: dinsos.go.id", author=(graph_fake.page_id,
                                                                       graph_fake.page_name))
    adapter = FacebookAdapter(AdapterContext(
        credentials={"page_id": graph_fake.page_id, "access_token": graph_fake.page_token},
        base_url=graph_fake.url + "/v25.0", timeout=5))
    page = adapter.list_comments(post, None)
    assert [c.id for c in page.comments] == [citizen]


def test_a_failed_reply_is_not_brought_back_after_another_was_sent(meta, people,  # type: ignore[no-untyped-def]
                                                                   graph_fake) -> None:
    """Review of the merged features: one reply in progress per comment, and a failed first
    reply edited after a second one went out must not make the citizen get two."""
    from publisher.services.errors import Conflict

    comment_id, _cid = fb_comment(meta, people[0], graph_fake)
    first = approved_reply(meta, people, comment_id)
    with meta.sessions.begin() as s:  # the platform refused it (as the worker records it)
        s.get_one(CommentReply, first).status = R.FAILED
    second = approved_reply(meta, people, comment_id, "Silakan datang ke kantor kelurahan.")
    with pytest.raises(Conflict):  # one in progress: no third while the second waits
        act(meta, inbox_reply.write_reply, people[0], comment_id, "Satu lagi.")
    send_due(meta)
    assert reply_row(meta, second).status == R.SENT
    with pytest.raises(Conflict):
        act(meta, inbox_reply.edit_reply, people[0], comment_id, first, "Coba lagi.")
    assert reply_row(meta, first).status == R.FAILED
