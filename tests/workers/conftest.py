"""Workers' tests run the real emulator (tests/fixtures/emulator.py) and real workers
(tests/fixtures/workers.py) on the test Redis and a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis

from tests.fixtures.emulator import *  # noqa: F403 - every emulator fixture, whatever its name
from tests.fixtures.emulator import RunningEmulator, WebhookSink
from tests.fixtures.workers import RunningWorker, StartWorker, start_worker

__all__ = ["start_worker"]

ALL_READ_SCOPES = ["READ_BUDGETS", "READ_CUSTOMERS", "READ_PRODUCTS", "WEBHOOKS"]


@dataclass
class Billoget:
    """An emulated Billoget whose webhooks go to the sink, and a worker using its key."""

    emulator: RunningEmulator
    sink: WebhookSink
    key: dict[str, Any]
    start_worker: StartWorker

    async def worker(self, **overrides: Any) -> RunningWorker:
        settings: dict[str, Any] = {
            "billoget_api_url": self.emulator.api_url,
            "billoget_api_key": self.key["key"],
            "worker_retry_base_s": 0.05,
            "worker_retry_cap_s": 0.5,
        }
        return await self.start_worker(**(settings | overrides))

    async def api_requests(self) -> list[dict[str, Any]]:
        return await self.emulator.admin.requests()


MakeBilloget = Callable[..., Awaitable[Billoget]]


@pytest.fixture
def make_billoget(
    emulator: RunningEmulator, webhook_sink: WebhookSink, start_worker: StartWorker
) -> MakeBilloget:
    async def make(**key_spec: Any) -> Billoget:
        spec = {"scopes": ALL_READ_SCOPES, "webhookUrl": webhook_sink.url} | key_spec
        key = await emulator.admin.create_key(**spec)
        return Billoget(emulator, webhook_sink, key, start_worker)

    return make


@pytest.fixture
async def billoget(make_billoget: MakeBilloget) -> Billoget:
    return await make_billoget()


@pytest.fixture
async def async_redis(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """An asyncio client of the test Redis database (emptied by ``redis_url``)."""
    client = aioredis.Redis.from_url(redis_url)
    yield client
    await client.aclose()
