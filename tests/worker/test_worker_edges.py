"""The worker's reconcile, wait and poll steps at their edges, with the sandbox and the test
clock (kills survivors of the mutation run of ``publisher/worker/``): a lookup that finds a
post another publication holds, the first look after a dead worker, the operator's
"waiting for the quota until …" message, and the poll's guards.

Expected local times are computed by hand: the units' zone is Asia/Jakarta (WIB, UTC+7, no
daylight saving), so a UTC instant reads ``(t + 7 h)`` as ``HH.MM WIB``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from adapters.base import Pending
from adapters.errors import RetryLater
from adapters.sandbox import SandboxAdapter
from postqueue.models import Job, JobStatus
from publisher.config import load_settings
from publisher.core import build_core
from publisher.models import (
    AuditEvent,
    Channel,
    Publication,
    PublicationStatus,
    PublishAttempt,
    Role,
)
from publisher.models.org import Unit
from publisher.worker import run_once
from publisher.worker.publish import _mark_submitted
from publisher.worker.reconcile import _note_absent
from tests.helpers import approved_post, outbox_records, sandbox_channel, set_control

S = PublicationStatus
WIB = timedelta(hours=7)


def wib(t: datetime) -> str:
    """``10.01 WIB``: the hand-computed local reading of a UTC instant."""
    return f"{t + WIB:%H.%M} WIB"


@pytest.fixture
def people(make_user):  # type: ignore[no-untyped-def]
    return {"op": make_user(Role.OPERATOR), "ap": make_user(Role.APPROVER)}


@pytest.fixture(autouse=True)
def _jakarta(core, units):  # type: ignore[no-untyped-def]
    """The hand-computed times assume the units read WIB (unless a test moves one)."""
    with core.sessions() as s:
        assert {u.timezone for u in s.execute(select(Unit)).scalars()} == {"Asia/Jakarta"}
    assert core.settings.timezone == "Asia/Jakarta"


def pubs_of(core, post_id: int) -> list[Publication]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(Publication).where(Publication.post_id == post_id)
                              .order_by(Publication.id)).scalars())


def pub(core, pub_id: int) -> Publication:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Publication, pub_id)


def attempts_of(core, pub_id: int) -> list[PublishAttempt]:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return list(s.execute(select(PublishAttempt).where(PublishAttempt.publication_id == pub_id)
                              .order_by(PublishAttempt.id)).scalars())


def job(core, job_id: int) -> Job:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.get(Job, job_id)


def audit_count(core, pub_id: int) -> int:  # type: ignore[no-untyped-def]
    with core.sessions() as s:
        return s.execute(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.object_type == "publication", AuditEvent.object_id == pub_id)).scalar_one()


def crash_submitted(core, lease_seconds: int = 30) -> int:  # type: ignore[no-untyped-def]
    """A worker claims one job and commits "submitted" (the real ``_mark_submitted``), then
    dies: returns the publication's id."""
    (dead,) = core.queue.claim("dead-worker", lease_seconds=lease_seconds, limit=1)
    pub_id = int(dead.payload["publication_id"])
    assert _mark_submitted(core, dead, pub_id) is not None
    return pub_id


