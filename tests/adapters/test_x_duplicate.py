"""X's "duplicate content" 403 through the real worker: the post is ours only if a tweet with
its text appeared since this publication's own submit time and no other publication holds it;
otherwise it fails with X's message. Two weekly reminders with the same text never share one
tweet (the partial unique index on published (channel, external id) backs that up)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from publisher.models import Publication
from tests.adapters import worker_e2e as e2e

BODY = "Pengingat: bayar PBB sebelum 31 Agustus."


def _iso(dt) -> str:  # type: ignore[no-untyped-def]
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_duplicate_never_takes_another_publications_tweet(xt_core, clock, people, fx) -> None:  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    fx.created_at = _iso(clock.now)
    first = e2e.approved(core, op, ap, ch, body=BODY)
    assert e2e.run_until_settled(core, clock, first).status == e2e.S.PUBLISHED
    clock.advance(minutes=5)  # inside the lookup's margin: only the exclusion protects it
    second = e2e.approved(core, op, ap, ch, body=BODY)
    fx.fail("tweets", "duplicate")
    pub = e2e.run_until_settled(core, clock, second)
    assert pub.status == e2e.S.FAILED and pub.error_code == "duplicate", pub.error_en
    assert "duplicate" in pub.error_en and pub.external_id is None
    assert len(fx.tweets) == 1


def test_duplicate_ignores_a_tweet_older_than_its_own_submit(xt_core, clock, people, fx) -> None:  # type: ignore[no-untyped-def]
    """This morning's identical tweet (posted by hand, linked to nothing) is not this one."""
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    fx.tweets["111"] = {"id": "111", "text": BODY, "public_metrics": {},
                        "created_at": _iso(clock.now - timedelta(hours=2))}
    pub_id = e2e.approved(core, op, ap, ch, body=BODY)
    fx.fail("tweets", "duplicate")
    pub = e2e.run_until_settled(core, clock, pub_id)
    assert pub.status == e2e.S.FAILED and pub.error_code == "duplicate", pub.error_en


def test_duplicate_of_its_own_earlier_attempt_is_published(xt_core, clock, people, fx) -> None:  # type: ignore[no-untyped-def]
    """An earlier attempt of this publication went out (since its submit time, linked to
    nothing): the 403 means "already there", and the publication records that tweet."""
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    pub_id = e2e.approved(core, op, ap, ch, body=BODY)
    fx.tweets["222"] = {"id": "222", "text": BODY, "public_metrics": {},
                        "created_at": _iso(clock.now)}
    fx.fail("tweets", "duplicate")
    pub = e2e.run_until_settled(core, clock, pub_id)
    assert (pub.status, pub.external_id) == (e2e.S.PUBLISHED, "222"), pub.error_en


@pytest.mark.parametrize("status", ["published"])
def test_one_tweet_cannot_belong_to_two_publications(xt_core, clock, people, fx,
                                                     status) -> None:  # type: ignore[no-untyped-def]
    core, (op, ap) = xt_core, people
    ch = e2e.x_channel(core, op, fx)
    a = e2e.approved(core, op, ap, ch, body=BODY)
    b = e2e.approved(core, op, ap, ch, body=BODY + " (2)")
    with pytest.raises(IntegrityError):
        with core.sessions.begin() as s:
            for pid in (a, b):
                pub = s.get(Publication, pid)
                pub.status, pub.external_id = status, "333"
    with core.sessions.begin() as s:  # cancelled or unpublished rows may share (no conflict)
        for pid in (a, b):
            s.get(Publication, pid).external_id = "333"
