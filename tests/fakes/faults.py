"""One set of transport faults for every platform fake, aimed at a chosen call.

``plan.add(mode, method, path_regex)`` makes the next matching request misbehave:

- ``drop``: processed, then the connection breaks (the client gets no answer);
- ``hang``: processed, answered only after ``hang_seconds`` (longer than the client's
  timeout: the tests set ``WARTA_<PLATFORM>_TIMEOUT`` below it);
- ``5xx_before``: a server error, nothing processed;
- ``5xx_after``: processed, then a server error;
- ``hold_before`` / ``hold_after``: the request is held open (before or after processing) until
  ``release`` is set, so a test can SIGKILL the worker process in the middle of the call.

Each fake answers its own platform's server-error body (``server_error``), so the adapters'
classifiers see what the real API sends.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from werkzeug.wrappers import Response

from tests.fakes._wsgi_fake import broken_response

MODES = ("drop", "hang", "5xx_before", "5xx_after", "hold_before", "hold_after")


@dataclass
class _Fault:
    mode: str
    method: str
    path: re.Pattern[str]
    times: int


@dataclass
class FaultPlan:
    hang_seconds: float = 1.5
    hold_limit: float = 60.0
    faults: list[_Fault] = field(default_factory=list)
    #: Set when a held request has arrived (and, for ``hold_after``, was processed).
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, mode: str, method: str, path: str, times: int = 1) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown fault {mode!r}")
        with self.lock:
            self.faults.append(_Fault(mode, method.upper(), re.compile(path), times))

    def take(self, method: str, path: str) -> str | None:
        with self.lock:
            for f in self.faults:
                if f.method == method.upper() and f.path.fullmatch(path):
                    f.times -= 1
                    if f.times <= 0:
                        self.faults.remove(f)
                    return f.mode
        return None

    def before(self, mode: str | None) -> bool:
        """Call before processing; True means "answer a server error, process nothing"."""
        if mode == "hold_before":
            self.holding.set()
            self.release.wait(self.hold_limit)
            return True
        return mode == "5xx_before"

    def after(self, mode: str | None, response: Response,
              server_error: Callable[[], Response]) -> Response:
        """Call after processing with the real answer; returns what the client gets."""
        if mode == "drop":
            return broken_response()
        if mode == "hang":
            time.sleep(self.hang_seconds)
        if mode == "hold_after":
            self.holding.set()
            self.release.wait(self.hold_limit)
            return broken_response()
        if mode == "5xx_after":
            return server_error()
        return response
