"""The shared rate budget (real Redis)."""

from __future__ import annotations

import time

import redis.asyncio as aioredis

from workers.ratebudget import RateBudget


async def test_the_rate_budget_is_shared_and_says_how_long_to_wait(
    async_redis: aioredis.Redis,
) -> None:
    one, two = (
        RateBudget(async_redis, scope="k", budget_per_hour=5, reserve=2, pace_below=0)
        for _ in range(2)
    )
    grants = [await budget.acquire() for budget in (one, two, one, two)]
    assert grants[:3] == [0.0, 0.0, 0.0]
    assert 3590 < grants[3] <= 3600


async def test_the_rate_budget_waits_for_the_reset_when_billoget_says_little_remains(
    async_redis: aioredis.Redis,
) -> None:
    budget = RateBudget(async_redis, scope="k", budget_per_hour=1000, reserve=50, pace_below=100)
    await budget.learn(limit=1000, remaining=50, reset_at=time.time() + 120, window_s=3600)
    assert 110 < await budget.acquire() <= 120
    await budget.learn(limit=1000, remaining=60, reset_at=time.time() + 100, window_s=3600)
    await async_redis.delete("billoget-hooks:api-budget:k:blocked-until")
    assert await budget.acquire() == 0.0  # paced: one call now, the next in ~10 s
    assert 9 < await budget.acquire() <= 10


async def test_a_429_blocks_every_worker_for_its_retry_after(async_redis: aioredis.Redis) -> None:
    budget = RateBudget(async_redis, scope="k", budget_per_hour=1000, reserve=0, pace_below=0)
    await budget.block_for(2.0)
    assert 1.5 < await budget.acquire() <= 2.0
