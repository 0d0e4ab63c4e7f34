"""Scheduled reconciliation inside the workers: every ``RECONCILE_INTERVAL_S`` one of them
(whichever holds the lease) runs a pass over each family, and resumes a pass another worker left
unfinished (it died, or the budget share paused it) from its cursor.

The clock starts when the workers first run: a new installation is not walked at once (its
mirror is empty, so a pass would replay the whole catalogue as synthetic events); run
``billoget-hooks reconcile`` by hand for that."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

from core.store.mirror import FAMILIES
from core.store.reconcile import ReconcileCursor, ReconcileStore
from core.times import format_time
from workers.api import BudgetedApi
from workers.reconcile.lease import Lease
from workers.reconcile.repairs import Enqueue
from workers.reconcile.run import reconcile

log = logging.getLogger(__name__)

MAX_CHECK_EVERY_S = 60.0
SCHEDULED_MAX_WAIT_S = 300.0


def is_due(cursor: ReconcileCursor, *, interval_s: float, now: datetime) -> bool:
    if cursor.pass_started_at is not None or cursor.last_completed_at is None:
        return True
    return cursor.last_completed_at <= format_time(now - timedelta(seconds=interval_s))


class ReconcileSchedule:
    def __init__(
        self,
        *,
        interval_s: float,
        api: BudgetedApi,
        store: ReconcileStore,
        enqueue: Enqueue,
        lease: Lease,
    ) -> None:
        self._interval_s = interval_s
        self._api = api
        self._store = store
        self._enqueue = enqueue
        self._lease = lease
        self._check_every_s = min(MAX_CHECK_EVERY_S, max(1.0, interval_s / 10))

    async def run_forever(self) -> None:
        while True:
            sleep_s = self._check_every_s
            try:
                resume_at = await self.tick()
                if resume_at is not None:
                    sleep_s = max(sleep_s, resume_at - time.time())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("scheduled reconciliation failed; trying again later", exc_info=True)
            await asyncio.sleep(sleep_s)

    async def tick(self) -> float | None:
        """Run the due families, if this worker gets the lease; when to come back, if paused."""
        now = datetime.now(UTC)
        due = []
        for family in FAMILIES:
            cursor = await asyncio.to_thread(self._store.reconcile_cursor, family)
            if cursor is None:  # the schedule's clock starts now
                cursor = ReconcileCursor(family, None, 1, format_time(now))
                await asyncio.to_thread(self._store.save_reconcile_cursor, cursor)
            if is_due(cursor, interval_s=self._interval_s, now=now):
                due.append(family)
        if not due:
            return None
        result = await reconcile(
            due,
            api=self._api,
            store=self._store,
            enqueue=self._enqueue,
            lease=self._lease,
            max_wait_s=SCHEDULED_MAX_WAIT_S,
        )
        return next((p.resume_at for p in result.passes if p.resume_at is not None), None)
