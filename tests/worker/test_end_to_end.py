"""The backbone, end to end: approve → worker publishes at its time → metrics history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.models import MetricSnapshot, Publication, PublicationStatus, Role
from publisher.worker import run_once
from tests.helpers import approved_post, outbox_records, sandbox_channel


def test_scheduled_post_is_published_at_its_time_then_metrics_collected(core, clock, make_user):
    operator = make_user(Role.OPERATOR)
    approver = make_user(Role.APPROVER)
    ch1 = sandbox_channel(core, operator, "dinsos-fb")
    ch2 = sandbox_channel(core, operator, "dinsos-ig")
    when = clock.now + timedelta(hours=2)
    post_id = approved_post(core, operator, approver, [ch1, ch2], when=when)

    assert run_once(core) == 0, "nothing may run before its time"
    assert outbox_records(core, "dinsos-fb") == []

    clock.advance(hours=2)
    assert run_once(core) == 2
    with core.sessions() as s:
        pubs = s.execute(select(Publication).where(Publication.post_id == post_id)).scalars().all()
        assert {p.status for p in pubs} == {PublicationStatus.PUBLISHED}
        assert all(p.external_id and p.permalink.startswith("sandbox://") for p in pubs)
        assert all(p.published_at == when for p in pubs)
    assert len(outbox_records(core, "dinsos-fb")) == 1
    assert len(outbox_records(core, "dinsos-ig")) == 1

    # metrics: nothing at once (the first read is 10 minutes after), then a growing history
    run_once(core)
    with core.sessions() as s:
        assert s.execute(select(MetricSnapshot)).first() is None
    clock.advance(hours=1, minutes=1)
    run_once(core)
    clock.advance(hours=6)
    run_once(core)
    with core.sessions() as s:
        snaps = s.execute(select(MetricSnapshot)
                          .order_by(MetricSnapshot.collected_at)).scalars().all()
        assert len(snaps) == 4  # two publications × two collections
        first = [x for x in snaps if x.publication_id == snaps[0].publication_id]
        assert first[1].views > first[0].views > 0
        pub = s.get(Publication, snaps[0].publication_id)
        assert pub.next_metrics_at == pub.published_at + timedelta(hours=24)
