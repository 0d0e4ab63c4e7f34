"""Collect the fetches events need, per family, in Redis; one worker plans each batch.

A handler that needs an entity fetched calls :meth:`FetchPlanner.request`: the entity joins its
family's pending hash (with the event's ``updatedAt`` and time), the first requester of a window
becomes the family's collector (a Redis lease, so one worker plans a family at a time, and a
dead collector's lease expires), and the event is deferred (:class:`FetchPlanned`: not counted
as an attempt) until about when the plan should be done. When it comes back the mirror covers
it (outcome ``coalesced``); if the plan could not run (the budget, a crash), it asks again.

The collector, a task on its worker's event loop, waits out the window, takes every pending
entity, drops those the mirror already covers and runs the plan (:mod:`.execute`); it keeps
collecting while more arrive, then gives its lease up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
import uuid
from typing import NoReturn

import redis.asyncio as aioredis

from core.billoget import ApiError
from core.errors import RetryLater
from core.events import Family
from core.store.sqlite.mirror import MirrorStore
from core.times import normalize_time
from workers.api import BudgetedApi
from workers.fetchplan.execute import Pending, ScanPosition, run_plan

log = logging.getLogger(__name__)

KEY_PREFIX = "billoget-hooks:fetch-plan"
LEASE_MARGIN_S = 10.0
DEFAULT_MAX_BATCH = 10_000
MIN_DEFER_S = 0.2
SCAN_PAGE_TTL_S = 600  # where the family's last scan stopped, for the next plan to go on

# every pending entity at once, then none (one collector takes a whole batch)
_DRAIN = """
local items = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return items
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


class FetchPlanned(RetryLater):
    """The entity joined its family's fetch plan: the event comes back when it should be done."""


class FetchPlanner:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        api: BudgetedApi,
        mirror: MirrorStore,
        window_s: float,
        max_batch: int = DEFAULT_MAX_BATCH,
    ) -> None:
        self._redis = client
        self._api = api
        self._mirror = mirror
        self._window_s = window_s
        self._max_batch = max_batch
        self._drain = client.register_script(_DRAIN)
        self._release = client.register_script(_RELEASE)
        self._extend = client.register_script(_EXTEND)
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def _keys(family: str) -> tuple[str, str, str]:
        base = f"{KEY_PREFIX}:{family}"
        return f"{base}:pending", f"{base}:collector", f"{base}:eta"

    @staticmethod
    def _page_key(family: str) -> str:
        return f"{KEY_PREFIX}:{family}:scan-position"

    async def request(
        self,
        family: Family,
        entity_id: str,
        *,
        event_updated_at: object,
        event_time: str,
    ) -> NoReturn:
        """Add the entity to its family's plan and raise :class:`FetchPlanned` (or what a
        call would meet for sure: no key, a rejected key, a missing scope)."""
        await self._api.ensure_usable(family)
        pending_key, collector_key, eta_key = self._keys(family)
        entry = json.dumps([normalize_time(event_updated_at), event_time])
        token = uuid.uuid4().hex
        lease_ms = int((self._window_s + LEASE_MARGIN_S) * 1000)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(pending_key, entity_id, entry)
            pipe.set(collector_key, token, nx=True, px=lease_ms)
            pipe.get(eta_key)
            _, collector, eta = await pipe.execute()
        now = time.time()
        if collector:
            eta_s = now + self._window_s
            await self._redis.set(eta_key, f"{eta_s:.3f}", px=lease_ms)
            task = asyncio.create_task(self._collect(family, token))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            eta_s = float(eta) if eta else now + self._window_s
        delay_s = max(MIN_DEFER_S, eta_s - now) + random.uniform(0.1, 0.3)
        raise FetchPlanned(f"fetch planned with the {family} batch", delay_s=delay_s)

    async def _collect(self, family: Family, token: str) -> None:
        pending_key, collector_key, eta_key = self._keys(family)
        lease_ms = int((self._window_s + LEASE_MARGIN_S) * 1000)

        async def keep_lease(eta_s: float) -> None:
            await self._extend(keys=[collector_key], args=[token, lease_ms])
            await self._redis.set(eta_key, f"{eta_s:.3f}", px=lease_ms)

        async def more() -> list[Pending]:
            return _decode(await self._drain(keys=[pending_key]))[: self._max_batch]

        try:
            while True:
                await asyncio.sleep(self._window_s)
                batch = await more()
                if not batch:
                    return
                page_key = self._page_key(family)
                position = ScanPosition.from_json(await self._redis.get(page_key))
                cost = await run_plan(
                    family,
                    batch,
                    api=self._api,
                    mirror=self._mirror,
                    tick=keep_lease,
                    more=more,
                    position=position,
                )
                await self._redis.set(page_key, cost.position.to_json(), ex=SCAN_PAGE_TTL_S)
                await keep_lease(time.time() + self._window_s)
        except asyncio.CancelledError:
            raise
        except (RetryLater, ApiError) as exc:
            log.info("fetch plan for %s stopped (%s): its events ask again", family, exc)
        except Exception:
            # the deferred events come back and ask again: nothing is lost
            log.warning("fetch plan for %s failed", family, exc_info=True)
        finally:
            await self._release(keys=[collector_key], args=[token])

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _decode(raw: list[bytes]) -> list[Pending]:
    batch = []
    for name, value in zip(raw[::2], raw[1::2], strict=True):
        try:
            updated_at, event_time = json.loads(value)
        except (ValueError, TypeError):
            updated_at, event_time = None, ""
        batch.append(Pending(name.decode(), updated_at, event_time))
    return batch
