"""The publish and poll handlers: from a claimed job to one adapter call, safely.

Never publish twice: "submitted" is committed just before the irreversible call. A job that
finds its publication already submitted (its worker died, its lease expired) reconciles through
``adapter.lookup`` instead of posting again; so does a timeout or 5xx after the create call.
What cannot be settled becomes ``unconfirmed`` for a person to resolve.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from adapters.base import API_USAGE, BaseAdapter, OutgoingPost, Pending, Published
from adapters.errors import (
    AdapterError,
    AuthExpired,
    NotSupported,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    StartOver,
)
from postqueue import ClaimedJob, backoff_seconds
from publisher.core import Core
from publisher.jobs import enqueue_poll, enqueue_publish
from publisher.models import (
    Channel,
    ChannelStatus,
    PostStatus,
    Publication,
    PublicationStatus,
    PublishAttempt,
)
from publisher.runtime import build_adapter, build_outgoing, outgoing_post
from publisher.services import audit
from publisher.services import channels as channel_service
from publisher.services.channel_state import save_changes
from publisher.services.pauses import current_pauses, holding_pause
from publisher.services.review_stages import stages_complete
from publisher.storage import StorageUnavailable
from publisher.worker import emergency
from publisher.worker.outcome import finish_attempt, record_published, record_state
from publisher.worker.reconcile import (
    PLATFORM_SLACK,
    facts,
    local_time,
    look,
    pause_channel,
    reconcile,
    record_found,
)
from publisher.worker.results import DONE, SETTLED, JobResult, RetryAt
from publisher.worker.snapshot import PubInfo, PubSnapshot, load_snapshot

log = logging.getLogger(__name__)
S = PublicationStatus


class _Call:
    """One publication's adapter, with credential saving, state persistence and progress."""

    def __init__(self, core: Core, channel_id: int, platform: str, sealed: bytes,
                 state: dict[str, Any] | None, job: ClaimedJob, pub_id: int) -> None:
        self.core = core
        self.channel_id = channel_id
        self.platform = platform
        self.state: dict[str, Any] = copy.deepcopy(dict(state or {}))
        self._saved_state = copy.deepcopy(self.state)
        self.job = job
        self.pub_id = pub_id
        self._last_progress = 0.0
        self.adapter = self._build(self._open(core, platform, sealed))

    @staticmethod
    def _open(core: Core, platform: str, sealed: bytes) -> dict[str, Any]:
        """The channel's credentials, or ``AuthExpired`` when they cannot be decrypted (the
        encryption key changed since they were saved): an adapter error, so a post fails with
        "reconnect" instead of its job crashing again and again, and a crashed publication
        becomes *unconfirmed* instead of staying *publishing* for ever."""
        try:
            return core.box.open(sealed)
        except ValueError as exc:
            raise AuthExpired(
                platform, "Kredensial akun ini tidak dapat dibuka (kunci enkripsi Warta berubah "
                "sejak disimpan); hubungkan ulang akun.",
                "This account's credentials cannot be opened (Warta's encryption key changed "
                "since they were saved); reconnect the account.",
                code="credentials_unreadable") from exc

    @classmethod
    def of_channel(cls, core: Core, channel: Channel, job: ClaimedJob, pub_id: int) -> _Call:
        return cls(core, channel.id, channel.platform, channel.credentials_encrypted,
                   channel.state, job, pub_id)

    @classmethod
    def of_snapshot(cls, core: Core, snap: PubSnapshot, job: ClaimedJob) -> _Call:
        return cls(core, snap.info.channel_id, snap.platform, snap.credentials_encrypted,
                   snap.channel_state, job, snap.info.pub_id)

    def _build(self, credentials: dict[str, Any]) -> BaseAdapter:
        return build_adapter(self.core, self.platform, credentials, state=self.state,
                             save_credentials=self.save_credentials, progress=self.progress,
                             save_state=self.persist_state)

    def save_credentials(self, credentials: Any) -> None:
        # Own transaction: a rotated token must survive whatever happens next.
        channel_service.save_credentials(self.core, self.channel_id, credentials)

    def progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last_progress < 1.0 and done < total:
            return
        self._last_progress = now
        with self.core.sessions.begin() as s:
            s.execute(update(Publication).where(Publication.id == self.pub_id)
                      .values(progress_done=done, progress_total=total))
        self.core.queue.extend(self.job.id, self.job.lease_owner,
                               self.core.settings.lease_seconds)

    def refreshed(self) -> bool:
        """Try the adapter's token refresh once; rebuild the adapter on success."""
        try:
            creds = self.adapter.refresh()
        except RetryLater:
            raise
        except AdapterError:
            return False
        if not creds:
            return False
        self.save_credentials(creds)
        self.adapter = self._build(dict(creds))
        return True

    def persist_state(self) -> None:
        """Save the adapter's per-channel state, if the call changed it. A change of Meta's
        usage reading alone is not worth a locked write on the publishing path (it is saved
        with the next change, and comment reads record their own readings)."""
        if _without_usage(self.state) == _without_usage(self._saved_state):
            return
        # Only this call's changes: a comment or metrics job may have saved the channel's
        # state meanwhile (channel_state says why a whole-dict write is unsafe).
        with self.core.sessions.begin() as s:
            merged = save_changes(s, self.channel_id, self._saved_state, self.state)
        if merged is not None:
            self.state.clear()  # in place: the adapter holds this dict
            self.state.update(copy.deepcopy(merged))
        self._saved_state = copy.deepcopy(self.state)


