"""Timestamps that only ever move forward, so every change gets a later ``updatedAt``.

Billoget's dates are ISO 8601 UTC with milliseconds (``2025-03-14T09:26:53.589Z``); two changes
in the same millisecond get consecutive milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_TICK = timedelta(milliseconds=1)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MonotonicStamper:
    def __init__(self, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._now = now
        self._last: datetime | None = None

    def __call__(self) -> str:
        now = self._now()
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self._last is not None and moment <= self._last:
            moment = self._last + _TICK
        self._last = moment
        return iso(moment)