# -- 1. found, but another publication holds that platform post ----------------------------------
def test_a_found_post_that_another_publication_holds_fails_and_is_never_published_twice(
        core, clock, people):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], "ambil")
    first = approved_post(core, people["op"], people["ap"], [ch], body="Posyandu buka.",
                          when=clock.now)
    assert run_once(core) == 1
    (a,) = pubs_of(core, first)
    assert a.status == S.PUBLISHED and a.external_id
    # Two days later (outside the window the lookup's exclusion reads) a second post's worker
    # dies after "submitted"; the platform's search then answers with the first post's id.
    clock.advance(days=2)
    second = approved_post(core, people["op"], people["ap"], [ch], body="Posyandu buka lagi.",
                           when=clock.now)
    b_id = crash_submitted(core)
    (b,) = pubs_of(core, second)
    assert b.id == b_id
    folder = Path(core.settings.sandbox_outbox) / "ambil"
    (folder / "found.json").write_text(json.dumps(
        {"id": a.external_id, "key": f"warta-{b_id}", "body": "Posyandu buka lagi.",
         "published_at": clock.now.isoformat()}))
    clock.advance(seconds=31)
    run_once(core)

    b = pub(core, b_id)
    assert (b.status, b.error_code) == (S.FAILED, "found_taken")
    assert b.error == ("Unggahan yang ditemukan di platform sudah tercatat untuk publikasi "
                       "lain; periksa akun.")
    assert b.error_en == ("The post found on the platform already belongs to another "
                          "publication; check the account.")
    assert b.external_id is None and b.published_at is None
    with core.sessions() as s:
        holders = s.execute(select(Publication.id).where(
            Publication.channel_id == ch, Publication.external_id == a.external_id,
            Publication.status == S.PUBLISHED)).scalars().all()
        assert holders == [a.id], "one platform post, one publication"
        assert s.get(Channel, ch).last_error == b.error
        failed = s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.failed", AuditEvent.object_id == b_id)
        ).scalars().all()
        assert [e.data["code"] for e in failed] == ["found_taken"]
    assert pub(core, a.id).status == S.PUBLISHED
    assert len(outbox_records(core, "ambil")) == 2  # A's and the one found: nothing posted
    assert len(attempts_of(core, b_id)) == 1  # the dead worker's; no new call
    clock.advance(hours=1)
    run_once(core)
    assert pub(core, b_id).status == S.FAILED
    assert len(outbox_records(core, "ambil")) == 2


# -- 2. the first look after a dead worker finds nothing ------------------------------------------
def test_after_a_crash_an_absent_post_closes_the_dead_attempt_and_looks_again(
        core, clock, people):  # type: ignore[no-untyped-def]
    chs = [sandbox_channel(core, people["op"], a) for a in ("hilang1", "hilang2")]
    approved_post(core, people["op"], people["ap"], chs, body="Jadwal vaksin", when=clock.now)
    crashed = crash_submitted(core, lease_seconds=30)
    clock.advance(seconds=31)
    # Another publication is in flight on a live worker meanwhile: its open attempt is not
    # the dead worker's and must stay open.
    (live,) = core.queue.claim("live-worker", lease_seconds=600, limit=1)
    other = int(live.payload["publication_id"])
    assert other != crashed and _mark_submitted(core, live, other) is not None
    (other_attempt,) = attempts_of(core, other)
    (dead_attempt,) = attempts_of(core, crashed)
    assert other_attempt.id > dead_attempt.id
    t1 = clock.now

    assert run_once(core) == 1
    p = pub(core, crashed)
    assert p.status == S.PUBLISHING
    assert (p.absent_looks, p.republished_at) == (1, None)
    assert p.error_code == "looking_again"
    at = wib(t1 + timedelta(seconds=SandboxAdapter.recheck_seconds))
    assert p.error == (f"Belum ditemukan di Sandbox (latihan); Warta memeriksa lagi pukul {at} "
                       "sebelum memutuskan menerbitkan ulang.")
    assert p.error_en == (f"Not found on Sandbox (latihan) yet; Warta looks again at {at} "
                          "before deciding to publish again.")
    (a,) = attempts_of(core, crashed)
    assert (a.outcome, a.detail, a.ended_at, a.http_status) == (
        "absent", "lookup found nothing", t1, None)
    (o,) = attempts_of(core, other)
    assert (o.outcome, o.ended_at) == (None, None), "another publication's call in flight"
    assert job(core, p.job_id).run_at == t1 + timedelta(seconds=SandboxAdapter.recheck_seconds)
    assert outbox_records(core, "hilang1") == outbox_records(core, "hilang2") == []

    clock.advance(seconds=SandboxAdapter.recheck_seconds)
    t2 = clock.now
    assert run_once(core) == 1  # absent again: published again, once
    p = pub(core, crashed)
    assert p.status == S.PUBLISHED
    assert (p.absent_looks, p.republished_at) == (0, t2)
    assert [x.outcome for x in attempts_of(core, crashed)] == ["absent", "published"]
    account = "hilang1" if p.channel_id == chs[0] else "hilang2"
    (record,) = outbox_records(core, account)
    assert record["key"] == f"warta-{crashed}" and record["id"] == p.external_id


