"""Retry timing as a formula, not a fixed sleep: exponential, capped, with jitter.

Jitter spreads retries of many jobs that failed together (a platform outage) so they do not
all hit the platform again in the same second. A platform's own ``Retry-After`` wins when it
is longer.
"""

from __future__ import annotations

import random
from typing import cast


def backoff_seconds(attempts: int, *, base: float = 30.0, cap: float = 3600.0,
                    retry_after: float | None = None, jitter: float = 0.2,
                    rng: random.Random | None = None) -> float:
    """Seconds to wait before attempt ``attempts + 1``.

    ``attempts`` counts the attempts already made (1 after the first failure).
    """
    rng = rng or cast(random.Random, random)  # the module-level functions share its API
    exp = min(cap, base * (2 ** max(0, attempts - 1)))
    wait = max(exp, retry_after or 0.0)
    return wait * (1 + rng.uniform(0, jitter))