def handle_publish(core: Core, job: ClaimedJob) -> JobResult:
    pub_id = int(job.payload["publication_id"])
    now = core.now()
    # Decide inside one read session, act after it is closed: on SQLite every transaction
    # takes the write lock (BEGIN IMMEDIATE), so writing from a second session while this one
    # is open would wait out the busy timeout and fail ("database is locked").
    with core.sessions() as s:
        step = _prepare(core, job, s, pub_id, now)
    return step()


def _settle(core: Core, pub_id: int, status: str, error: AdapterError | None = None,
            **kw: Any) -> Callable[[], JobResult]:
    def run() -> JobResult:
        record_state(core, pub_id, None, status, error, **kw)
        return DONE
    return run


def _prepare(core: Core, job: ClaimedJob, s: Any, pub_id: int,
             now: datetime) -> Callable[[], JobResult]:
    """What to do with this job, read from the database; returned as a step to run after the
    read session is closed."""
    decision = decide(core, job, pub_id, load_snapshot(s, pub_id), current_pauses(s, now), now)
    if callable(decision):
        return decision
    call, post_out, info = decision

    def submit_and_publish() -> JobResult:
        attempt_id = _mark_submitted(core, job, pub_id)
        if attempt_id is None:
            return DONE  # cancelled or taken meanwhile: the conditional update refused
        return _publish(core, job, call, post_out, pub_id, attempt_id, info)
    return submit_and_publish


Ready = tuple["_Call", OutgoingPost, PubInfo]


