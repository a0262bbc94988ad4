"""The installation's state, read from the database when Prometheus scrapes.

Every worker and web process shares one database, so these numbers are the same whoever is
asked; they are computed once per scrape by a few aggregate queries, each bounded by an index
(queued and running jobs, overdue metric collections, publications of the last day, the
workers seen in the last hour), never by reading a table whole. A database that does not
answer gives ``warta_database_up 0`` and no other gauge, rather than an error page.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from sqlalchemy import Connection, Float, and_, case, cast, extract, func, literal, select

from postqueue.models import Job, JobStatus
from publisher.core import Core
from publisher.db import read_only_connection
from publisher.jobs import COLLECT_METRICS, POLL, PUBLISH, PUBLISH_UPLOAD
from publisher.models import Channel, Publication, PublicationStatus, WorkerHeartbeat

log = logging.getLogger(__name__)

KINDS = (PUBLISH, PUBLISH_UPLOAD, POLL, COLLECT_METRICS)
#: Publications still on their way (or waiting for a person); counted whatever their age.
OPEN = (PublicationStatus.QUEUED, PublicationStatus.PUBLISHING,
        PublicationStatus.NEEDS_REAUTH, PublicationStatus.UNCONFIRMED)
#: Outcomes are counted over this window (by ``ix_publication_status_updated``).
RECENT = timedelta(hours=24)
#: Workers listed by heartbeat age (a restarted worker has a new id: older rows are history).
WORKERS_WITHIN = timedelta(hours=1)
WORKERS_SHOWN = 50
#: Seconds from the scheduled time to the platform's answer.
LATENESS_BUCKETS = (1, 5, 15, 60, 300, 900, 3600, 6 * 3600)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def _seconds_between(conn: Connection, later: Any, earlier: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * literal(86400.0, Float)


class DatabaseCollector(Collector):
    """A prometheus_client collector over one installation's database."""

    def __init__(self, core: Core) -> None:
        self.core = core

    def collect(self) -> Iterable[Metric]:
        start = time.perf_counter()
        up = GaugeMetricFamily("warta_database_up", "1 when the scrape could read the database")
        try:
            with read_only_connection(self.core.engine) as conn:
                families = list(self._families(conn, self.core.now()))
        except Exception:  # noqa: BLE001 - a scrape must answer; the reason goes to the log
            log.warning("metrics: the database could not be read", exc_info=True)
            families = []
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families
        took = GaugeMetricFamily("warta_database_scrape_duration_seconds",
                                 "Time the database gauges took to compute")
        took.add_metric([], time.perf_counter() - start)
        yield took

    def _families(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        yield from self._queue(conn, now)
        yield from self._publications(conn, now)
        yield self._lateness(conn, now)
        yield from self._metrics_lag(conn, now)
        yield from self._workers(conn, now)

    def _queue(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        depth = GaugeMetricFamily("warta_queue_jobs", "Jobs queued or running, by kind and state",
                                  labels=["kind", "state"])
        counts: dict[tuple[str, str], int] = {
            (k, str(st)): 0 for k in KINDS for st in (JobStatus.QUEUED, JobStatus.RUNNING)}
        for kind, status, n in conn.execute(
                select(Job.kind, Job.status, func.count())
                .where(Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
                .group_by(Job.kind, Job.status)):
            counts[(kind, status)] = n
        for (kind, status), n in sorted(counts.items()):
            depth.add_metric([kind, status], n)
        yield depth
        due = GaugeMetricFamily("warta_queue_due_jobs",
                                "Queued jobs whose time has come but no worker has claimed",
                                labels=["kind"])
        age = GaugeMetricFamily("warta_queue_oldest_due_age_seconds",
                                "How long the oldest due, unclaimed job has waited (0: none)",
                                labels=["kind"])
        rows = {kind: (n, oldest) for kind, n, oldest in conn.execute(
            select(Job.kind, func.count(), func.min(Job.run_at))
            .where(Job.status == JobStatus.QUEUED, Job.run_at <= now).group_by(Job.kind))}
        for kind in sorted(set(KINDS) | set(rows)):
            n, oldest = rows.get(kind, (0, None))
            due.add_metric([kind], n)
            # SQLite hands back min() of a datetime column as text, untyped
            when = oldest if isinstance(oldest, datetime) or oldest is None else \
                datetime.fromisoformat(str(oldest))
            age.add_metric([kind], max(0.0, (now - _aware(when)).total_seconds()) if when else 0)
        yield due
        yield age

    def _publications(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        open_ = GaugeMetricFamily("warta_publications_open",
                                  "Publications not yet out or waiting for a person, by "
                                  "platform and status", labels=["platform", "status"])
        for platform, status, n in conn.execute(
                select(Channel.platform, Publication.status, func.count())
                .join(Channel, Channel.id == Publication.channel_id)
                .where(Publication.status.in_(OPEN))
                .group_by(Channel.platform, Publication.status)):
            open_.add_metric([platform, status], n)
        yield open_
        recent = GaugeMetricFamily("warta_publications_recent",
                                   "Publications whose status changed in the last 24 hours "
                                   "(publish outcomes), by platform and status",
                                   labels=["platform", "status"])
        for platform, status, n in conn.execute(
                select(Channel.platform, Publication.status, func.count())
                .join(Channel, Channel.id == Publication.channel_id)
                .where(Publication.status.in_(list(PublicationStatus)),
                       Publication.updated_at >= now - RECENT)
                .group_by(Channel.platform, Publication.status)):
            recent.add_metric([platform, status], n)
        yield recent

    def _lateness(self, conn: Connection, now: datetime) -> Metric:
        late = _seconds_between(conn, Publication.published_at, Publication.scheduled_at)
        cols = [func.sum(case((late <= b, 1), else_=0)) for b in LATENESS_BUCKETS]
        fam = GaugeHistogramMetricFamily(
            "warta_publish_lateness_seconds", "Publications published in the last 24 hours, "
            "by seconds from their scheduled time to the platform's answer",
            labels=["platform"])
        for platform, n, total, *buckets in conn.execute(
                select(Channel.platform, func.count(), func.sum(cast(late, Float)), *cols)
                .join(Channel, Channel.id == Publication.channel_id)
                .where(Publication.published_at >= now - RECENT,
                       Publication.published_at <= now,
                       Publication.status == PublicationStatus.PUBLISHED)
                .group_by(Channel.platform)):
            pairs = [(floatToGoString(b), float(c or 0)) for b, c in zip(LATENESS_BUCKETS, buckets,
                                                                strict=True)]
            fam.add_metric([platform], [*pairs, ("+Inf", float(n))],
                           gsum_value=float(total or 0))
        return fam

    def _metrics_lag(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        lag = GaugeMetricFamily("warta_metrics_collection_lag_seconds",
                                "How overdue the oldest due engagement collection is (0: none), "
                                "by platform", labels=["platform"])
        overdue = GaugeMetricFamily("warta_metrics_collection_overdue",
                                    "Publications whose engagement collection is due, by "
                                    "platform", labels=["platform"])
        for platform, n, oldest in conn.execute(
                select(Channel.platform, func.count(), func.min(Publication.next_metrics_at))
                .join(Channel, Channel.id == Publication.channel_id)
                .where(and_(Publication.next_metrics_at.is_not(None),
                            Publication.next_metrics_at <= now))
                .group_by(Channel.platform)):
            when = oldest if isinstance(oldest, datetime) else datetime.fromisoformat(str(oldest))
            lag.add_metric([platform], max(0.0, (now - _aware(when)).total_seconds()))
            overdue.add_metric([platform], n)
        yield lag
        yield overdue

    def _workers(self, conn: Connection, now: datetime) -> Iterator[Metric]:
        ages = GaugeMetricFamily("warta_worker_heartbeat_age_seconds",
                                 "Seconds since each worker seen in the last hour last beat",
                                 labels=["worker", "host"])
        alive = GaugeMetricFamily("warta_workers_alive",
                                  "Workers whose heartbeat is within WARTA_WORKER_DEAD_AFTER")
        n_alive = 0
        for worker_id, host, last in conn.execute(
                select(WorkerHeartbeat.worker_id, WorkerHeartbeat.host,
                       WorkerHeartbeat.last_tick_at)
                .where(WorkerHeartbeat.last_tick_at >= now - WORKERS_WITHIN)
                .order_by(WorkerHeartbeat.last_tick_at.desc()).limit(WORKERS_SHOWN)):
            age = max(0.0, (now - _aware(last)).total_seconds())
            ages.add_metric([worker_id, host or ""], age)
            n_alive += age <= self.core.settings.worker_dead_after
        alive.add_metric([], n_alive)
        yield ages
        yield alive
