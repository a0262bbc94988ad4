"""Figures many people read often and that change slowly, kept for a short time per scope.

Twenty officers opening the dashboard at 08:00 each made the database sum this month's
engagement again (~55 ms on the reports benchmark's database); the figure is the same for
everyone who sees the same units. The key starts with what the viewer may see (every unit
for an administrator, else their unit): two viewers share an entry only when the scope
rules give them the same rows, so one unit can never be shown another's figures.

Per process and in memory: a gunicorn worker keeps its own entries, which is fine for a
figure that may be ``ttl`` seconds old. ``ttl`` 0 turns the cache off.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from publisher.models import User
from publisher.services.access import viewer_scope

T = TypeVar("T")

#: Entries kept at most; the oldest go first (20 units × a few figures fit many times over).
MAX_ENTRIES = 512


class FiguresCache:
    """A small time-bounded map from (scope, name, arguments) to a computed figure."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl, self._clock = ttl, clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()

    def get(self, user: User, name: str, args: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for this viewer's scope, or ``compute()`` (kept for ``ttl``)."""
        if self.ttl <= 0:
            return compute()
        key = (viewer_scope(user), name, args)
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                return hit[1]  # type: ignore[no-any-return]
        value = compute()  # outside the lock: two first readers may both compute; both right
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
