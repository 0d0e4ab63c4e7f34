"""The retry policy: exponential backoff with full jitter, capped, a bounded number of tries.

``delay_s(n)`` for the n-th failed attempt is uniform in ``[0, min(cap, base * 2**(n-1))]``
(AWS's "full jitter"): workers that failed together do not come back together. A server's
``Retry-After`` is a floor.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

DEFAULT_BASE_S = 1.0
DEFAULT_CAP_S = 3600.0
DEFAULT_MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def exhausted(self, attempt: int) -> bool:
        """True when attempt number ``attempt`` (1-based) was the last one allowed."""
        return attempt >= self.max_attempts

    def delay_s(self, attempt: int, *, retry_after_s: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * 2 ** min(max(attempt - 1, 0), 62))
        delay = self.rng.uniform(0, ceiling)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.cap_s))
        return delay
