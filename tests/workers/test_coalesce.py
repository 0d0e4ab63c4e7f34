"""Coalescing: when the mirror already covers an event, and the per-entity fetch lock (real
Redis)."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from core.queue import FETCH_LOCK_PREFIX
from core.store.sqlite.mirror import MirrorRow
from workers.coalesce import EntityLock, mirror_covers

T1, T2 = "2024-01-01T00:00:01.000000Z", "2024-01-01T00:00:02.000000Z"


def _row(
    *, updated_at: str | None = T1, fetched_at: str | None = T1, deleted: bool = False
) -> MirrorRow:
    return MirrorRow("budget", "7", {}, updated_at, deleted, None, fetched_at, "d")


@pytest.mark.parametrize(
    ("row", "event_updated_at", "event_time", "covered"),
    [
        (None, T1, T1, False),
        (_row(deleted=True), T2, T2, True),
        (_row(updated_at=T2), "2024-01-01T00:00:01Z", T2, True),
        (_row(updated_at=T1), T2, T1, False),
        (_row(updated_at=None, fetched_at=T2), None, T1, True),
        (_row(updated_at=None, fetched_at=T1), None, T2, False),
        (_row(updated_at=T2, fetched_at=None), None, T1, False),
    ],
)
def test_the_mirror_covers_an_event_when_it_is_at_least_as_new(
    row: MirrorRow | None, event_updated_at: str | None, event_time: str, covered: bool
) -> None:
    assert mirror_covers(row, event_updated_at=event_updated_at, event_time=event_time) is covered


async def test_one_worker_holds_an_entity_the_other_waits_then_gives_up(
    async_redis: aioredis.Redis,
) -> None:
    lock = EntityLock(async_redis, ttl_s=5)
    async with lock.hold("budget:7", wait_s=1) as first:
        async with lock.hold("budget:7", wait_s=0.1) as second:
            assert (first, second) == (True, False)
        async with lock.hold("budget:8", wait_s=0.1) as other:
            assert other  # another entity is not blocked
    async with lock.hold("budget:7", wait_s=0.1) as again:
        assert again  # released by its holder


async def test_a_waiter_gets_the_lock_as_soon_as_the_holder_lets_go(
    async_redis: aioredis.Redis,
) -> None:
    lock = EntityLock(async_redis, ttl_s=5)
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with lock.hold("customer:3", wait_s=1) as held:
            assert held
            holding.set()
            await release.wait()

    task = asyncio.create_task(holder())
    await holding.wait()
    release.set()
    async with lock.hold("customer:3", wait_s=5) as held:
        assert held
    await task


async def test_an_expired_lock_taken_by_another_is_not_released_by_its_old_holder(
    async_redis: aioredis.Redis,
) -> None:
    lock = EntityLock(async_redis, ttl_s=5)
    key = FETCH_LOCK_PREFIX + "product:9"
    async with lock.hold("product:9", wait_s=0.1) as held:
        assert held
        await async_redis.set(key, "someone-else")  # as if ours expired and another took it
    assert await async_redis.get(key) == b"someone-else"
