"""A reconciliation run: the families in turn, one reconciler at a time (the lease)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.events import Family
from core.store.reconcile import ReconcileStore
from workers.api import BudgetedApi
from workers.errors import ScopeMissing
from workers.reconcile.lease import Lease
from workers.reconcile.repairs import Enqueue
from workers.reconcile.walk import DEFAULT_MAX_WAIT_S, Allowance, FamilyPass, PassProgress, Progress

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    held: bool = True
    passes: list[PassProgress] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        return self.held and all(p.completed for p in self.passes)

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.passes)

    @property
    def repairs(self) -> int:
        return sum(sum(p.repairs.values()) for p in self.passes)


async def reconcile(
    families: Sequence[Family],
    *,
    api: BudgetedApi,
    store: ReconcileStore,
    enqueue: Enqueue,
    lease: Lease | None,
    dry_run: bool = False,
    max_requests: int | None = None,
    max_wait_s: float = DEFAULT_MAX_WAIT_S,
    lease_wait_s: float = 0.0,
    progress: Progress | None = None,
) -> RunResult:
    """Run a pass over each family (stopping at the first that stops early). A dry run changes
    nothing (no events, no cursor, no confirmations) and takes no lease."""
    result = RunResult()
    allowance = Allowance(max_requests)

    async def passes() -> None:
        for family in families:
            one = FamilyPass(
                family,
                api=api,
                store=store,
                enqueue=enqueue,
                allowance=allowance,
                dry_run=dry_run,
                max_wait_s=max_wait_s,
                progress=progress,
            )
            try:
                state = await one.run()
            except ScopeMissing as exc:
                state = one.state
                state.stopped = f"skipped: {exc.message}"
            result.passes.append(state)
            log.info(
                "reconcile %s: %s; %d pages from page %d, %d checked, repairs %s, %d requests",
                family,
                "completed" if state.completed else state.stopped,
                state.pages,
                state.started_page,
                state.checked,
                state.repairs,
                state.requests,
            )
            if state.stopped and not state.stopped.startswith("skipped"):
                return

    if lease is None or dry_run:
        await passes()
        return result
    async with lease.hold(wait_s=lease_wait_s) as held:
        result.held = held
        if held:
            await passes()
    return result