def test_an_unknown_outcome_then_absent_keeps_the_platforms_error_on_the_attempt(
        core, clock, people, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(SandboxAdapter, "lookup", lambda self, post, since: None)
    ch = sandbox_channel(core, people["op"], "waktu")
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    set_control(core, "waktu", mode="timeout_after_accept", times=1)
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    assert (p.status, p.absent_looks, p.error_code) == (S.PUBLISHING, 1, "looking_again")
    (a,) = attempts_of(core, p.id)
    assert (a.outcome, a.ended_at) == ("absent", clock.now)
    assert a.detail == "[timeout] Timed out after the post was sent; not sure it was published."


def test_a_note_without_a_message_leaves_the_operators_message(core, clock, people):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], "catat")
    approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    pub_id = crash_submitted(core)
    with core.sessions.begin() as s:
        p = s.get(Publication, pub_id)
        p.error, p.error_en, p.error_code, p.absent_looks = "Lama", "Old", "old", 1
    clock.advance(seconds=5)
    _note_absent(core, pub_id, None, None, looks=0, republished=True)
    p = pub(core, pub_id)
    assert (p.error, p.error_en, p.error_code) == ("Lama", "Old", "old")
    assert (p.absent_looks, p.republished_at, p.updated_at) == (0, clock.now, clock.now)
    (a,) = attempts_of(core, pub_id)
    assert (a.outcome, a.detail, a.ended_at) == ("absent", "lookup found nothing", clock.now)


# -- 3. a platform's wait, told to the operator ----------------------------------------------------
WAITS = [
    # control (or a platform's own RetryLater), seconds, channel paused, message id, message en
    pytest.param({"mode": "quota"}, 3600, True,
                 "Kuota harian akun sandbox habis; penayangan dilanjutkan otomatis saat kuota "
                 "kembali. Menunggu kuota sandbox sampai {at}.",
                 "The sandbox account's daily quota is spent; publishing resumes automatically "
                 "when it refills. Waiting for the sandbox quota until {at}.",
                 "quota_exceeded", id="sandbox-quota"),
    pytest.param({"mode": "throttle", "retry_after": 600}, 600, False,
                 "Terlalu banyak permintaan; dicoba lagi otomatis. Menunggu batas sandbox "
                 "sampai {at}.",
                 "Too many requests; retrying automatically. Waiting for the sandbox limit "
                 "until {at}.", "rate_limited", id="sandbox-throttle"),
    pytest.param(RetryLater("youtube", "Kuota harian YouTube habis.",
                            "The YouTube daily quota is spent.", retry_after=7200,
                            scope="channel", code="quota_exceeded", http_status=403),
                 7200, True, "Kuota harian YouTube habis. Menunggu kuota YouTube sampai {at}.",
                 "The YouTube daily quota is spent. Waiting for the YouTube quota until {at}.",
                 "quota_exceeded", id="youtube-display-name"),
]


@pytest.mark.parametrize("control, seconds, paused, msg_id, msg_en, code", WAITS)
def test_a_platform_wait_tells_the_operator_until_when_in_local_time(
        core, clock, people, monkeypatch, control, seconds, paused, msg_id, msg_en, code):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], "tunggu")
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    if isinstance(control, RetryLater):
        def publish(self, post):  # type: ignore[no-untyped-def]
            raise control
        monkeypatch.setattr(SandboxAdapter, "publish", publish)
    else:
        set_control(core, "tunggu", **control, times=1)
    t0 = clock.now
    until = t0 + timedelta(seconds=seconds + 3)  # the platform's time plus PLATFORM_SLACK
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    at = wib(until)
    assert (p.status, p.error_code, p.attempts) == (S.QUEUED, code, 1)
    assert p.error == msg_id.format(at=at)
    assert p.error_en == msg_en.format(at=at)
    assert p.held_until == until and p.submitted_at is None
    j = job(core, p.job_id)
    assert (j.status, j.run_at) == (JobStatus.QUEUED, until)
    (a,) = attempts_of(core, p.id)
    assert (a.outcome, a.ended_at) == ("retry", t0)
    with core.sessions() as s:
        channel = s.get(Channel, ch)
        assert channel.paused_until == (until if paused else None)
        assert channel.last_error is None  # a wait is not the account's error
    assert outbox_records(core, "tunggu") == []


