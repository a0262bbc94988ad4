"""The worker renews Threads' 60-day token before it runs out, on a channel nobody uses:
the sweep (``publisher/worker/tokens.py``) queues a ``renew_token`` job for an active channel
whose token expires within ``refresh_before_days`` (30), and the job refreshes it with
``th_refresh_token`` against the fake Threads and stores the new token sealed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from postqueue.models import Job
from publisher.core import Core
from publisher.jobs import RENEW_TOKEN
from publisher.models import Channel, ChannelStatus
from publisher.services import channels as channel_service
from publisher.worker import run_once
from publisher.worker.tokens import sweep_token_renewals
from tests.adapters import worker_e2e as e2e
from tests.fakes.threads import LONG_LIVED

DAY = 86_400


@pytest.fixture
def th_core(core_with, threads_fake, clock) -> Core:  # type: ignore[no-untyped-def]
    threads_fake.clock = clock
    return core_with(WARTA_THREADS_API_URL=threads_fake.url + "/v1.0",
                     WARTA_THREADS_OAUTH_URL=threads_fake.url, WARTA_THREADS_TIMEOUT="0.8")


def channel_expiring_in(core: Core, user, fake, clock, days: float) -> int:  # type: ignore[no-untyped-def]
    """A Threads channel connected a while ago, its token now ``days`` from expiry (set in
    the row: connecting a token that close to expiry would renew it during the check)."""
    creds = {"threads_user_id": fake.threads_user_id, "access_token": fake.page_token}
    ch = e2e.channel(core, user, "threads", creds)
    channel_service.save_credentials(core, ch, {
        **creds, "expires_at": int(clock.now.timestamp() + days * DAY)})
    return ch


def row(core: Core, channel_id: int) -> Channel:
    return e2e.channel_row(core, channel_id)


def renew_jobs(core: Core) -> list[Job]:
    with core.sessions() as s:
        return list(s.execute(select(Job).where(Job.kind == RENEW_TOKEN)).scalars())


def test_a_token_within_30_days_is_renewed_without_any_post(th_core, clock, people,
                                                             threads_fake):
    core, (op, _ap) = th_core, people
    ch = channel_expiring_in(core, op, threads_fake, clock, days=20)
    old = threads_fake.page_token
    run_once(core)
    assert threads_fake.refreshes == 1
    (call,) = threads_fake.calls("GET", "/refresh_access_token")
    assert call.query["grant_type"] == "th_refresh_token" and call.query["access_token"] == old
    renewed = row(core, ch)
    creds = core.box.open(renewed.credentials_encrypted)
    assert creds["access_token"] == threads_fake.page_token != old
    assert threads_fake.page_token.encode() not in renewed.credentials_encrypted
    assert renewed.token_expires_at == clock.now + timedelta(seconds=LONG_LIVED)
    (job,) = renew_jobs(core)
    assert job.status == "done" and job.lock_key == f"channel:{ch}", "serialised with publishes"
    # 60 days left now: the next rounds leave it alone
    clock.advance(days=1)
    run_once(core)
    assert threads_fake.refreshes == 1 and len(renew_jobs(core)) == 1


def test_nothing_is_renewed_outside_the_window_or_on_a_channel_that_cannot_use_it(
        th_core, clock, people, threads_fake):
    core, (op, _ap) = th_core, people
    far = channel_expiring_in(core, op, threads_fake, clock, days=40)
    gone = channel_expiring_in(core, op, threads_fake, clock, days=-1)  # only a reconnect helps
    off = channel_expiring_in(core, op, threads_fake, clock, days=5)
    dead = channel_expiring_in(core, op, threads_fake, clock, days=5)
    with core.sessions.begin() as s:
        s.get(Channel, off).status = ChannelStatus.DISABLED
        s.get(Channel, dead).status = ChannelStatus.NEEDS_REAUTH
    assert sweep_token_renewals(core) == 0
    run_once(core)
    assert threads_fake.refreshes == 0 and renew_jobs(core) == []
    assert {row(core, c).token_expires_at for c in (far, gone)} == {
        clock.now + timedelta(days=40), clock.now - timedelta(days=1)}
    # ten days later the first one enters the window
    clock.advance(days=11)
    assert sweep_token_renewals(core) == 1
    assert sweep_token_renewals(core) == 0, "one job per channel, however many sweeps"
    run_once(core)
    assert threads_fake.refreshes == 1
    assert row(core, far).token_expires_at == clock.now + timedelta(seconds=LONG_LIVED)


def test_the_window_follows_refresh_before_days(core_with, threads_fake, clock, people):
    core = core_with(WARTA_THREADS_API_URL=threads_fake.url + "/v1.0",
                     WARTA_THREADS_OAUTH_URL=threads_fake.url,
                     WARTA_THREADS_REFRESH_BEFORE_DAYS="50")
    channel_expiring_in(core, people[0], threads_fake, clock, days=40)
    run_once(core)
    assert threads_fake.refreshes == 1


def test_a_refusal_leaves_the_working_token_and_is_tried_again(th_core, clock, people,
                                                                threads_fake):
    core, (op, _ap) = th_core, people
    ch = channel_expiring_in(core, op, threads_fake, clock, days=20)
    before = row(core, ch).credentials_encrypted
    threads_fake.token_age = 3600  # Threads refuses a token under a day old
    run_once(core)
    assert threads_fake.refreshes == 0
    after = row(core, ch)
    assert after.credentials_encrypted == before and after.status == ChannelStatus.ACTIVE
    assert [j.status for j in renew_jobs(core)] == ["done"]
    threads_fake.token_age = 2 * DAY
    clock.advance(days=1)
    run_once(core)  # the next sweep tries again
    assert threads_fake.refreshes == 1 and row(core, ch).credentials_encrypted != before


def test_threads_unreachable_retries_the_job_later(th_core, clock, people, threads_fake):
    core, (op, _ap) = th_core, people
    ch = channel_expiring_in(core, op, threads_fake, clock, days=20)
    before = row(core, ch).credentials_encrypted
    threads_fake.faults.add("drop", "GET", r"/refresh_access_token")
    run_once(core)
    (job,) = renew_jobs(core)
    assert job.status == "queued" and job.run_at > clock.now, "retried, not dropped"
    assert row(core, ch).credentials_encrypted == before


def test_each_worker_sweeps_the_renewals_twice_a_day(th_core):
    from publisher.worker import Worker

    w = Worker(th_core)
    w.start()
    try:
        job = w._scheduler.get_job("token-renewal")
        assert job is not None and job.trigger.interval == timedelta(hours=12)
    finally:
        w.stop()
