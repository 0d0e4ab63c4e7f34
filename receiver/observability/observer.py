"""The observer: one background task of the receiver that, every ``ALERT_CHECK_INTERVAL_S``,
reads the store's snapshot and writes the per-minute counters (on a store-reader thread), then
judges the alerts. ``GET /metrics`` and ``/readyz`` read its state; a scrape refreshes the
snapshot itself when it is older than :data:`SCRAPE_CACHE_S`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from core.errors import StoreUnavailableError
from core.settings import Settings
from receiver.keys import READ_EXECUTOR_KEY, STORE_KEY
from receiver.observability.alerts import ALERT_NAMES, AlertBoard
from receiver.observability.collectors import StoreCollector, WorkerFilesCollector
from receiver.observability.families import ReceiverMetrics, verification_failures
from receiver.observability.snapshot import StoreSnapshot, read_snapshot
from receiver.observability.stats import StatsRecorder

log = logging.getLogger(__name__)

# a scrape serves the store's gauges at most this old (reading them costs a few queries)
SCRAPE_CACHE_S = 2.0


class Observer:
    def __init__(
        self,
        settings: Settings,
        metrics: ReceiverMetrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.metrics = metrics
        self.interval_s = settings.alert_check_interval_s
        self._clock = clock
        self.started_at = clock()
        self.snapshot: StoreSnapshot | None = None
        self.alerts = AlertBoard(
            silence_after_s=settings.silence_alert_after_s,
            signature_count=settings.signature_alert_count,
            signature_window_s=settings.signature_alert_window_s,
            started_at=self.started_at,
        )
        self._stats = StatsRecorder()
        self._store_down = False
        self.ticks = 0  # finished ticks (tests wait for them)
        self.registry = metrics.registry
        self.registry.register(
            StoreCollector(
                lambda: self.snapshot, lambda: self.alerts.active, ALERT_NAMES, clock=clock
            )
        )
        self.registry.register(WorkerFilesCollector(settings.worker_metrics_path()))

    def warnings(self) -> list[dict[str, Any]]:
        """What ``/readyz`` lists under ``warnings``."""
        return [
            {"alert": a.name, "message": a.message, "since": a.since}
            for a in self.alerts.active.values()
        ]

    async def refresh(self, app: web.Application) -> StoreSnapshot | None:
        """Read the store now; None (and the old snapshot kept) if it does not answer."""
        loop = asyncio.get_running_loop()
        try:
            snap = await loop.run_in_executor(app[READ_EXECUTOR_KEY], read_snapshot, app[STORE_KEY])
        except StoreUnavailableError as exc:
            if not self._store_down:
                log.warning("metrics: the store did not answer (%s)", exc.message)
                self._store_down = True
            return None
        self._store_down = False
        self.snapshot = snap
        if snap.last_received_at is not None:
            self.metrics.delivery_seen_at(snap.last_received_at)
        return snap

    def stale(self) -> bool:
        """Older than :data:`SCRAPE_CACHE_S` (or the tick interval, when shorter)."""
        max_age_s = min(SCRAPE_CACHE_S, self.interval_s)
        return self.snapshot is None or self._clock() - self.snapshot.taken_at > max_age_s

    async def record_stats(self, app: web.Application) -> None:
        """Write the counters' growth. On a store-reader thread, not the store-writer: a
        staged group commit holds the write lock until its COMMIT runs on the writer thread,
        so a write queued there before that COMMIT would wait for a lock that cannot come
        (for the busy timeout). From another thread it waits only for that COMMIT."""
        loop = asyncio.get_running_loop()
        totals, now = self.metrics.totals(), self._clock()
        try:
            await loop.run_in_executor(
                app[READ_EXECUTOR_KEY], self._stats.record, app[STORE_KEY], totals, now
            )
        except StoreUnavailableError as exc:
            log.debug("delivery statistics not written (%s): next time", exc.message)

    async def tick(self, app: web.Application) -> None:
        snap = await self.refresh(app)
        await self.record_stats(app)
        totals = self.metrics.totals()
        self.alerts.evaluate(
            now=self._clock(),
            snapshot=snap,
            last_delivery_s=self.metrics.last_delivery_s,
            failures_total=verification_failures(totals),
        )
        self.ticks += 1

    async def run(self, app: web.Application) -> None:
        while True:
            try:
                await self.tick(app)
            except Exception:
                log.exception("observer tick failed; again in %.1f s", self.interval_s)
            await asyncio.sleep(self.interval_s)


OBSERVER_KEY = web.AppKey("observer", Observer)
