"""Retry policy, routing and the shared rate budget (real Redis)."""

from __future__ import annotations

import random
import time

import pytest
import redis.asyncio as aioredis

from workers.handlers.context import HandlerContext
from workers.handlers.registry import HandlerRegistry
from workers.processing import classify
from workers.ratebudget import RateBudget
from workers.retry import RetryPolicy


def test_backoff_is_full_jitter_under_a_doubling_capped_ceiling() -> None:
    policy = RetryPolicy(base_s=1, cap_s=10, max_attempts=5, rng=random.Random(1))
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (40, 10)]:
        delays = [policy.delay_s(attempt) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling / 2


def test_retry_after_is_a_floor_of_the_backoff() -> None:
    policy = RetryPolicy(base_s=1, cap_s=100, rng=random.Random(2))
    assert all(policy.delay_s(1, retry_after_s=30) >= 30 for _ in range(50))


def test_the_policy_says_when_attempts_are_exhausted() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.exhausted(n) for n in (1, 2, 3, 4)] == [False, False, True, True]


async def _noop(ctx: HandlerContext) -> None:
    return None


async def _other(ctx: HandlerContext) -> None:
    return None


def test_routing_matches_exact_type_family_wildcard_and_catch_all_in_order() -> None:
    registry = HandlerRegistry()
    registry.add("budget.*", _noop)
    registry.on("budget.approved", "*")(_other)
    assert registry.resolve("budget.approved") == [_noop, _other]
    assert registry.resolve("budget.created") == [_noop, _other]
    assert registry.resolve("invoice.paid") == [_other]
    assert HandlerRegistry().resolve("budget.created") == []


@pytest.mark.parametrize("pattern", ["budget", "*.created", "budget.app*", ""])
def test_a_malformed_handler_pattern_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="handler pattern"):
        HandlerRegistry().on(pattern)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (ValueError("no"), "dead"),
        (RuntimeError("boom"), "retry"),
        (TimeoutError(), "retry"),
    ],
)
def test_exceptions_map_to_outcomes(exc: Exception, kind: str) -> None:
    assert classify(exc).kind == kind


async def test_the_rate_budget_is_shared_and_says_how_long_to_wait(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        one, two = (
            RateBudget(client, scope="k", budget_per_hour=5, reserve=2, pace_below=0)
            for _ in range(2)
        )
        grants = [await budget.acquire() for budget in (one, two, one, two)]
        assert grants[:3] == [0.0, 0.0, 0.0]
        assert 3590 < grants[3] <= 3600
    finally:
        await client.aclose()


async def test_the_rate_budget_waits_for_the_reset_when_billoget_says_little_remains(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        budget = RateBudget(client, scope="k", budget_per_hour=1000, reserve=50, pace_below=100)
        await budget.learn(limit=1000, remaining=50, reset_at=time.time() + 120, window_s=3600)
        assert 110 < await budget.acquire() <= 120
        await budget.learn(limit=1000, remaining=60, reset_at=time.time() + 100, window_s=3600)
        await client.delete("billoget-hooks:api-budget:k:blocked-until")
        assert await budget.acquire() == 0.0  # paced: one call now, the next in ~10 s
        assert 9 < await budget.acquire() <= 10
    finally:
        await client.aclose()


async def test_a_429_blocks_every_worker_for_its_retry_after(redis_url: str) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        budget = RateBudget(client, scope="k", budget_per_hour=1000, reserve=0, pace_below=0)
        await budget.block_for(2.0)
        assert 1.5 < await budget.acquire() <= 2.0
    finally:
        await client.aclose()


async def test_background_calls_take_at_most_their_share_and_stand_aside_for_live_events(
    redis_url: str,
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    try:
        budget = RateBudget(client, scope="k", budget_per_hour=20, reserve=0, pace_below=0)
        grants = [await budget.acquire_background(share=0.2) for _ in range(5)]
        assert grants[:4] == [0.0] * 4  # 0.2 of 20
        assert 3590 < grants[4] <= 3600
        assert [await budget.acquire() for _ in range(16)] == [0.0] * 16  # live: the rest
        assert await budget.acquire() > 0  # live events now wait...

        await client.zpopmin("billoget-hooks:api-budget:k:calls")  # a slot frees up:
        assert await budget.acquire_background(share=1.0) > 3000  # it is the live events'
        assert await budget.acquire() == 0.0
    finally:
        await client.aclose()
