"""This process's own counters: every adapter call timed and its result counted, per platform.

They live in Warta's own registry (not prometheus_client's global one), so a test or a second
app in the process can read exactly Warta's numbers. The web app's ``/metrics`` includes them
(in ``warta serve`` that is the worker's calls too); a ``warta worker`` serves them on
``WARTA_WORKER_METRICS_PORT``.

Calls are timed by wrapping the adapter instance's methods where it is built
(``runtime.build_adapter``), so no call site can forget it and ``type(adapter)`` (its
capabilities) stays the adapter's own class.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from adapters.base import Pending, Published
from adapters.errors import AdapterError

REGISTRY = CollectorRegistry(auto_describe=True)

#: The adapter contract's calls that reach a platform (``validate`` is pure, not timed).
CALLS = ("publish", "poll", "lookup", "fetch_metrics", "account", "refresh")
#: From a quick text post to a long video upload (seconds).
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)

CALL_SECONDS = Histogram("warta_adapter_call_duration_seconds",
                         "Time of one adapter call to a platform, by platform and call",
                         ["platform", "call"], buckets=BUCKETS, registry=REGISTRY)
CALLS_TOTAL = Counter("warta_adapter_calls",
                      "Adapter calls by platform, call and result (published, pending, ok, "
                      "error)", ["platform", "call", "result"], registry=REGISTRY)
ERRORS_TOTAL = Counter("warta_adapter_errors",
                       "Adapter calls that raised, by platform, call and error kind "
                       "(retry_later, auth_expired, rejected, outcome_unknown, start_over, "
                       "not_supported, unexpected)", ["platform", "call", "kind"],
                       registry=REGISTRY)
HEARTBEAT = Gauge("warta_worker_heartbeat_timestamp_seconds",
                  "Unix time of this worker's last successful heartbeat", registry=REGISTRY)

_KINDS = {"RetryLater": "retry_later", "AuthExpired": "auth_expired", "Rejected": "rejected",
          "OutcomeUnknown": "outcome_unknown", "StartOver": "start_over",
          "NotSupported": "not_supported", "CredentialFieldError": "auth_expired"}

A = TypeVar("A")


def error_kind(exc: BaseException) -> str:
    """The error's kind in the adapter contract; anything else is an adapter bug."""
    if isinstance(exc, AdapterError):
        for cls in type(exc).__mro__:
            if cls.__name__ in _KINDS:
                return _KINDS[cls.__name__]
        return "adapter_error"
    return "unexpected"


def _result(value: object) -> str:
    if isinstance(value, Published):
        return "published"
    if isinstance(value, Pending):
        return "pending"
    return "ok"


def _timed(platform: str, call: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    hist = CALL_SECONDS.labels(platform, call)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            value = fn(*args, **kwargs)
        except BaseException as exc:
            hist.observe(time.perf_counter() - start)
            CALLS_TOTAL.labels(platform, call, "error").inc()
            ERRORS_TOTAL.labels(platform, call, error_kind(exc)).inc()
            raise
        hist.observe(time.perf_counter() - start)
        CALLS_TOTAL.labels(platform, call, _result(value)).inc()
        return value
    return run


def instrument(adapter: A, platform: str) -> A:
    """Time and count ``adapter``'s platform calls (on this instance only)."""
    for call in CALLS:
        fn = getattr(adapter, call, None)
        if callable(fn):
            setattr(adapter, call, _timed(platform, call, fn))
    return adapter


def beat() -> None:
    """A heartbeat succeeded now."""
    HEARTBEAT.set_to_current_time()
