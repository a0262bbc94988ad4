"""First comments (issue 21) through the real worker and the platform fakes: exactly one
comment per publication, whatever happens between the post, the comment call and Warta's
record of it (a lost answer, a worker that dies after the platform acted, a lookup that
cannot tell, a comment that never arrived)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from publisher.core import Core
from publisher.models import AuditEvent, FirstComment, Publication, PublicationStatus
from publisher.worker import first_comment as fc_worker
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.fakes.youtube import FakeYouTube, serve

COMMENT = "Info lengkap: https://contoh.go.id/bansos #BansosTepat"


def _fb_post(core: Core, people: Any, graph: Any, comment: str = COMMENT) -> tuple[int, int]:
    op, ap = people
    ch = e2e.fb_channel(core, op, graph)
    post_id = e2e.approved_post(core, op, ap, [ch], body="Pendaftaran bansos dibuka.",
                                overrides={str(ch): {"first_comment": comment}})
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    return ch, pub_id


def _row(core: Core, pub_id: int) -> FirstComment:
    with core.sessions() as s:
        row = s.get(FirstComment, pub_id)
        assert row is not None
        return row


def _pub(core: Core, pub_id: int) -> Publication:
    with core.sessions() as s:
        return s.get_one(Publication, pub_id)


def _comment_posts(graph: Any) -> list[Any]:
    return graph.calls("POST", r"/\d+_\d+/comments")


def test_facebook_first_comment_goes_out_once_after_the_post(meta_core, people, graph_fake):  # type: ignore[no-untyped-def]
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    run_once(core)
    pub = _pub(core, pub_id)
    assert pub.status == PublicationStatus.PUBLISHED
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    own = graph_fake.own_comments(pub.external_id)
    assert [c["message"] for c in own] == [COMMENT]
    assert row.external_id == own[0]["id"]
    assert len(_comment_posts(graph_fake)) == 1
    run_once(core)  # nothing left to do: no second comment
    assert len(graph_fake.own_comments(pub.external_id)) == 1
    with core.sessions() as s:
        assert s.execute(select(AuditEvent.action).where(
            AuditEvent.action == "first_comment.posted")).scalar_one()


def test_a_post_without_first_comment_makes_no_comment_call(meta_core, people, graph_fake):  # type: ignore[no-untyped-def]
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake, comment="   ")
    run_once(core)
    assert _pub(core, pub_id).status == PublicationStatus.PUBLISHED
    with core.sessions() as s:
        assert s.get(FirstComment, pub_id) is None
    assert _comment_posts(graph_fake) == []


def test_answer_lost_after_the_platform_commented_is_found_not_repeated(meta_core, people,  # type: ignore[no-untyped-def]
                                                                          graph_fake):
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    graph_fake.faults.add("drop", "POST", r"/\d+_\d+/comments")  # processed, then no answer
    run_once(core)
    pub = _pub(core, pub_id)
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    assert len(graph_fake.own_comments(pub.external_id)) == 1
    assert row.external_id == graph_fake.own_comments(pub.external_id)[0]["id"]
    assert len(_comment_posts(graph_fake)) == 1, "looked up, never sent again"
    with core.sessions() as s:
        via = s.execute(select(AuditEvent.data).where(
            AuditEvent.action == "first_comment.posted")).scalar_one()
    assert via["via"] == "reconciled"


def test_worker_dies_after_the_platform_commented_before_warta_recorded(  # type: ignore[no-untyped-def]
        meta_core, people, graph_fake, clock, monkeypatch):
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    real = fc_worker._posted
    calls = {"n": 0}

    def dies_once(*args: Any, **kw: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("worker killed before the record")
        return real(*args, **kw)

    monkeypatch.setattr(fc_worker, "_posted", dies_once)
    run_once(core)
    pub = _pub(core, pub_id)
    assert pub.status == PublicationStatus.PUBLISHED, "the post itself is recorded"
    assert _row(core, pub_id).status == "sending"  # the platform has it, Warta does not know
    assert len(graph_fake.own_comments(pub.external_id)) == 1
    clock.advance(seconds=120)  # the crashed job's retry is due
    run_once(core)
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    assert row.external_id == graph_fake.own_comments(pub.external_id)[0]["id"]
    assert len(graph_fake.own_comments(pub.external_id)) == 1, "exactly one comment"
    assert len(_comment_posts(graph_fake)) == 1


def test_lookup_error_after_unknown_outcome_is_unconfirmed_never_resent(  # type: ignore[no-untyped-def]
        meta_core, people, graph_fake, clock):
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    graph_fake.faults.add("drop", "POST", r"/\d+_\d+/comments")
    graph_fake.fail("permission", path="/comments", method="GET", times=None)
    run_once(core)
    clock.advance(minutes=10)
    run_once(core)
    pub = _pub(core, pub_id)
    row = _row(core, pub_id)
    assert row.status == "unconfirmed"
    assert "add it yourself" in (row.error_en or "")
    assert pub.status == PublicationStatus.PUBLISHED, "a comment problem never fails the post"
    assert len(_comment_posts(graph_fake)) == 1, "never posted blindly again"
    with core.sessions() as s:
        assert s.execute(select(AuditEvent.id).where(
            AuditEvent.action == "first_comment.unconfirmed")).scalar_one()


def test_absent_twice_is_sent_once_more_and_only_once(meta_core, people, graph_fake, clock):  # type: ignore[no-untyped-def]
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    graph_fake.faults.add("5xx_before", "POST", r"/\d+_\d+/comments")  # nothing made
    run_once(core)
    assert _row(core, pub_id).status == "sending"  # looked once, absent: a second look is due
    clock.advance(seconds=200)
    run_once(core)
    pub = _pub(core, pub_id)
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    assert row.resent
    assert len(graph_fake.own_comments(pub.external_id)) == 1


def test_a_refused_comment_fails_alone(meta_core, people, graph_fake):  # type: ignore[no-untyped-def]
    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    graph_fake.fail("permission", path="/comments", method="POST")
    run_once(core)
    pub = _pub(core, pub_id)
    row = _row(core, pub_id)
    assert pub.status == PublicationStatus.PUBLISHED and pub.error is None
    assert row.status == "failed"
    assert graph_fake.own_comments(pub.external_id) == []


# -- X: the first comment is a reply --------------------------------------------------------
def test_x_reply_lost_answer_found_once(xt_core, people, fx):  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    post_id = e2e.approved_post(core, op, ap, [ch], body="Jadwal vaksinasi pekan ini.",
                                overrides={str(ch): {"first_comment": "Lokasi: puskesmas."}})
    # The post goes through; the reply is stored by X, then the connection drops.
    fx.failures["tweets"] = [None, "accept_then_drop"]  # type: ignore[list-item]
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    run_once(core)
    pub = _pub(core, pub_id)
    assert pub.status == PublicationStatus.PUBLISHED
    replies = fx.replies_to(pub.external_id)
    row = _row(core, pub_id)
    assert [r["text"] for r in replies] == ["Lokasi: puskesmas."]
    assert row.status == "posted", row.error_en
    assert row.external_id == replies[0]["id"]


# -- YouTube: a comment thread on the video -------------------------------------------------
@pytest.fixture
def yt() -> Iterator[FakeYouTube]:
    yield from serve()


@pytest.fixture
def yt_core(core_with, yt) -> Core:  # type: ignore[no-untyped-def]
    return core_with(WARTA_YOUTUBE_API_URL=yt.url, WARTA_YOUTUBE_TOKEN_URL=f"{yt.url}/token")


def test_youtube_comment_answer_lost_found_once(yt_core, people, yt):  # type: ignore[no-untyped-def]
    core, (op, ap) = yt_core, people
    ch = e2e.yt_channel(core, op, yt)
    media_id = e2e.video(core, op, size=(640, 360), seconds=2)
    pub_id = e2e.approved(core, op, ap, ch, body="Rekaman rapat.", media=[media_id],
                          title="Rapat Paripurna", options={"made_for_kids": False})
    yt.insert_faults.append("accept_then_drop")
    # set through the service so the approval covers it
    _approve_with_comment(core, people, pub_id, ch, "Materi rapat ada di deskripsi.")
    run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication).where(
            Publication.status == PublicationStatus.PUBLISHED)).scalar_one()
        row = s.get(FirstComment, pub.id)
        assert row is not None and row.status == "posted", row and row.error_en
        own = yt.own_threads(pub.external_id)
        assert [t["top"]["snippet"]["textOriginal"] for t in own] == [
            "Materi rapat ada di deskripsi."]
        assert row.external_id == own[0]["top"]["id"]


def _approve_with_comment(core: Core, people: Any, pub_id: int, ch: int, text: str) -> None:
    """Edit the approved post's first comment (which voids the approval), then approve it
    again: the worker publishes the new approval."""
    from publisher.models import Post, User
    from publisher.services import posts as post_svc

    op, ap = people
    with core.sessions() as s:
        post_id = s.get_one(Publication, pub_id).post_id
    with core.sessions.begin() as s:
        post = s.get_one(Post, post_id)
        overrides = {k: dict(v) for k, v in (post.overrides or {}).items()}
        overrides.setdefault(str(ch), {})["first_comment"] = text
        post_svc.update_post(core, s, s.get_one(User, op.id), post_id,
                             post_svc.PostInput(overrides=overrides))
        assert post.status == "draft" and post.approval_hash is None
    with core.sessions.begin() as s:
        post_svc.submit_post(core, s, s.get_one(User, op.id), post_id)
    with core.sessions.begin() as s:
        post_svc.approve_post(core, s, s.get_one(User, ap.id), post_id)


def test_the_batch_path_queues_the_first_comment_too(meta_core, people, graph_fake):  # type: ignore[no-untyped-def]
    """Many due publications go through ``run_publish_batch`` (the long-running worker's
    path), which records them in one group commit: their first comments start there too."""
    from concurrent.futures import ThreadPoolExecutor

    from publisher.worker import run_job
    from publisher.worker.batch import run_publish_batch
    from publisher.worker.runner import apply_result

    core = meta_core
    _ch, pub_id = _fb_post(core, people, graph_fake)
    jobs = core.queue.claim("batcher", lease_seconds=60, limit=10)
    with ThreadPoolExecutor(2) as calls:
        run_publish_batch(core, jobs, calls, run_step=lambda j, step: run_job(core, j, step),
                          settle=lambda j, r: apply_result(core, j, r))
    assert _pub(core, pub_id).status == PublicationStatus.PUBLISHED
    assert _row(core, pub_id).status == "queued"
    run_once(core)
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    assert len(graph_fake.own_comments(_pub(core, pub_id).external_id)) == 1


def test_instagram_first_comment_on_the_media(meta_core, people, graph_fake, clock):  # type: ignore[no-untyped-def]
    core, (op, ap) = meta_core, people
    ch = e2e.ig_graph_channel(core, op, graph_fake)
    post_id = e2e.approved_post(core, op, ap, [ch], body="Lomba foto HUT kota.",
                                media=[e2e.photo(core, op, 3)],
                                overrides={str(ch): {"first_comment": "#HUTKota #Lomba"}})
    with core.sessions() as s:
        pub_id = s.execute(select(Publication.id).where(Publication.post_id == post_id)
                           ).scalar_one()
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=6)
    assert pub.status == PublicationStatus.PUBLISHED, pub.error_en
    run_once(core)
    row = _row(core, pub_id)
    assert row.status == "posted", row.error_en
    own = graph_fake.own_comments(pub.external_id)
    assert [c["message"] for c in own] == ["#HUTKota #Lomba"]
    assert graph_fake.calls("POST", rf"/{pub.external_id}/comments")