def decide(core: Core, job: ClaimedJob, pub_id: int, snap: PubSnapshot | None,
           pauses: list[Any], now: datetime) -> Callable[[], JobResult] | Ready:
    """Every check before the platform call, in one place for the one-by-one and the batch
    paths: either a step to run (settle, wait, poll, reconcile) or the call ready to go."""
    if snap is None or (snap.job_id is not None and snap.job_id != job.id):
        return lambda: DONE  # stale job: the publication was re-queued under another job
    if snap.status == S.PUBLISHING:
        if snap.pending_state is not None:
            from publisher.worker.poll import handle_poll  # poll.py imports this module

            return lambda: handle_poll(core, job)
        return lambda: _reconcile(core, job, pub_id)
    if snap.status != S.QUEUED:
        return lambda: DONE
    if snap.post_status != PostStatus.APPROVED or snap.approval_hash != snap.current_hash():
        return _settle(core, pub_id, S.FAILED, outcome="error",
                       message_id="Isi unggahan berubah setelah disetujui; ajukan ulang.",
                       message_en="The post changed after approval; submit it again.",
                       code="approval_mismatch")
    if not stages_complete(snap.review_stages, snap.stage_approvals, snap.current_hash()):
        return _settle(core, pub_id, S.FAILED, outcome="error",
                       message_id="Belum semua tahap persetujuan menyetujui isi ini; ajukan "
                                  "ulang.",
                       message_en="Not every approval stage approved this content; submit it "
                                  "again.",
                       code="stages_incomplete")
    if snap.emergency_id is not None and not emergency.confirmed_content(snap):
        return _settle(core, pub_id, S.FAILED, outcome="error", code="emergency_mismatch",
                       message_id="Isi siaran darurat tidak sama dengan yang dikonfirmasi.",
                       message_en="The emergency post is not what was confirmed.")
    # A platform's own wait (quota, Retry-After) does not count against the missed window.
    window_start = max(snap.scheduled_at, snap.held_until or snap.scheduled_at)
    if now - window_start > core.settings.missed_after:
        return _settle(core, pub_id, S.MISSED, outcome="missed",
                       message_id="Terlewat: tidak dapat terbit tepat waktu. Jadwalkan ulang "
                                  "bila masih relevan.",
                       message_en="Missed: it could not go out on time. Reschedule it if it "
                                  "is still relevant.", code="missed")
    if snap.channel_status == ChannelStatus.NEEDS_REAUTH:
        return _settle(core, pub_id, S.NEEDS_REAUTH, outcome="auth",
                       message_id="Akun perlu disambung ulang; penayangan menunggu.",
                       message_en="The account must be reconnected; the publication waits.",
                       code="needs_reauth")
    if snap.channel_status == ChannelStatus.DISABLED:
        return _settle(core, pub_id, S.FAILED, outcome="error",
                       message_id="Akun dinonaktifkan; aktifkan lalu coba lagi.",
                       message_en="The account is disabled; enable it and retry.",
                       code="channel_disabled")
    pause = holding_pause(pauses, snap.channel_unit_id, snap.info.channel_id, now)
    # An office's own pause (the missed window keeps counting); a confirmed emergency passes.
    if pause is not None and snap.emergency_id is None:
        wait = pause.ends_at or now + timedelta(seconds=60)
        until = min(wait, window_start + core.settings.missed_after + timedelta(seconds=1))
        return lambda: RetryAt(until, "paused")
    if snap.paused_until and snap.paused_until > now:
        # The platform holds the whole channel (a spent quota): not the post's lateness.
        held = snap.paused_until
        return lambda: _held(core, pub_id, held)
    try:
        call = _Call.of_snapshot(core, snap, job)
    except AdapterError as exc:
        return _settle(core, pub_id, S.FAILED, exc, outcome=exc.kind)
    try:
        post_out = build_outgoing(core, type(call.adapter), pub_id=pub_id, body=snap.body,
                                  overrides=snap.overrides, channel_id=snap.info.channel_id,
                                  link=snap.link, media=snap.media,
                                  scheduled_at=snap.scheduled_at,
                                  alts={m.id: m.alt_text for m in snap.media})
    except FileNotFoundError:  # before any call: nothing went out, and nothing can
        return _settle(core, pub_id, S.FAILED, outcome="error", code="media_missing",
                       message_id="Berkas media tidak ada di penyimpanan; unggah ulang.",
                       message_en="A media file is missing from the storage; upload it again.")
    except StorageUnavailable:  # the store did not answer: not the post's fault, try later
        log.warning("media storage unavailable for publication %s", pub_id, exc_info=True)
        return lambda: RetryAt(now + timedelta(seconds=60), "media storage unavailable")
    problems = call.adapter.validate(post_out)
    if problems:
        return _settle(core, pub_id, S.FAILED, outcome="rejected",
                       message_id="; ".join(p.message_id for p in problems),
                       message_en="; ".join(p.message_en for p in problems), code="invalid")
    return call, post_out, snap.info