def test_the_wait_is_told_in_the_units_own_zone(core, clock, people, units):  # type: ignore[no-untyped-def]
    """A unit in Papua reads WIT (UTC+9), not the installation's WIB."""
    with core.sessions.begin() as s:
        s.get(Unit, units["a"].id).timezone = "Asia/Jayapura"
    ch = sandbox_channel(core, people["op"], "papua")
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    set_control(core, "papua", mode="throttle", retry_after=600, times=1)
    until = clock.now + timedelta(seconds=603)
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    at = f"{until + timedelta(hours=9):%H.%M} WIT"
    assert p.error == ("Terlalu banyak permintaan; dicoba lagi otomatis. Menunggu batas sandbox "
                       f"sampai {at}.")
    assert p.error_en.endswith(f"Waiting for the sandbox limit until {at}.")


def test_a_wait_without_a_time_keeps_the_platforms_words_and_holds_nothing(
        core, clock, people):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], "sela")
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    set_control(core, "sela", mode="transient", times=1)
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    assert (p.status, p.error_code) == (S.QUEUED, "server_error")
    assert p.error == "Gangguan sementara di platform; dicoba lagi otomatis."
    assert p.error_en == "Temporary platform failure; retrying automatically."
    assert p.held_until is None
    assert job(core, p.job_id).last_error == "Temporary platform failure; retrying automatically."
    with core.sessions() as s:
        assert s.get(Channel, ch).paused_until is None


def test_attempts_count_platform_calls_not_claims(core, test_env, clock, people):  # type: ignore[no-untyped-def]
    """A claim held by a channel pause is not an attempt: the message and the limit count the
    publication's platform calls (the job was claimed three times, the platform called twice)."""
    core2 = build_core(load_settings({**test_env, "WARTA_MAX_ATTEMPTS": "2"}), clock=clock)
    try:
        ch = sandbox_channel(core2, people["op"], "hitung")
        post_id = approved_post(core2, people["op"], people["ap"], [ch], when=clock.now)
        with core2.sessions.begin() as s:
            s.get(Channel, ch).paused_until = clock.now + timedelta(seconds=60)
        assert run_once(core2) == 1  # held by the platform's pause: no call
        (p,) = pubs_of(core2, post_id)
        assert (p.status, p.attempts) == (S.QUEUED, 0)
        set_control(core2, "hitung", mode="throttle", retry_after=600)
        clock.advance(seconds=61)
        assert run_once(core2) == 1
        (p,) = pubs_of(core2, post_id)
        assert (p.status, p.attempts, job(core2, p.job_id).attempts) == (S.QUEUED, 1, 2)
        clock.advance(seconds=604)
        assert run_once(core2) == 1
        (p,) = pubs_of(core2, post_id)
        assert (p.status, p.attempts, p.error_code) == (S.FAILED, 2, "rate_limited")
        assert p.error == ("Terlalu banyak permintaan; dicoba lagi otomatis. Gagal setelah 2 "
                           "percobaan; coba lagi nanti.")
        assert p.error_en == ("Too many requests; retrying automatically. Failed after 2 "
                              "attempts; try again later.")
        last = attempts_of(core2, p.id)[-1]
        assert (last.outcome, last.http_status) == ("retry", 429)
        assert outbox_records(core2, "hitung") == []
    finally:
        core2.engine.dispose()


# -- 4. the poll ---------------------------------------------------------------------------------
def pending_post(core, clock, people, account: str) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], account)
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    set_control(core, account, mode="pending", times=1)
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    assert p.status == S.PUBLISHING and p.pending_state
    return ch, p.id


