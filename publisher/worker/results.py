"""What a job handler tells the runner to do with its job (retry decisions are values)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Done:
    pass


@dataclass(frozen=True)
class Settled:
    """The handler completed the job itself, in the transaction that recorded its result."""


@dataclass(frozen=True)
class RetryAt:
    when: datetime
    error: str = ""


@dataclass(frozen=True)
class Fail:
    error: str


JobResult = Done | Settled | RetryAt | Fail
DONE = Done()
SETTLED = Settled()
