"""Injected faults: API latency and errors, dropped, duplicated and reordered deliveries."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

BUDGETS = "/api/public/budgets"
Factory = Callable[..., Awaitable[RunningEmulator]]


async def hooked(emulator: RunningEmulator, sink: WebhookSink) -> None:
    created = await emulator.admin.create_key(webhookUrl=sink.url)
    sink.secrets = [created["webhookSecret"]]


async def test_api_error_rate_answers_500_internal_error(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.set_faults(api_error_rate=1.0)
    reply = await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    assert reply.status == 500
    assert reply.body["error"] == "internal_error"
    assert "X-RateLimit-Remaining" in reply.headers


async def _statuses_with_error_rate(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> list[int]:
    created = await emulator.admin.create_key()
    await emulator.admin.set_faults(api_error_rate=0.5)
    url = emulator.api_url + BUDGETS
    return [(await call_api(http_session, url, created["key"])).status for _ in range(20)]


async def test_fault_randomness_repeats_for_the_same_random_seed(
    emulator_factory: Factory, http_session: aiohttp.ClientSession
) -> None:
    first = await _statuses_with_error_rate(await emulator_factory(random_seed=7), http_session)
    second = await _statuses_with_error_rate(await emulator_factory(random_seed=7), http_session)
    other = await _statuses_with_error_rate(await emulator_factory(random_seed=8), http_session)
    assert first == second
    assert set(first) == {200, 500}
    assert other != first


async def test_api_latency_slows_answers(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.set_faults(api_latency_ms=150)
    started = time.monotonic()
    await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    assert time.monotonic() - started >= 0.15


async def test_clearing_faults_restores_normal_service(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.set_faults(api_error_rate=1.0)
    await emulator.admin.clear_faults()
    assert (await call_api(http_session, emulator.api_url + BUDGETS, key["key"])).status == 200


async def test_unknown_fault_names_are_rejected(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    async with http_session.post(
        emulator.base_url + "/__emulator/faults", json={"chaos": 1}
    ) as response:
        assert response.status == 422


async def test_dropped_deliveries_are_recorded_but_never_sent(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked(emulator, webhook_sink)
    await emulator.admin.set_faults(delivery_drop_rate=1.0)
    result = await emulator.admin.trigger("customer.created")
    [dropped] = await emulator.admin.deliveries(status="dropped")
    assert dropped["id"] == result["deliveries"][0]
    assert dropped["attempts"] == []
    await emulator.admin.clear_faults()
    await emulator.admin.redeliver(dropped["id"])
    [got] = await webhook_sink.wait_for(1)
    assert got.webhook_id == dropped["id"]


async def test_duplicate_deliveries_arrive_twice_with_the_same_id(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked(emulator, webhook_sink)
    await emulator.admin.set_faults(delivery_duplicate_rate=1.0)
    await emulator.admin.trigger("customer.created")
    first, second = await webhook_sink.wait_for(2)
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body
    assert second.verified_by_core and second.verified_by_standardwebhooks
    [delivery] = await emulator.admin.deliveries()
    assert [a["duplicate"] for a in delivery["attempts"]] == [False, True]


@pytest.mark.parametrize("batch", [2, 3, 5])
async def test_out_of_order_releases_a_held_batch_in_another_order(
    emulator: RunningEmulator, webhook_sink: WebhookSink, batch: int
) -> None:
    await hooked(emulator, webhook_sink)
    await emulator.admin.set_faults(delivery_out_of_order=True, out_of_order_batch=batch)
    ids = [
        (await emulator.admin.trigger("customer.created"))["deliveries"][0] for _ in range(batch)
    ]
    received = await webhook_sink.wait_for(batch)
    arrived = [r.webhook_id for r in received]
    assert sorted(arrived) == sorted(ids)
    assert arrived != ids


async def test_out_of_order_flushes_a_partial_batch_after_the_hold(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked(emulator, webhook_sink)
    await emulator.admin.set_faults(
        delivery_out_of_order=True, out_of_order_batch=5, out_of_order_hold_ms=50
    )
    await emulator.admin.trigger("customer.created")
    await emulator.admin.trigger("customer.created")
    assert len(await webhook_sink.wait_for(2, timeout_s=2)) == 2


async def test_delivery_latency_delays_each_attempt(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked(emulator, webhook_sink)
    await emulator.admin.set_faults(delivery_latency_ms=200)
    started = time.monotonic()
    await emulator.admin.trigger("customer.created")
    [got] = await webhook_sink.wait_for(1)
    assert got.at - started >= 0.2
