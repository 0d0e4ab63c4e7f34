"""Run one family's fetch plan: scan pages while that is cheaper, GET the rest, apply to the
mirror, confirm what was seen, then log the plan and its cost once and count it.

A scan goes on from the page where the family's previous scan stopped (wrapping around to page
1 at the end; at most one full cycle per plan), and takes in entities that became pending while
it ran: a burst over a whole catalogue costs about one pass over the list, however many windows
it spans, since the pages already read were applied to the mirror in full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from core.billoget import ApiNotFoundError, Entity
from core.events import Family
from core.store.sqlite.mirror import MirrorStore
from core.times import normalize_time, utcnow
from workers.api import BudgetedApi
from workers.coalesce import mirror_covers
from workers.fetchplan.choice import PAGE_SIZE, choose, pages_for, pages_to_reach
from workers.fetchplan.stats import PLAN_STATS
from workers.handlers.payload import wire_data

log = logging.getLogger(__name__)

Tick = Callable[[float], Awaitable[None]]  # (expected end, Unix s): keeps the collector's lease
More = Callable[[], Awaitable[list["Pending"]]]  # entities that became pending meanwhile


@dataclass(frozen=True, slots=True)
class Pending:
    """An entity an event needs fetched, with the event's ``updatedAt`` (if any) and time."""

    entity_id: str
    updated_at: str | None
    event_time: str


@dataclass(frozen=True, slots=True)
class ScanPosition:
    """Where the family's scans stand: the next page, the largest id of the page before it
    and whether the list was seen in ascending id order (None: not seen yet)."""

    page: int = 1
    last_max: int = 0
    ordered: bool | None = None

    def after(self, ids: Sequence[str], *, more: bool) -> ScanPosition:
        """The position once the page ``self.page`` held ``ids``."""
        numbers = [int(i) for i in ids if i.isdigit()]
        start = self.last_max if self.page > 1 else 0
        ascending = len(numbers) == len(ids) and all(
            a < b for a, b in zip([start, *numbers], numbers, strict=False)
        )
        ordered = ascending and self.ordered is not False
        if not more or not ids:
            return ScanPosition(1, 0, ordered)
        return ScanPosition(self.page + 1, numbers[-1] if ordered else 0, ordered)

    def to_json(self) -> str:
        return json.dumps([self.page, self.last_max, self.ordered])

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> ScanPosition:
        try:
            page, last_max, ordered = json.loads(raw or "")
            return cls(max(1, int(page)), int(last_max), ordered)
        except (ValueError, TypeError):
            return cls()


@dataclass(slots=True)
class PlanCost:
    pending: int = 0
    scan_pages: int = 0
    gets: int = 0
    applied: int = 0
    total: int | None = None
    position: ScanPosition = field(default_factory=lambda: ScanPosition())


def uncovered(mirror: MirrorStore, family: str, batch: Sequence[Pending]) -> list[str]:
    """The ids of ``batch`` the mirror does not cover yet (blocking)."""
    needed = []
    for item in batch:
        row = mirror.get_entity(family, item.entity_id)
        if not mirror_covers(row, event_updated_at=item.updated_at, event_time=item.event_time):
            needed.append(item.entity_id)
    return needed


def apply_entities(mirror: MirrorStore, family: str, entities: Sequence[Entity]) -> set[str]:
    """Store fetched entities conditionally and confirm those stored; the ids seen (blocking)."""
    now = utcnow()
    applied = []
    for entity in entities:
        entity_id = str(entity.id)
        if mirror.upsert_entity(
            family,
            entity_id,
            data=wire_data(entity),
            updated_at=normalize_time(entity.updated_at),
            fetched_at=now,
            delivery_id=None,
        ):
            applied.append(entity_id)
    mirror.confirm_entities(family, applied, at=now)
    return {str(e.id) for e in entities}


async def run_plan(
    family: Family,
    batch: Sequence[Pending],
    *,
    api: BudgetedApi,
    mirror: MirrorStore,
    tick: Tick,
    more: More,
    position: ScanPosition | None = None,
) -> PlanCost:
    cost = PlanCost(position=position or ScanPosition())
    needed = await asyncio.to_thread(uncovered, mirror, family, batch)
    remaining = set(needed)
    cost.pending = len(remaining)
    if not remaining:
        return cost
    started = time.monotonic()
    try:
        await _scan(
            family, remaining, cost, api=api, mirror=mirror, tick=tick, more=more, started=started
        )
        for entity_id in sorted(remaining, key=_id_order):
            try:
                entity = await api.get_entity(family, entity_id)
            except ApiNotFoundError:
                cost.gets += 1
                await asyncio.to_thread(
                    mirror.tombstone_entity,
                    family,
                    entity_id,
                    deleted_at=utcnow(),
                    delivery_id=None,
                )
                continue
            cost.gets += 1
            await asyncio.to_thread(apply_entities, mirror, family, [entity])
            cost.applied += 1
    finally:
        PLAN_STATS.add(
            pending=cost.pending, gets=cost.gets, scan_pages=cost.scan_pages, applied=cost.applied
        )
        log.info(
            "fetch plan for %s: %d entities needed fetching (list total %s): %d list pages + "
            "%d GETs = %d requests, %d entities fetched, %.1f s",
            family,
            cost.pending,
            "unknown" if cost.total is None else cost.total,
            cost.scan_pages,
            cost.gets,
            cost.scan_pages + cost.gets,
            cost.applied,
            time.monotonic() - started,
        )
    return cost


async def _scan(
    family: Family,
    remaining: set[str],
    cost: PlanCost,
    *,
    api: BudgetedApi,
    mirror: MirrorStore,
    tick: Tick,
    more: More,
    started: float,
) -> None:
    """Read list pages while that costs fewer requests than GETs (:func:`pages_to_reach`);
    found ids leave ``remaining``, newly pending uncovered ones join it. After a full cycle of
    the list only ids it does not hold are left."""
    position = cost.position
    while remaining:
        if cost.total is None:
            pages_left = None
        else:
            pages_left = pages_to_reach(
                remaining,
                next_page=position.page,
                last_max=position.last_max if position.ordered else None,
                pages_left=pages_for(cost.total) - cost.scan_pages,
                pages_total=pages_for(cost.total),
            )
        if (pages_left is not None and pages_left <= 0) or choose(
            len(remaining), pages_left=pages_left
        ) == "get":
            return
        result = await api.list_page(family, page=position.page, limit=PAGE_SIZE)
        cost.scan_pages += 1
        cost.total = result.pagination.total
        seen = await asyncio.to_thread(apply_entities, mirror, family, result.data)
        cost.applied += len(result.data)
        remaining -= seen
        position = position.after([str(e.id) for e in result.data], more=result.has_more)
        cost.position = position
        arrived = await more()
        if arrived:
            joined = await asyncio.to_thread(uncovered, mirror, family, arrived)
            remaining.update(joined)
            cost.pending += len(joined)
        per_request_s = (time.monotonic() - started) / cost.scan_pages
        left = pages_for(cost.total or 0) - cost.scan_pages
        await tick(time.time() + per_request_s * max(left, 1))


def _id_order(entity_id: str) -> tuple[int, str]:
    return (int(entity_id), "") if entity_id.isdigit() else (0, entity_id)
