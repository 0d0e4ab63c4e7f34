"""What the store says now, read in one go and cached: right across hosts and processes
(every receiver and worker writes the same store), and cheap to serve on every scrape."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from core.store import EventStore


def epoch_of(text: str | None) -> float | None:
    """Unix seconds of the store's UTC text (None stays None)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class StoreSnapshot:
    taken_at: float  # Unix seconds
    counts: dict[str, int]
    oldest_unprocessed_at: float | None  # Unix seconds of the oldest event not done
    last_received_at: float | None
    selfcheck_ok: bool | None  # the last self-check's verdict; None before the first
    selfcheck_at: str | None = field(default=None)

    def backlog_age_s(self, now: float) -> float:
        """Seconds the oldest unprocessed event has waited (0 without a backlog)."""
        if self.oldest_unprocessed_at is None:
            return 0.0
        return max(0.0, now - self.oldest_unprocessed_at)


def read_snapshot(store: EventStore) -> StoreSnapshot:
    """Blocking: run it on a store-reader thread. StoreUnavailableError passes through."""
    last_check = store.last_selfcheck()
    return StoreSnapshot(
        taken_at=time.time(),
        counts=store.counts(),
        oldest_unprocessed_at=epoch_of(store.oldest_unprocessed_at()),
        last_received_at=epoch_of(store.last_received_at()),
        selfcheck_ok=None if last_check is None else last_check[1],
        selfcheck_at=None if last_check is None else last_check[0],
    )