def _held(core: Core, pub_id: int, until: datetime) -> JobResult:
    """Wait for a channel-wide platform limit; the wait moves the missed window."""
    with core.sessions.begin() as s:
        s.execute(update(Publication).where(
            Publication.id == pub_id,
            Publication.held_until.is_(None) | (Publication.held_until < until))
            .values(held_until=until))
    return RetryAt(until, "paused by the platform")


def _mark_submitted(core: Core, job: ClaimedJob, pub_id: int) -> int | None:
    now = core.now()
    with core.sessions.begin() as s:
        # Still queued *and still this job's*: a reschedule or retry since our read gave the
        # publication another job, and that job decides when it goes out.
        done = s.execute(update(Publication)
                         .where(Publication.id == pub_id, Publication.status == S.QUEUED,
                                Publication.job_id.is_(None) | (Publication.job_id == job.id))
                         .values(status=S.PUBLISHING, submitted_at=now,
                                 attempts=Publication.attempts + 1, updated_at=now))
        if done.rowcount != 1:
            return None
        attempt = PublishAttempt(publication_id=pub_id, started_at=now, worker=job.lease_owner)
        s.add(attempt)
        s.flush()
        return attempt.id


def _publish(core: Core, job: ClaimedJob, call: _Call, post_out: OutgoingPost, pub_id: int,
             attempt_id: int, info: PubInfo | None = None) -> JobResult:
    outcome = call_platform(call, post_out, pub_id)
    return settle_outcome(core, job, call, post_out, pub_id, attempt_id, info, outcome)


def call_platform(call: _Call, post_out: OutgoingPost,
                  pub_id: int) -> Published | Pending | AdapterError:
    """The irreversible call, with one token refresh on ``AuthExpired``; errors are returned
    as values so a batch can make many calls and settle them afterwards."""
    refreshed = False
    while True:
        try:
            return call.adapter.publish(post_out)
        except AuthExpired as exc:
            try:
                renewed = not refreshed and call.refreshed()
            except RetryLater as wait:  # the token server is unreachable: not the user's fault
                return wait
            if renewed:
                refreshed = True
                continue
            return exc
        except AdapterError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - an adapter bug after submit: outcome unknown
            log.exception("publish of publication %s raised unexpectedly", pub_id)
            return OutcomeUnknown(call.platform, "Terjadi kesalahan tak terduga saat "
                                  "menerbitkan; periksa akun sebelum mencoba lagi.",
                                  "Unexpected error while publishing; check the account "
                                  "before retrying.", detail=repr(exc), code="unexpected")


def _without_usage(state: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k != API_USAGE}


def settle_outcome(core: Core, job: ClaimedJob, call: _Call, post_out: OutgoingPost,
                   pub_id: int, attempt_id: int, info: PubInfo | None,
                   outcome: Published | Pending | AdapterError) -> JobResult:
    call.persist_state()
    if isinstance(outcome, AuthExpired):
        return _auth_expired(core, pub_id, attempt_id, outcome)
    if isinstance(outcome, RetryLater):
        return _retry_later(core, job, pub_id, attempt_id, outcome)
    if isinstance(outcome, Rejected) and outcome.code == "duplicate":
        return _duplicate(core, call, post_out, pub_id, attempt_id, outcome)
    if isinstance(outcome, (Rejected, NotSupported)):
        record_state(core, pub_id, attempt_id, S.FAILED, outcome, outcome="rejected")
        return DONE
    if isinstance(outcome, AdapterError):  # OutcomeUnknown and anything unforeseen
        return _settle_unknown(core, job, call, post_out, pub_id, attempt_id, outcome)
    return _accepted(core, call, info or pub_id, attempt_id, outcome, job)


