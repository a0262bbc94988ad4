"""The Prometheus text of one scrape, and a worker's own metrics port."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, Metric

from publisher.config import Settings
from publisher.core import Core
from publisher.observability.gauges import DatabaseCollector
from publisher.observability.instruments import REGISTRY


class _Process(Collector):
    """This process's counters (``instruments.REGISTRY``) inside another registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape(core: Core, accept: str | None) -> tuple[bytes, str]:
    """The database gauges and this process's counters, in the format ``accept`` asks for
    (Prometheus text by default, OpenMetrics when asked)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(core))
    registry.register(_Process())
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


def serve_worker_metrics(settings: Settings) -> Any | None:
    """Serve this process's counters on ``WARTA_WORKER_METRICS_ADDR:PORT`` (a daemon thread),
    when a port is set; the database gauges are the web app's, asked once, not per worker."""
    if settings.worker_metrics_port is None:
        return None
    server, _thread = start_http_server(settings.worker_metrics_port,
                                        addr=settings.worker_metrics_addr, registry=REGISTRY)
    return server
