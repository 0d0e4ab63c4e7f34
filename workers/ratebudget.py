"""The API rate budget, shared by every worker process through Redis.

Three rules, checked atomically by one Lua script before each API call:

1. a *sliding window* of our own calls (a sorted set of call times): at most
   ``min(budget_per_hour, X-RateLimit-Limit) - reserve`` calls per window;
2. a *block* until a moment (after a 429's ``Retry-After``, or when ``X-RateLimit-Remaining``
   has fallen to the reserve: until ``X-RateLimit-Reset``);
3. *pacing* once ``Remaining`` is low: calls are spread evenly until the reset.

The latest ``X-RateLimit-*`` values (from any worker) live in a Redis hash. ``acquire`` answers
with the seconds to wait (0 = go); callers wait briefly or re-enqueue the event with a delay.

Clocks: the window, the pacing gap and the block are kept in Redis time (the scripts,
``workers/lua/budget_*.lua``, read ``TIME``), so for them the workers' clocks do not matter.
``X-RateLimit-Reset`` is Billoget's absolute Unix time; :meth:`RateBudget.acquire` and
:meth:`RateBudget.learn` compare it with this worker's ``time.time()`` (a worker whose clock is
S seconds off waits for a reset S seconds off, and the hash's TTL is off by as much).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass

import redis.asyncio as aioredis

from core.queue import API_BUDGET_PREFIX
from workers.lua import script

log = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 3600


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """The latest ``X-RateLimit-*`` values Billoget sent for the key."""

    limit: int
    remaining: int
    reset_at: float
    window_s: int


class RateBudget:
    """One API key's budget. ``scope`` names the key (its safe prefix), never the key itself."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        scope: str,
        budget_per_hour: int,
        reserve: int,
        pace_below: int,
    ) -> None:
        self._redis = client
        base = f"{API_BUDGET_PREFIX}:{scope}"
        self._calls_key = f"{base}:calls"
        self._pace_key = f"{base}:next"
        self._block_key = f"{base}:blocked-until"
        self._server_key = f"{base}:server"
        self._budget_per_hour = budget_per_hour
        self._reserve = reserve
        self._pace_below = pace_below
        self._acquire = client.register_script(script("budget_acquire"))
        self._block = client.register_script(script("budget_block"))

    async def acquire(self) -> float:
        """Take one call from the budget: 0.0 if granted, else the seconds to wait first."""
        server = await self.server_limits()
        window_s = DEFAULT_WINDOW_S
        limit = self._budget_per_hour
        gap = 0.0
        if server is not None:
            window_s = max(1, server.window_s)
            limit = min(limit, server.limit)
            now = time.time()
            if server.reset_at > now:
                usable = server.remaining - self._reserve
                if usable <= 0:
                    await self.block_for(server.reset_at - now)
                    return server.reset_at - now
                if server.remaining < self._pace_below:
                    gap = (server.reset_at - now) / usable
        limit = max(1, limit - self._reserve)
        answer = await self._acquire(
            keys=[self._calls_key, self._pace_key, self._block_key],
            args=[window_s, limit, f"{gap:.6f}", uuid.uuid4().hex],
        )
        return float(answer)

    async def block_for(self, seconds: float) -> None:
        """No call from any worker for ``seconds`` (e.g. a 429's ``Retry-After``)."""
        if seconds > 0:
            await self._block(keys=[self._block_key], args=[f"{seconds:.3f}"])

    async def learn(self, *, limit: int, remaining: int, reset_at: float, window_s: int) -> None:
        """Record the ``X-RateLimit-*`` values of a response."""
        ttl_ms = max(1000, int((reset_at - time.time()) * 1000) + 1000)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(
                self._server_key,
                mapping={
                    "limit": limit,
                    "remaining": remaining,
                    "reset_at": reset_at,
                    "window_s": window_s,
                },
            )
            pipe.pexpire(self._server_key, ttl_ms)
            await pipe.execute()

    async def server_limits(self) -> ServerLimits | None:
        raw = await self._redis.hgetall(self._server_key)
        if not raw:
            return None
        try:
            return ServerLimits(
                limit=int(raw[b"limit"]),
                remaining=int(raw[b"remaining"]),
                reset_at=float(raw[b"reset_at"]),
                window_s=int(float(raw[b"window_s"])),
            )
        except (KeyError, ValueError):
            log.warning("ignoring malformed rate-limit record in Redis")
            return None