def test_a_polled_post_keeps_the_pending_states_platform_id(core, clock, people):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "proses")
    (record,) = outbox_records(core, "proses")
    assert pub(core, pub_id).pending_state == {"external_id": record["id"]}
    clock.advance(seconds=5)
    assert run_once(core) == 1
    p = pub(core, pub_id)
    published_at = datetime.fromisoformat(record["published_at"])
    assert (p.status, p.external_id) == (S.PUBLISHED, record["id"])
    assert p.permalink == f"sandbox://proses/{record['id']}"
    assert p.published_at == published_at
    assert (p.pending_state, p.polling_since, p.error, p.error_code) == (None, None, None, None)
    assert (p.next_metrics_at, p.metrics_stage) == (published_at + timedelta(minutes=10), 0)
    assert [a.outcome for a in attempts_of(core, pub_id)] == ["pending"]
    with core.sessions() as s:
        (event,) = s.execute(select(AuditEvent).where(
            AuditEvent.action == "publication.published", AuditEvent.object_id == pub_id)
        ).scalars().all()
        assert event.data["via"] == "published"
        assert event.data["external_id"] == record["id"]
    assert len(outbox_records(core, "proses")) == 1


@pytest.mark.parametrize("change", ["failed_meanwhile", "no_pending_state"])
def test_a_poll_for_a_publication_no_longer_pending_does_nothing(core, clock, people, change):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "jaga")
    with core.sessions.begin() as s:
        p = s.get(Publication, pub_id)
        if change == "failed_meanwhile":  # settled by someone else; its state still stored
            p.status = S.FAILED
        else:
            p.pending_state = None
        poll_job = p.job_id
    before = pub(core, pub_id)
    events = audit_count(core, pub_id)
    clock.advance(seconds=5)
    assert run_once(core) == 1
    j = job(core, poll_job)
    assert (j.kind, j.status) == ("poll", JobStatus.DONE)
    p = pub(core, pub_id)
    assert (p.status, p.external_id, p.polling_since) == (before.status, None, None)
    assert p.pending_state == before.pending_state
    assert p.updated_at == before.updated_at
    assert audit_count(core, pub_id) == events
    assert [a.outcome for a in attempts_of(core, pub_id)] == ["pending"]
    assert len(outbox_records(core, "jaga")) == 1  # only the original submission


def test_a_poll_waits_out_a_channel_pause_without_calling(core, clock, people):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "tahan")
    until = clock.now + timedelta(minutes=30)
    with core.sessions.begin() as s:  # another publication met the account's quota
        s.get(Channel, ch).paused_until = until
    clock.advance(seconds=5)
    assert run_once(core) == 1
    p = pub(core, pub_id)
    assert (p.status, p.external_id, p.polling_since) == (S.PUBLISHING, None, None)
    assert p.pending_state
    assert job(core, p.job_id).run_at == until


def test_a_due_second_look_on_a_pending_post_looks_instead_of_polling(core, clock, people):  # type: ignore[no-untyped-def]
    """A poll whose outcome was unknown was looked for once (``absent_looks``): the next poll
    job is that second look, not a poll. Absent again, it is "published again" once: for a
    poll that is the poll itself, again."""
    ch, pub_id = pending_post(core, clock, people, "lihat")
    folder = Path(core.settings.sandbox_outbox) / "lihat"
    for f in folder.glob("*.json"):
        if f.name != "control.json":
            f.unlink()  # the platform does not show it
    with core.sessions.begin() as s:
        s.get(Publication, pub_id).absent_looks = 1
    clock.advance(seconds=5)
    # The look (absent again: the one "again" is a poll due now), then that poll in the same
    # round, which finds the post gone.
    assert run_once(core) == 2
    p = pub(core, pub_id)
    assert (p.status, p.error_code, p.republished_at) == (S.FAILED, "gone", clock.now)
    assert p.error == "Unggahan hilang dari sandbox."
    assert outbox_records(core, "lihat") == []
    assert [a.outcome for a in attempts_of(core, pub_id)] == ["pending"]


