"""The receiver's counters, kept per minute in the store, so that ``billoget-hooks diagnose``
can say what happened over the last day across restarts and without a Prometheus.

On every observer tick :class:`StatsRecorder` takes the running totals of
:meth:`~receiver.observability.families.ReceiverMetrics.totals`, writes what grew since the
last write to the current minute (:meth:`core.store.EventStore.add_delivery_stats`, on a
store-reader thread: see :meth:`~receiver.observability.observer.Observer.record_stats`) and,
once an hour, forgets minutes older than :data:`KEEP_STATS_S`. What was not written (the store
did not answer) is written with the next tick. The counters in the store are therefore at most
one tick (``ALERT_CHECK_INTERVAL_S``) behind ``/metrics``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime

from core.store import EventStore
from core.times import format_time

KEEP_STATS_S = 8 * 24 * 3600
PRUNE_EVERY_S = 3600.0


def utc_text(when: float) -> str:
    return format_time(datetime.fromtimestamp(when, UTC))


class StatsRecorder:
    def __init__(self) -> None:
        self._written: dict[tuple[str, str], float] = {}
        self._pruned_at = 0.0

    def record(self, store: EventStore, totals: Mapping[tuple[str, str], float], now: float) -> int:
        """Blocking (a store thread): add what grew since the last call; how many
        counters were written."""
        grown = {
            key: value - self._written.get(key, 0.0)
            for key, value in totals.items()
            if value > self._written.get(key, 0.0)
        }
        if grown:
            store.add_delivery_stats(utc_text(now), grown)
        self._written = dict(totals)
        if now - self._pruned_at >= PRUNE_EVERY_S:
            store.prune_delivery_stats(utc_text(now - KEEP_STATS_S))
            self._pruned_at = now
        return len(grown)


def quantile(q: float, cumulative: Mapping[str, float]) -> float | None:
    """The ``q`` quantile of a histogram's cumulative buckets (``le`` text → count), by linear
    interpolation inside the bucket, as PromQL's ``histogram_quantile`` does; None when
    empty. Above the highest finite bound the answer is that bound."""
    buckets = sorted((float(le), count) for le, count in cumulative.items())
    if not buckets or buckets[-1][1] <= 0:
        return None
    total = buckets[-1][1]
    rank = q * total
    lower_bound, lower_count = None, 0.0
    for bound, count in buckets:
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if lower_bound is None:  # the lowest bucket: no lower edge to interpolate from
                return bound
            inside = count - lower_count
            share = 0.0 if inside <= 0 else (rank - lower_count) / inside
            return lower_bound + (bound - lower_bound) * share
        lower_bound, lower_count = bound, count
    return lower_bound
