"""Sliding-window rate limits: one log of request times per key.

Only requests that are let through are recorded, so a client hammering a spent window does not
push its own reset further away.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: float  # unix seconds when the oldest counted request leaves the window
    retry_after_s: float
    window_s: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at + 0.999)),
            "X-RateLimit-Window": str(int(self.window_s + 0.999)),
        }


class SlidingWindowLimiter:
    def __init__(self, *, window_s: float, clock: Callable[[], float] = time.time) -> None:
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[int, deque[float]] = {}

    def hit(self, key_id: int, limit: int) -> Decision:
        """Count one request for ``key_id`` if the window has room; say what happened."""
        now = self._clock()
        hits = self._hits.setdefault(key_id, deque())
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        allowed = len(hits) < limit
        if allowed:
            hits.append(now)
        reset_at = hits[0] + self.window_s if hits else now + self.window_s
        return Decision(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - len(hits)),
            reset_at=reset_at,
            retry_after_s=0.0 if allowed else max(0.0, reset_at - now),
            window_s=self.window_s,
        )

    def clear(self) -> None:
        self._hits.clear()
