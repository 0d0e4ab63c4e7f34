"""Coalescing: many events for one entity within a window cost one fetch.

Two parts. :func:`mirror_covers` says whether what the mirror already holds is at least as new
as an event (then the fetch is skipped). :class:`EntityLock` is a short Redis lock per entity,
so that concurrent workers do not fetch the same entity at once: the loser waits briefly,
finds the mirror fresh and skips its fetch.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis.asyncio as aioredis

from core.queue import FETCH_LOCK_PREFIX
from core.store.sqlite.mirror import MirrorRow
from core.times import normalize_time
from workers.lua import script

DEFAULT_POLL_S = 0.02


def mirror_covers(row: MirrorRow | None, *, event_updated_at: object, event_time: str) -> bool:
    """True if ``row`` (the mirror's state) already reflects the event.

    The entity's ``updatedAt`` in the event is compared with the mirror's (both Billoget's
    clock); without one, the mirror counts as fresh if it was fetched after the event time.
    A tombstone covers everything.
    """
    if row is None:
        return False
    if row.deleted:
        return True
    event_updated = normalize_time(event_updated_at)
    if event_updated is not None and row.updated_at is not None:
        return event_updated <= row.updated_at
    event_at = normalize_time(event_time)
    return row.fetched_at is not None and event_at is not None and row.fetched_at >= event_at


class EntityLock:
    def __init__(self, client: aioredis.Redis, *, ttl_s: float) -> None:
        self._redis = client
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._release = client.register_script(script("lock_release"))

    @asynccontextmanager
    async def hold(self, name: str, *, wait_s: float) -> AsyncIterator[bool]:
        """Try to hold the lock ``name`` for up to ``wait_s``; yields whether it is held."""
        key = FETCH_LOCK_PREFIX + name
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        held = bool(await self._redis.set(key, token, nx=True, px=self._ttl_ms))
        while not held and time.monotonic() < deadline:
            await asyncio.sleep(DEFAULT_POLL_S)
            held = bool(await self._redis.set(key, token, nx=True, px=self._ttl_ms))
        try:
            yield held
        finally:
            if held:
                await self._release(keys=[key], args=[token])
