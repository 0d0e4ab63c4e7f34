"""One reconciler at a time: a lease in Redis, renewed while held, handed over when it lapses.

The holder renews it every third of its lifetime; a holder that dies (kill -9, a lost host)
stops renewing, the lease expires, and the next worker (or ``billoget-hooks reconcile``) takes
it and resumes from the saved cursor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator

import redis.asyncio as aioredis

from workers.lua import script

log = logging.getLogger(__name__)

LEASE_KEY = "billoget-hooks:reconcile:lease"
DEFAULT_LEASE_S = 10.0


class LeaseLost(Exception):
    """Another reconciler holds the lease now (ours lapsed)."""


class Lease:
    def __init__(self, client: aioredis.Redis, *, ttl_s: float = DEFAULT_LEASE_S) -> None:
        self._redis = client
        self._ttl_ms = max(1000, int(ttl_s * 1000))
        self._renew = client.register_script(script("lease_renew"))
        self._release = client.register_script(script("token_release"))

    async def holder_ttl_s(self) -> float:
        """Seconds until the current lease lapses (0 when nobody holds it)."""
        ttl_ms = await self._redis.pttl(LEASE_KEY)
        return max(0.0, ttl_ms / 1000)

    @contextlib.asynccontextmanager
    async def hold(self, *, wait_s: float = 0.0) -> AsyncIterator[bool]:
        """Try to take the lease (waiting up to ``wait_s``); yields whether it is held, and
        keeps renewing it in the background until the block ends."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + wait_s
        held = bool(await self._redis.set(LEASE_KEY, token, nx=True, px=self._ttl_ms))
        while not held and time.monotonic() < deadline:
            await asyncio.sleep(min(0.5, max(0.05, deadline - time.monotonic())))
            held = bool(await self._redis.set(LEASE_KEY, token, nx=True, px=self._ttl_ms))
        if not held:
            yield False
            return
        renewer = asyncio.create_task(self._keep(token))
        try:
            yield True
        finally:
            renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renewer
            await self._release(keys=[LEASE_KEY], args=[token])

    async def _keep(self, token: str) -> None:
        while True:
            await asyncio.sleep(self._ttl_ms / 3000)
            try:
                if not await self._renew(keys=[LEASE_KEY], args=[token, self._ttl_ms]):
                    log.warning("the reconciliation lease was lost to another holder")
                    return
            except aioredis.RedisError as exc:
                log.warning("renewing the reconciliation lease failed: %s", exc)
