"""Configuration problems the workers hit (a rejected key, a missing scope), reported once.

Each problem is logged once per process at WARNING/ERROR with a plain sentence, recorded in the
Redis hash ``billoget-hooks:worker:problems`` (problem → JSON ``{"message", "at"}``) for the
self-check and ``/readyz``, and *remembered* for ``problem_ttl_s`` so that every worker skips
the doomed API call instead of asking again for each event. After the TTL one call probes again.
"""

from __future__ import annotations

import json
import logging
import time

import redis.asyncio as aioredis

from core.queue import WORKER_PROBLEM_PREFIX, WORKER_PROBLEMS_KEY

log = logging.getLogger(__name__)


class ProblemBoard:
    def __init__(self, client: aioredis.Redis, *, ttl_s: float) -> None:
        self._redis = client
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._reported: set[str] = set()

    async def report(
        self, name: str, message: str, *, detail: str = "", level: int = logging.WARNING
    ) -> None:
        """Log ``message`` (first time in this process), record it and remember it (with a
        short ``detail`` such as Billoget's error code)."""
        if name not in self._reported:
            self._reported.add(name)
            log.log(level, "%s", message)
        record = json.dumps({"message": message, "at": time.time()})
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(WORKER_PROBLEMS_KEY, name, record)
            pipe.set(WORKER_PROBLEM_PREFIX + name, detail or name, px=self._ttl_ms)
            await pipe.execute()

    async def active(self, name: str) -> str | None:
        """The detail of a remembered problem (skip the API call), else None."""
        value = await self._redis.get(WORKER_PROBLEM_PREFIX + name)
        return None if value is None else _text(value)

    async def clear(self, *names: str) -> None:
        """The problems are gone (a call succeeded): forget them."""
        for name in names:
            if name in self._reported:
                self._reported.discard(name)
                log.info("resolved: %s", name)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hdel(WORKER_PROBLEMS_KEY, *names)
            pipe.delete(*(WORKER_PROBLEM_PREFIX + n for n in names))
            await pipe.execute()

    async def all(self) -> dict[str, str]:
        raw = await self._redis.hgetall(WORKER_PROBLEMS_KEY)
        return {_text(k): json.loads(v)["message"] for k, v in raw.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
