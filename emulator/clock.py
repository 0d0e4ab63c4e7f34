"""Timestamps that only ever move forward, so every change gets a later ``updatedAt``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_TICK = timedelta(microseconds=1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class MonotonicStamper:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last: datetime | None = None

    def __call__(self) -> str:
        moment = self._now()
        if self._last is not None and moment <= self._last:
            moment = self._last + _TICK
        self._last = moment
        return iso(moment)
