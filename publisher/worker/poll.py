"""The poll of a post the platform is still processing (a ``Pending`` publish: Instagram's
container, X's and YouTube's video processing, TikTok's status).

Why apart from ``publish.py``: a poll is its own step with its own crash rule. It may make the
irreversible call itself (Instagram's ``media_publish``, X's tweet after processing), so it is
marked in flight (``polling_since``) before the call, and its unknown outcomes, a worker that
died during it and a due second look all go through the same reconcile step as a publish.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update

from adapters.base import Pending
from adapters.errors import (
    AdapterError,
    AuthExpired,
    OutcomeUnknown,
    Rejected,
    RetryLater,
    StartOver,
)
from postqueue import ClaimedJob, backoff_seconds
from publisher.core import Core
from publisher.models import ChannelStatus, Publication, PublicationStatus
from publisher.runtime import outgoing_post
from publisher.worker.outcome import record_state
from publisher.worker.publish import _Call, _duplicate, _start_over, log
from publisher.worker.reconcile import platform_wait, reconcile, record_found
from publisher.worker.results import DONE, JobResult, RetryAt

S = PublicationStatus
#: A platform still "processing" after this long is handed to a person.
PENDING_GIVE_UP = timedelta(hours=24)


def handle_poll(core: Core, job: ClaimedJob) -> JobResult:
    """One status call for a post the platform is still processing. A poll may make the
    irreversible call itself (Instagram's ``media_publish``, X's tweet after video
    processing), so it is marked in flight first, and its unknown outcomes, a worker that
    died during it, and a due second look all go through the same reconcile step."""
    pub_id = int(job.payload["publication_id"])
    now = core.now()
    with core.sessions() as s:
        pub = s.get(Publication, pub_id)
        if pub is None or pub.status != S.PUBLISHING or pub.pending_state is None:
            return DONE
        state = dict(pub.pending_state)
        started = pub.submitted_at or now
        must_look = bool(pub.absent_looks) or pub.polling_since is not None
        crashed = pub.polling_since is not None and not pub.absent_looks
        paused = pub.channel.paused_until
        call: _Call | None = None
        try:
            made = _Call.of_channel(core, pub.channel, job, pub_id)
        except AdapterError as exc:
            broken = exc
        else:
            call, post_out = made, outgoing_post(core, pub, type(made.adapter))
    if call is None:  # settled after the read session is closed (SQLite: one writer)
        record_state(core, pub_id, None, S.UNCONFIRMED, broken, outcome="unknown")
        return DONE
    if paused is not None and paused > now:  # a channel-wide platform wait holds polls too
        return RetryAt(paused, "paused")
    poll_again = lambda: RetryAt(core.now(), "publishing again")  # noqa: E731
    if must_look:
        _mark_polling(core, pub_id, None)
        return reconcile(core, job, call.adapter, post_out, pub_id, None, None,
                         crashed=crashed, republish=poll_again)
    _mark_polling(core, pub_id, now)
    try:
        result = call.adapter.poll(Pending(state))
    except StartOver as exc:
        _mark_polling(core, pub_id, None)
        return _start_over(core, job, pub_id, exc)
    except RetryLater as exc:
        _mark_polling(core, pub_id, None)
        call.persist_state()
        wait = platform_wait(core, call.channel_id, exc)
        return RetryAt(now + timedelta(seconds=wait), exc.message_en)
    except Rejected as exc:
        _mark_polling(core, pub_id, None)
        if exc.code == "duplicate":
            return _duplicate(core, call, post_out, pub_id, None, exc)
        record_state(core, pub_id, None, S.FAILED, exc, outcome="rejected")
        return DONE
    except AuthExpired as exc:
        _mark_polling(core, pub_id, None)
        try:
            if call.refreshed():
                return RetryAt(now)
        except RetryLater as wait:  # the token server is unreachable: poll again later
            return RetryAt(now + timedelta(seconds=backoff_seconds(1, base=15,
                                                                   retry_after=wait.retry_after)))
        # The post was already sent and the platform is processing it: "needs reauth" means
        # "nothing went out", and a reconnect (or a retry) would publish it a second time.
        # The account is marked for reconnecting; a person checks it before publishing again.
        record_state(core, pub_id, None, S.UNCONFIRMED, exc, outcome="auth",
                     message_id=f"{exc.message_id} Unggahan sudah terkirim dan sedang diproses "
                                "platform; sambungkan ulang akun lalu periksa apakah sudah "
                                "terbit sebelum menerbitkan ulang.",
                     message_en=f"{exc.message_en} The post was already sent and the platform "
                                "was processing it; reconnect the account, then check whether "
                                "it went out before publishing again.",
                     code="auth_after_submit", channel_status=ChannelStatus.NEEDS_REAUTH)
        return DONE
    except Exception as exc:  # noqa: BLE001 - OutcomeUnknown, or anything after the call
        _mark_polling(core, pub_id, None)
        call.persist_state()
        unknown = exc if isinstance(exc, AdapterError) else OutcomeUnknown(
            call.platform, "Terjadi kesalahan tak terduga saat menerbitkan.",
            "Unexpected error while publishing.", detail=repr(exc), code="unexpected")
        if not isinstance(exc, AdapterError):
            log.exception("poll of publication %s raised unexpectedly", pub_id)
        return reconcile(core, job, call.adapter, post_out, pub_id, None, unknown,
                         republish=poll_again)
    _mark_polling(core, pub_id, None)
    call.persist_state()
    if isinstance(result, Pending):
        if now - started > PENDING_GIVE_UP:
            record_state(core, pub_id, None, S.UNCONFIRMED, None, outcome="unknown",
                         message_id="Platform masih memproses setelah 24 jam; periksa akun.",
                         message_en="The platform is still processing after 24 hours; check "
                                    "the account.", code="pending_too_long")
            return DONE
        values: dict[str, Any] = {"pending_state": dict(result.state)}
        if result.message_id:  # e.g. TikTok's moderation: still publishing, and why
            values.update(error=result.message_id, error_en=result.message_en,
                          error_code="still_processing")
        with core.sessions.begin() as s:
            s.execute(update(Publication).where(Publication.id == pub_id).values(**values))
        return RetryAt(now + timedelta(seconds=result.poll_after))
    return record_found(core, pub_id, None, result, bool(type(call.adapter).caps.metrics),
                        outcome="published")


def _mark_polling(core: Core, pub_id: int, when: datetime | None) -> None:
    """Committed before a poll call (a worker that dies during it leaves it set) and cleared
    after it returned."""
    with core.sessions.begin() as s:
        s.execute(update(Publication).where(Publication.id == pub_id)
                  .values(polling_since=when))
