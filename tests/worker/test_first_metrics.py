"""A fresh post's first numbers arrive minutes after it is published, not an hour later, and
the report page counts the collection steps from one."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from publisher.models import MetricSnapshot, Publication, Role
from publisher.worker import run_once
from tests.helpers import approved_post, sandbox_channel


def test_first_snapshot_ten_minutes_after_publishing(core, make_user, clock):
    op, ap = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    ch = sandbox_channel(core, ap, "dinsos-fb")
    approved_post(core, op, ap, [ch])
    run_once(core)
    clock.advance(minutes=9)
    run_once(core)
    with core.sessions() as s:
        assert s.execute(select(MetricSnapshot)).first() is None
        pub = s.execute(select(Publication)).scalar_one()
        assert pub.next_metrics_at == pub.published_at + timedelta(minutes=10)
    clock.advance(minutes=2)
    run_once(core)
    with core.sessions() as s:
        assert len(s.execute(select(MetricSnapshot)).all()) == 1
        pub = s.execute(select(Publication)).scalar_one()
        assert (pub.metrics_stage, pub.next_metrics_at) == (1, pub.published_at
                                                            + timedelta(hours=1))


def test_each_publication_outcome_is_one_log_line(core, make_user, caplog):
    import logging

    op, ap = make_user(Role.OPERATOR, "a"), make_user(Role.APPROVER, "a")
    ch = sandbox_channel(core, ap, "dinsos-tg")
    approved_post(core, op, ap, [ch])
    with caplog.at_level(logging.INFO, logger="publisher.worker"):
        run_once(core)
    with core.sessions() as s:
        pub = s.execute(select(Publication)).scalar_one()
    lines = [r.getMessage() for r in caplog.records if r.name == "publisher.worker.outcome"]
    assert lines == [f"publication {pub.id} published on channel {ch}: {pub.permalink}"]