def test_still_processing_keeps_polling_and_says_why(core, clock, people, monkeypatch):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "moderasi")
    seen: list[object] = []

    def poll(self, pending):  # type: ignore[no-untyped-def]
        seen.append(pub(core, pub_id).polling_since)  # committed before the call
        return Pending({**pending.state, "round": 2}, poll_after=7,
                       message_id="Masih ditinjau platform.", message_en="Still in review.")
    monkeypatch.setattr(SandboxAdapter, "poll", poll)
    clock.advance(seconds=5)
    assert run_once(core) == 1
    assert seen == [clock.now]
    p = pub(core, pub_id)
    assert (p.status, p.polling_since, p.error_code) == (S.PUBLISHING, None, "still_processing")
    assert (p.error, p.error_en) == ("Masih ditinjau platform.", "Still in review.")
    assert p.pending_state["round"] == 2
    assert job(core, p.job_id).run_at == clock.now + timedelta(seconds=7)
    clock.advance(hours=24)  # still processing a day after the submission: a person looks
    assert run_once(core) == 1
    p = pub(core, pub_id)
    assert (p.status, p.error_code) == (S.UNCONFIRMED, "pending_too_long")
    assert p.error == "Platform masih memproses setelah 24 jam; periksa akun."


def _raise(exc: Exception):  # type: ignore[no-untyped-def]
    def poll(self, pending):  # type: ignore[no-untyped-def]
        raise exc
    return poll


def test_a_throttled_poll_waits_the_platforms_time_and_pauses_the_channel(
        core, clock, people, monkeypatch):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "cekkuota")
    monkeypatch.setattr(SandboxAdapter, "poll", _raise(RetryLater(
        "sandbox", "Kuota habis.", "Quota spent.", retry_after=120, scope="channel",
        code="quota_exceeded", http_status=429)))
    clock.advance(seconds=5)
    until = clock.now + timedelta(seconds=123)  # the platform's 120 s plus PLATFORM_SLACK
    assert run_once(core) == 1
    p = pub(core, pub_id)
    assert (p.status, p.polling_since, p.external_id) == (S.PUBLISHING, None, None)
    assert p.pending_state
    j = job(core, p.job_id)
    assert (j.kind, j.run_at, j.last_error) == ("poll", until, "Quota spent.")
    with core.sessions() as s:
        assert s.get(Channel, ch).paused_until == until


def test_a_poll_the_platform_refuses_fails_with_its_words(core, clock, people, monkeypatch):  # type: ignore[no-untyped-def]
    from adapters.errors import Rejected

    ch, pub_id = pending_post(core, clock, people, "tolak")
    monkeypatch.setattr(SandboxAdapter, "poll", _raise(Rejected(
        "sandbox", "Video ditolak platform.", "The platform refused the video.",
        code="bad_video", http_status=400)))
    clock.advance(seconds=5)
    assert run_once(core) == 1
    p = pub(core, pub_id)
    assert (p.status, p.error_code, p.polling_since) == (S.FAILED, "bad_video", None)
    assert (p.error, p.error_en) == ("Video ditolak platform.", "The platform refused the video.")
    assert p.external_id is None


@pytest.mark.parametrize("refresh_ok", [True, False])
def test_a_poll_with_an_expired_session_refreshes_once_or_asks_to_reconnect(
        core, clock, people, monkeypatch, refresh_ok):  # type: ignore[no-untyped-def]
    ch, pub_id = pending_post(core, clock, people, "sesi")
    (record,) = outbox_records(core, "sesi")
    with core.sessions.begin() as s:  # the stored token expired meanwhile
        c = s.get(Channel, ch)
        creds = core.box.open(c.credentials_encrypted)
        c.credentials_encrypted = core.box.seal({**creds, "token": "expired"})
    set_control(core, "sesi", refresh_ok=refresh_ok)

    original = SandboxAdapter.poll

    def poll(self, pending):  # type: ignore[no-untyped-def]
        self._check_auth(self._raw_control())  # as a platform checks the token on every call
        return original(self, pending)
    monkeypatch.setattr(SandboxAdapter, "poll", poll)
    clock.advance(seconds=5)
    run_once(core)
    p = pub(core, pub_id)
    if refresh_ok:  # refreshed, polled again at once, published with the pending post's id
        assert (p.status, p.external_id) == (S.PUBLISHED, record["id"])
    else:
        # Already sent: not "needs reauth" (which a reconnect resumes as never sent, and
        # published a second time) but unconfirmed, with the account marked for reconnecting.
        assert (p.status, p.error_code) == (S.UNCONFIRMED, "auth_after_submit")
        assert p.error == ("Sesi akun sandbox berakhir. Sambungkan ulang akun ini. Unggahan "
                           "sudah terkirim dan sedang diproses platform; sambungkan ulang akun "
                           "lalu periksa apakah sudah terbit sebelum menerbitkan ulang.")
        assert p.error_en == ("The sandbox account session expired. Reconnect this account. "
                              "The post was already sent and the platform was processing it; "
                              "reconnect the account, then check whether it went out before "
                              "publishing again.")
        with core.sessions() as s:
            assert s.get(Channel, ch).status == "needs_reauth"
        with core.sessions.begin() as s:
            from publisher.models import User
            from publisher.services import channels as channel_svc

            channel_svc.reconnect_channel(core, s, s.get(User, people["op"].id), ch,
                                          {"account": "sesi", "token": "baru"})
        clock.advance(minutes=1)
        run_once(core)
        assert pub(core, pub_id).status == S.UNCONFIRMED
    assert len(outbox_records(core, "sesi")) == 1, "published twice"


