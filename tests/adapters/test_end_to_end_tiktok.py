"""TikTok through the real worker against the fake TikTok: a video approved with the
operator's privacy choice → uploaded, polled, held in moderation with a message, published
with its link, first metrics; tokens refreshed and the rotated refresh token kept; and the
transport faults on the irreversible call (the last chunk, a photo post's init) ending in
exactly one post, published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.core import Core
from publisher.models import MetricSnapshot
from publisher.worker import run_once
from tests.adapters import worker_e2e as e2e
from tests.fakes.faults import MODES
from tests.fakes.tiktok import FakeTikTok

PUBLIC = {"privacy_level": "PUBLIC_TO_EVERYONE"}


@pytest.fixture
def tt_core(core_with, ftk: FakeTikTok, clock) -> Core:  # type: ignore[no-untyped-def]
    ftk.clock = clock
    return core_with(WARTA_TIKTOK_API_URL=ftk.url, WARTA_TIKTOK_POLL_SECONDS="5",
                     WARTA_TIKTOK_MODERATION_POLL_SECONDS="20", WARTA_TIKTOK_TIMEOUT="0.8",
                     WARTA_PUBLIC_URL=e2e.PUBLIC_URL)


def tiktok_channel(core: Core, user, fake: FakeTikTok, **extra) -> int:  # type: ignore[no-untyped-def]
    return e2e.channel(core, user, "tiktok", {
        "client_key": fake.client_key, "client_secret": fake.client_secret,
        "access_token": fake.access_token, "refresh_token": fake.refresh_token, **extra})


def test_tiktok_video_through_the_worker(tt_core, clock, people, ftk):  # type: ignore[no-untyped-def]
    core, (op, ap) = tt_core, people
    ch = tiktok_channel(core, op, ftk)
    assert e2e.channel_row(core, ch).external_id == ftk.open_id
    pub_id = e2e.approved(core, op, ap, ch, body="Festival budaya kota #warga",
                          media=[e2e.video(core, op)], options=PUBLIC)
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == e2e.S.PUBLISHING and pub.pending_state["publish_id"]
    assert pub.progress_done == pub.progress_total > 0
    assert e2e.channel_row(core, ch).state["creator"]["username"] == ftk.username
    clock.advance(seconds=6)
    run_once(core)  # processing
    clock.advance(seconds=6)
    run_once(core)  # complete, but moderation holds the public id back
    pub = e2e.publication(core, pub_id)
    assert pub.status == e2e.S.PUBLISHING, pub.error_en
    assert "moderat" in pub.error_en and "moderasi" in pub.error
    clock.advance(seconds=21)
    run_once(core)
    pub = e2e.publication(core, pub_id)
    assert pub.status == e2e.S.PUBLISHED, pub.error_en
    assert pub.permalink == f"https://www.tiktok.com/@{ftk.username}/video/{pub.external_id}"
    assert pub.error is None, "the moderation note is gone once published"
    assert len(ftk.posts) == 1

    ftk.videos[-1].update(view_count=321, like_count=12)
    clock.advance(hours=1, minutes=1)
    run_once(core)
    with core.sessions() as s:
        snap = s.execute(select(MetricSnapshot)).scalar_one()
    assert (snap.views, snap.likes, snap.comments, snap.shares) == (321, 12, 0, 0)
    assert snap.reach is None and snap.saves is None, "TikTok gives no reach: None, not 0"


def test_a_post_without_privacy_cannot_be_submitted(tt_core, people, ftk):  # type: ignore[no-untyped-def]
    from publisher.models import User
    from publisher.services import posts as post_svc
    from publisher.services.errors import Invalid

    core, (op, _ap) = tt_core, people
    ch = tiktok_channel(core, op, ftk)
    media = e2e.video(core, op)
    with core.sessions.begin() as s:
        user = s.get(User, op.id)
        post = post_svc.create_post(core, s, user, post_svc.PostInput(
            body="x", channels=[ch], media=[media]))
        with pytest.raises(Invalid) as err:
            post_svc.submit_post(core, s, user, post.id)
    assert "privasi" in " ".join(str(v) for v in err.value.fields.values()).lower()


def test_stale_token_is_refreshed_and_the_rotated_one_kept(tt_core, clock, people, ftk):  # type: ignore[no-untyped-def]
    core, (op, ap) = tt_core, people
    ch = tiktok_channel(core, op, ftk, expires_at=int(clock.now.timestamp()) + 3600)
    clock.advance(hours=2)  # the access token has run out
    first_refresh = ftk.refresh_token
    pub_id = e2e.approved(core, op, ap, ch, body="Info layanan", media=[e2e.video(core, op)],
                          options=PUBLIC)
    pub = e2e.run_until_settled(core, clock, pub_id, step_seconds=30)
    assert pub.status == e2e.S.PUBLISHED, pub.error_en
    assert ftk.token_grants == 1 and ftk.refresh_token != first_refresh
    row = e2e.channel_row(core, ch)
    creds = core.box.open(row.credentials_encrypted)
    assert creds["refresh_token"] == ftk.refresh_token, "the rotated refresh token is stored"
    # the health board's date is the refresh token's (365 days), not the 24 h access token's
    assert row.token_expires_at.timestamp() == creds["refresh_expires_at"]
    assert row.token_expires_at > clock.now + timedelta(days=364)


FAULTS = [m for m in MODES if not m.startswith("hold")]
ROWS = {"video": ("PUT", "/upload/"), "photo": ("POST", "/v2/post/publish/content/init/")}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("kind", sorted(ROWS))
def test_fault_on_the_irreversible_call_leaves_one_post(tt_core, clock, people, ftk,  # type: ignore[no-untyped-def]
                                                        kind, fault):
    """The fault-table rows for TikTok (tests/adapters/test_fault_table.py's policy):
    whatever the transport does on the call that makes the post, one post, published."""
    core, (op, ap) = tt_core, people
    ftk.moderation_reads = 0
    ch = tiktok_channel(core, op, ftk)
    media = [e2e.video(core, op)] if kind == "video" else [e2e.photo(core, op, 0),
                                                           e2e.photo(core, op, 1)]
    ftk.faults.add(fault, *ROWS[kind])
    pub_id = e2e.approved(core, op, ap, ch, body=f"Pengumuman {kind} {fault}", media=media,
                          options=PUBLIC)
    pub = e2e.run_until_settled(core, clock, pub_id, rounds=16, step_seconds=30)
    assert (pub.status, len(ftk.posts)) == (e2e.S.PUBLISHED, 1), (pub.error_en, pub.error_code)
    assert not ftk.faults.faults, "the fault was never met: the row tests nothing"
    assert pub.external_id and pub.permalink
    for _ in range(3):
        clock.advance(minutes=10)
        run_once(core)
    assert len(ftk.posts) == 1
    assert e2e.publication(core, pub_id).status == e2e.S.PUBLISHED