def _accepted(core: Core, call: _Call, pub: PubInfo | int, attempt_id: int | None,
              result: Published | Pending, job: ClaimedJob) -> JobResult:
    if isinstance(result, Published):
        settled = record_published(core, pub, attempt_id, result,
                                   collects_metrics=bool(type(call.adapter).caps.metrics),
                                   job=job)
        return SETTLED if settled else DONE
    pub_id = pub.pub_id if isinstance(pub, PubInfo) else pub
    now = core.now()
    with core.sessions.begin() as s:
        pub = s.get(Publication, pub_id)
        pub.pending_state = dict(result.state)
        pub.updated_at = now
        finish_attempt(s, attempt_id, "pending", now, detail="accepted; processing")
        pub.job_id = enqueue_poll(s, pub_id, run_at=now + timedelta(seconds=result.poll_after),
                                  now=now)
    return DONE


def _auth_expired(core: Core, pub_id: int, attempt_id: int | None, exc: AuthExpired) -> JobResult:
    record_state(core, pub_id, attempt_id, S.NEEDS_REAUTH, exc, outcome="auth",
                 channel_status=ChannelStatus.NEEDS_REAUTH)
    return DONE


def _retry_later(core: Core, job: ClaimedJob, pub_id: int, attempt_id: int | None,
                 exc: RetryLater) -> JobResult:
    now = core.now()
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        attempts = pub.attempts if pub else job.attempts
    if attempts >= core.settings.max_attempts:
        record_state(core, pub_id, attempt_id, S.FAILED, exc, outcome="retry",
                     message_id=f"{exc.message_id} Gagal setelah {attempts} percobaan; "
                                "coba lagi nanti.",
                     message_en=f"{exc.message_en} Failed after {attempts} attempts; "
                                "try again later.")
        return DONE
    if exc.retry_after:
        # The platform named its time (quota reset, Retry-After, x-rate-limit-reset,
        # retry_after): wait until then and a few seconds more. Jitter is for Warta's own
        # backoff; on top of an exact reset it only makes the post late (and missed).
        delay = float(exc.retry_after) + PLATFORM_SLACK
    else:
        delay = backoff_seconds(attempts)
    until = now + timedelta(seconds=delay)
    message_id = message_en = ""
    if exc.retry_after:
        at = local_time(core, pub_id, until)
        name = PLATFORM_NAMES.get(exc.platform, exc.platform)
        quota = "quota" in (exc.code or "")
        message_id = (f"{exc.message_id} Menunggu {'kuota' if quota else 'batas'} {name} "
                      f"sampai {at}.")
        message_en = (f"{exc.message_en} Waiting for the {name} "
                      f"{'quota' if quota else 'limit'} until {at}.")
    record_state(core, pub_id, attempt_id, S.QUEUED, exc, outcome="retry",
                 message_id=message_id, message_en=message_en)
    with core.sessions.begin() as s:
        pub = s.get(Publication, pub_id)
        if pub is None:
            return DONE
        channel_id = pub.channel_id
        if exc.retry_after and (pub.held_until is None or pub.held_until < until):
            pub.held_until = until  # the platform's wait does not count against "missed"
    if exc.scope == "channel":
        pause_channel(core, channel_id, until, exc)
    return RetryAt(until, exc.message_en)


#: Short platform names for the operator's "waiting for … until …" message.
PLATFORM_NAMES = {"youtube": "YouTube", "x": "X", "facebook": "Facebook",
                  "instagram_graph": "Instagram", "instagram": "Instagram",
                  "telegram": "Telegram", "tiktok": "TikTok", "threads": "Threads"}