# -- credentials that cannot be opened (the encryption key changed) -------------------------------
def _seal_with_another_key(core, channel_id: int) -> None:  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    with core.sessions.begin() as s:
        s.get(Channel, channel_id).credentials_encrypted = Fernet(Fernet.generate_key()).encrypt(
            json.dumps({"account": "x", "token": "t"}).encode())


def test_a_crashed_publication_whose_credentials_cannot_be_opened_is_unconfirmed(
        core, clock, people):  # type: ignore[no-untyped-def]
    """Before: the decryption error crashed the look after the dead worker at every try, and
    the publication stayed *publishing* with no word for the operator."""
    ch = sandbox_channel(core, people["op"], "kunci")
    approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    pub_id = crash_submitted(core)
    _seal_with_another_key(core, ch)
    clock.advance(seconds=31)
    assert run_once(core) == 1
    p = pub(core, pub_id)
    assert (p.status, p.error_code) == (S.UNCONFIRMED, "credentials_unreadable")
    assert "hubungkan ulang akun" in (p.error or "")
    assert "reconnect the account" in (p.error_en or "")
    assert job(core, p.job_id).status == JobStatus.DONE
    assert outbox_records(core, "kunci") == []
    clock.advance(hours=1)
    assert run_once(core) == 0  # settled: nothing left to run


def test_a_due_post_whose_credentials_cannot_be_opened_fails_with_reconnect(
        core, clock, people):  # type: ignore[no-untyped-def]
    ch = sandbox_channel(core, people["op"], "kunci2")
    post_id = approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    _seal_with_another_key(core, ch)
    assert run_once(core) == 1
    (p,) = pubs_of(core, post_id)
    assert (p.status, p.error_code) == (S.FAILED, "credentials_unreadable")
    assert "reconnect the account" in (p.error_en or "")
    assert job(core, p.job_id).status == JobStatus.DONE
    assert outbox_records(core, "kunci2") == []


def test_a_crashed_publication_on_a_paused_channel_waits_before_looking(
        core, clock, people, monkeypatch):  # type: ignore[no-untyped-def]
    """The platform holds the whole channel (a spent quota): the look after a dead worker is
    a platform call too, so it waits for the pause like everything else."""
    looks: list[int] = []
    real = SandboxAdapter.lookup

    def counted(self, post, since):  # type: ignore[no-untyped-def]
        looks.append(1)
        return real(self, post, since)

    monkeypatch.setattr(SandboxAdapter, "lookup", counted)
    ch = sandbox_channel(core, people["op"], "jeda")
    approved_post(core, people["op"], people["ap"], [ch], when=clock.now)
    pub_id = crash_submitted(core)
    until = clock.now + timedelta(minutes=30)
    with core.sessions.begin() as s:
        s.get(Channel, ch).paused_until = until
    clock.advance(seconds=31)
    assert run_once(core) == 1
    assert looks == [] and pub(core, pub_id).status == S.PUBLISHING
    assert job(core, pub(core, pub_id).job_id).run_at == until
    clock.now = until + timedelta(seconds=1)
    assert run_once(core) == 1
    assert looks == [1]
