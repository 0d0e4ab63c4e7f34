"""Prometheus collectors for what the receiver does not count itself: the store's gauges (from
the cached :class:`~receiver.observability.snapshot.StoreSnapshot`), the alerts, and the
workers' multiprocess files (see :mod:`workers.metrics`)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from receiver.observability.snapshot import StoreSnapshot


class StoreCollector:
    """``billoget_hooks_events{status}``, ``billoget_hooks_oldest_unprocessed_age_seconds``,
    ``billoget_hooks_alert_active{alert}`` and ``billoget_hooks_selfcheck_ok``."""

    def __init__(
        self,
        snapshot: Callable[[], StoreSnapshot | None],
        active_alerts: Callable[[], Iterable[str]],
        alert_names: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._snapshot = snapshot
        self._active = active_alerts
        self._alert_names = alert_names
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        active = set(self._active())
        alerts = GaugeMetricFamily(
            "billoget_hooks_alert_active",
            "1 while an alert holds (silence, dead_letters, signature_failures).",
            labels=["alert"],
        )
        for name in self._alert_names:
            alerts.add_metric([name], 1.0 if name in active else 0.0)
        yield alerts
        snap = self._snapshot()
        if snap is None:  # the store has not answered yet
            return
        events = GaugeMetricFamily(
            "billoget_hooks_events", "Events in the store by status.", labels=["status"]
        )
        for status, count in snap.counts.items():
            events.add_metric([status], count)
        yield events
        yield GaugeMetricFamily(
            "billoget_hooks_oldest_unprocessed_age_seconds",
            "Age of the oldest event neither processed nor dead (0: no backlog).",
            value=snap.backlog_age_s(self._clock()),
        )
        if snap.selfcheck_ok is not None:
            yield GaugeMetricFamily(
                "billoget_hooks_selfcheck_ok",
                "1 if the last self-check passed, 0 if it failed.",
                value=1.0 if snap.selfcheck_ok else 0.0,
            )


class WorkerFilesCollector:
    """The workers' families, summed over the files of every worker process on this host."""

    def __init__(self, directory: Path | None) -> None:
        self._directory = directory

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterable[Metric]:
        if self._directory is None or not self._directory.is_dir():
            return []
        return MultiProcessCollector(None, path=str(self._directory)).collect()