def _start_over(core: Core, job: ClaimedJob, pub_id: int, exc: StartOver) -> JobResult:
    """Nothing was published: queue the publication to be published again from the start (as
    a new publish job), unless it has used up its attempts."""
    now = core.now()
    with core.sessions() as s:
        attempts = s.get(Publication, pub_id).attempts
    if attempts >= core.settings.max_attempts:
        record_state(core, pub_id, None, S.FAILED, exc, outcome="retry",
                     message_id=f"{exc.message_id} Gagal setelah {attempts} percobaan.",
                     message_en=f"{exc.message_en} Failed after {attempts} attempts.")
        return DONE
    delay = backoff_seconds(attempts)
    with core.sessions.begin() as s:
        pub = s.get(Publication, pub_id)
        if pub is None or pub.status != S.PUBLISHING:
            return DONE
        pub.status = S.QUEUED
        pub.pending_state = None
        pub.submitted_at = None
        pub.error, pub.error_en, pub.error_code = exc.message_id, exc.message_en, exc.code
        pub.updated_at = now
        pub.job_id = enqueue_publish(s, pub_id, pub.channel_id,
                                     run_at=now + timedelta(seconds=delay), now=now)
        audit.record(s, "publication.queued", "publication", pub_id, unit_id=pub.post.unit_id,
                     data={"reason": exc.code, "message": exc.message_id,
                           "message_en": exc.message_en})
    return DONE


def _settle_unknown(core: Core, job: ClaimedJob, call: _Call, post_out: OutgoingPost,
                    pub_id: int, attempt_id: int | None, exc: AdapterError) -> JobResult:
    """The create call was sent and we do not know its fate (or X said "duplicate"): the one
    reconcile step decides (``reconcile.py``)."""
    return reconcile(core, job, call.adapter, post_out, pub_id, attempt_id, exc,
                     republish=lambda: _republish(core, job, call, post_out, pub_id))


def _republish(core: Core, job: ClaimedJob, call: _Call, post_out: OutgoingPost,
               pub_id: int) -> JobResult:
    """Clearly absent after two looks: the one new call the policy allows."""
    with core.sessions.begin() as s:
        s.execute(update(Publication).where(Publication.id == pub_id,
                                            Publication.status == S.PUBLISHING)
                  .values(status=S.QUEUED, submitted_at=None))
    attempt_id = _mark_submitted(core, job, pub_id)
    if attempt_id is None:
        return DONE
    return _publish(core, job, call, post_out, pub_id, attempt_id)


def _reconcile(core: Core, job: ClaimedJob, pub_id: int) -> JobResult:
    """A publication left ``publishing`` without a pending state: a previous worker
    submitted it and vanished before recording the result, or the second look is due."""
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        if pub is None:
            return DONE
        channel = pub.channel
        crashed = not pub.absent_looks
        paused = channel.paused_until
        try:
            call = _Call.of_channel(core, channel, job, pub_id)
        except AdapterError as exc:
            call, broken = None, exc
        else:
            post_out = outgoing_post(core, pub, type(call.adapter))
    if call is None:  # settled after the read session is closed (SQLite: one writer)
        record_state(core, pub_id, None, S.UNCONFIRMED, broken, outcome="unknown")
        return DONE
    if paused is not None and paused > core.now():  # a channel-wide platform wait: look later
        return RetryAt(paused, "paused")
    return reconcile(core, job, call.adapter, post_out, pub_id, None, None, crashed=crashed,
                     republish=lambda: _republish(core, job, call, post_out, pub_id))


def _duplicate(core: Core, call: _Call, post_out: OutgoingPost, pub_id: int,
               attempt_id: int | None, exc: Rejected) -> JobResult:
    """The platform refused the post as a duplicate (X's 403). Our own earlier attempt may
    have gone out: look since this publication's own first submit, never at posts other
    publications hold; found, it is ours; otherwise it fails with the platform's words."""
    f = facts(core, pub_id)
    found = look(call.adapter, post_out, f) if f is not None else None
    if isinstance(found, Published):
        return record_found(core, pub_id, attempt_id, found,
                            bool(type(call.adapter).caps.metrics))
    record_state(core, pub_id, attempt_id, S.FAILED, exc, outcome="rejected")
    return DONE
