"""Webhook delivery to a real receiver: envelope, signatures, fan-out, retries, 410, rotation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

Factory = Callable[..., Awaitable[RunningEmulator]]
P = "/api/public"
CUSTOMER = {"firstName": "Ana", "lastName": "Ruiz"}


async def hooked_key(emulator: RunningEmulator, sink: WebhookSink, **spec: Any) -> dict[str, Any]:
    created = await emulator.admin.create_key(webhookUrl=sink.url, **spec)
    sink.secrets = [created["webhookSecret"]]
    return created


async def wait_state(
    emulator: RunningEmulator, delivery_id: str, state: str, timeout_s: float = 5
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        delivery = await emulator.admin.delivery(delivery_id)
        if delivery["state"] == state:
            return delivery
        if time.monotonic() > deadline:
            raise TimeoutError(f"delivery is {delivery['state']}, not {state}")
        await asyncio.sleep(0.01)


async def test_an_api_change_is_delivered_signed_in_the_billoget_envelope(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    created = await hooked_key(emulator, webhook_sink)
    url = emulator.api_url + P + "/customers"
    reply = await call_api(http_session, url, created["key"], "POST", json_body=CUSTOMER)
    [got] = await webhook_sink.wait_for(1)
    envelope = got.json
    assert envelope["event"] == "customer.created"
    assert envelope["data"] == reply.body["data"]
    assert envelope["metadata"]["source"] == "api"
    assert envelope["metadata"]["version"] == "1.4.0"
    assert envelope["metadata"]["delivery_id"] == got.webhook_id
    assert envelope["timestamp"].endswith("Z")
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 5
    assert got.headers["content-type"] == "application/json"
    assert got.verified_by_core is True
    assert got.verified_by_standardwebhooks is True


async def test_the_signature_does_not_verify_with_another_secret(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked_key(emulator, webhook_sink)
    webhook_sink.secrets = ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"]
    await emulator.admin.trigger("customer.created")
    [got] = await webhook_sink.wait_for(1)
    assert (got.verified_by_core, got.verified_by_standardwebhooks) == (False, False)


@pytest.mark.parametrize(
    ("spec", "delivered"),
    [
        ({}, True),
        ({"scopes": ["READ_BUDGETS"]}, False),
        ({"environment": "live"}, False),
        ({"status": "SUSPENDED"}, False),
        ({"status": "REVOKED"}, False),
    ],
)
async def test_events_go_to_active_webhooks_keys_of_the_same_environment(
    emulator: RunningEmulator, webhook_sink: WebhookSink, spec: dict[str, Any], delivered: bool
) -> None:
    await hooked_key(emulator, webhook_sink, **spec)
    result = await emulator.admin.trigger("customer.created", environment="test")
    assert bool(result["deliveries"]) is delivered


async def test_every_webhooks_key_gets_its_own_delivery(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    first = await hooked_key(emulator, webhook_sink)
    second = await hooked_key(emulator, webhook_sink)
    await emulator.admin.create_key()  # no webhook URL
    result = await emulator.admin.trigger("product.created")
    assert len(result["deliveries"]) == 2
    webhook_sink.secrets = [first["webhookSecret"], second["webhookSecret"]]
    received = await webhook_sink.wait_for(2)
    assert len({r.webhook_id for r in received}) == 2


TRIGGERS = [
    ("budget.created", None, "budget.created"),
    ("budget.updated", 1, "budget.updated"),
    ("budget.approved", 1, "budget.approved"),
    ("budget.rejected", 1, "budget.rejected"),
    ("budget.expired", 1, "budget.expired"),
    ("budget.deleted", 1, "budget.deleted"),
    ("customer.created", None, "customer.created"),
    ("customer.updated", 2, "customer.updated"),
    ("customer.deleted", 2, "customer.deleted"),
    ("product.created", None, "product.created"),
    ("product.updated", 3, "product.updated"),
    ("product.deleted", 3, "product.deleted"),
]


@pytest.mark.parametrize(("event", "entity_id", "expected"), TRIGGERS)
async def test_trigger_performs_the_change_and_emits_its_event(
    emulator: RunningEmulator,
    webhook_sink: WebhookSink,
    event: str,
    entity_id: int | None,
    expected: str,
) -> None:
    await emulator.admin.seed()
    await hooked_key(emulator, webhook_sink)
    result = await emulator.admin.trigger(event, entity_id)
    [got] = await webhook_sink.wait_for(1)
    assert got.json["event"] == expected
    assert got.json["data"] == result["data"]  # the resource as the API returns it (last state)
    assert got.json["metadata"]["source"] == ("system" if event == "budget.expired" else "web")
    assert got.verified_by_core and got.verified_by_standardwebhooks


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"event": "invoice.paid"}, 422),
        ({"event": "budget.approved"}, 422),
        ({"event": "budget.approved", "id": 99}, 404),
    ],
)
async def test_bad_triggers_are_refused(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    body: dict[str, Any],
    status: int,
) -> None:
    async with http_session.post(emulator.base_url + "/__emulator/trigger", json=body) as response:
        assert response.status == status


async def test_trigger_updated_applies_the_given_changes(emulator: RunningEmulator) -> None:
    await emulator.admin.seed()
    result = await emulator.admin.trigger("customer.updated", 1, changes={"lastName": "Nuevo"})
    assert result["data"]["lastName"] == "Nuevo"


async def test_failed_attempts_are_retried_with_the_same_id_and_fresh_attempts(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked_key(emulator, webhook_sink)
    webhook_sink.responses = [500, 503]
    result = await emulator.admin.trigger("customer.created")
    received = await webhook_sink.wait_for(3)
    assert {r.webhook_id for r in received} == {result["deliveries"][0]}
    assert all(r.verified_by_core for r in received)
    delivery = await wait_state(emulator, result["deliveries"][0], "delivered")
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert all(a["latency_ms"] >= 0 for a in delivery["attempts"])


async def test_retries_follow_the_scaled_schedule(
    emulator_factory: Factory, webhook_sink: WebhookSink
) -> None:
    emulator = await emulator_factory(time_factor=0.05, retry_schedule_s=(4.0,), jitter_ratio=0)
    await hooked_key(emulator, webhook_sink)
    webhook_sink.responses = [500]
    await emulator.admin.trigger("customer.created")
    first, second = await webhook_sink.wait_for(2)
    assert 0.18 <= second.at - first.at <= 0.6


async def test_retry_after_from_the_receiver_is_honoured(
    emulator_factory: Factory, webhook_sink: WebhookSink
) -> None:
    emulator = await emulator_factory(time_factor=0.01, retry_schedule_s=(1000.0,))
    await hooked_key(emulator, webhook_sink)
    webhook_sink.responses = [(429, {"Retry-After": "2"})]
    result = await emulator.admin.trigger("customer.created")
    first, second = await webhook_sink.wait_for(2, timeout_s=2)
    assert second.at - first.at < 1  # the schedule alone would wait 10 s
    delivery = await wait_state(emulator, result["deliveries"][0], "delivered")
    assert delivery["attempts"][0]["retry_after_s"] == 2


async def test_a_delivery_fails_once_the_schedule_is_spent(
    emulator_factory: Factory, webhook_sink: WebhookSink
) -> None:
    emulator = await emulator_factory(retry_schedule_s=(1.0, 1.0))
    await hooked_key(emulator, webhook_sink)
    webhook_sink.responses = [500, 500, 500, 500]
    result = await emulator.admin.trigger("customer.created")
    delivery = await wait_state(emulator, result["deliveries"][0], "failed")
    assert len(delivery["attempts"]) == 3
    assert [d["id"] for d in await emulator.admin.deliveries(status="failed")] == result[
        "deliveries"
    ]


async def test_connection_errors_are_recorded_and_retried(emulator_factory: Factory) -> None:
    emulator = await emulator_factory(retry_schedule_s=(1.0,))
    await emulator.admin.create_key(webhookUrl="http://127.0.0.1:9/unreachable")
    result = await emulator.admin.trigger("customer.created")
    delivery = await wait_state(emulator, result["deliveries"][0], "failed")
    assert [a["status_code"] for a in delivery["attempts"]] == [None, None]
    assert delivery["attempts"][0]["error"].startswith("connection error")


async def test_a_slow_receiver_times_out_and_is_retried(
    emulator_factory: Factory, webhook_sink: WebhookSink
) -> None:
    emulator = await emulator_factory(delivery_timeout_s=0.05, retry_schedule_s=(1.0,))
    await hooked_key(emulator, webhook_sink)
    webhook_sink.delay_s = 0.2
    result = await emulator.admin.trigger("customer.created")
    delivery = await wait_state(emulator, result["deliveries"][0], "failed")
    assert [a["error"] for a in delivery["attempts"]] == ["timeout after 0.05 s"] * 2


async def test_410_disables_the_endpoint_until_a_patch(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    created = await hooked_key(emulator, webhook_sink)
    webhook_sink.responses = [410]
    result = await emulator.admin.trigger("customer.created")
    delivery = await wait_state(emulator, result["deliveries"][0], "disabled")
    assert len(delivery["attempts"]) == 1
    [listed] = await emulator.admin.keys()
    assert listed["webhookEndpointDisabled"] is True
    assert listed["webhookUrl"] == webhook_sink.url
    assert (await emulator.admin.trigger("customer.created"))["deliveries"] == []
    await emulator.admin.update_key(created["id"], webhookUrl=webhook_sink.url)
    assert len((await emulator.admin.trigger("customer.created"))["deliveries"]) == 1
    await webhook_sink.wait_for(2)


async def test_redeliver_sends_again_with_the_same_id(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await hooked_key(emulator, webhook_sink)
    result = await emulator.admin.trigger("customer.created")
    await webhook_sink.wait_for(1)
    delivery_id = result["deliveries"][0]
    await wait_state(emulator, delivery_id, "delivered")
    await emulator.admin.redeliver(delivery_id)
    first, second = await webhook_sink.wait_for(2)
    assert first.webhook_id == second.webhook_id == delivery_id
    assert first.body == second.body
    delivery = await wait_state(emulator, delivery_id, "delivered")
    assert len(delivery["attempts"]) == 2


@pytest.mark.parametrize(("grace_s", "old_verifies"), [(3600, True), (0, False)])
async def test_rotated_secrets_sign_with_old_and_new_during_grace(
    emulator: RunningEmulator, webhook_sink: WebhookSink, grace_s: float, old_verifies: bool
) -> None:
    created = await hooked_key(emulator, webhook_sink)
    rotated = await emulator.admin.rotate_secret(created["id"], grace_s=grace_s)
    assert rotated["webhookSecret"] != created["webhookSecret"]
    await emulator.admin.trigger("customer.created")
    [got] = await webhook_sink.wait_for(1)
    assert len(got.headers["webhook-signature"].split()) == (2 if old_verifies else 1)
    webhook_sink.secrets = [rotated["webhookSecret"]]
    webhook_sink.check(got)
    assert got.verified_by_core and got.verified_by_standardwebhooks
    webhook_sink.secrets = [created["webhookSecret"]]
    webhook_sink.check(got)
    assert got.verified_by_core is old_verifies
    assert got.verified_by_standardwebhooks is old_verifies


async def test_grace_period_ends_and_old_secret_stops_signing(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    created = await hooked_key(emulator, webhook_sink)
    await emulator.admin.rotate_secret(created["id"], grace_s=0.1)
    await asyncio.sleep(0.15)
    await emulator.admin.trigger("customer.created")
    [got] = await webhook_sink.wait_for(1)
    assert len(got.headers["webhook-signature"].split()) == 1


async def test_deliveries_are_concurrent_but_bounded(
    emulator_factory: Factory, webhook_sink: WebhookSink
) -> None:
    emulator = await emulator_factory(max_concurrent_deliveries=2)
    await hooked_key(emulator, webhook_sink)
    webhook_sink.delay_s = 0.1
    for _ in range(6):
        await emulator.admin.trigger("customer.created")
    await emulator.admin.wait_for_deliveries(6)
    assert webhook_sink.max_in_flight == 2


async def test_a_slow_receiver_never_blocks_the_api(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    created = await hooked_key(emulator, webhook_sink)
    webhook_sink.delay_s = 1.0
    started = time.monotonic()
    url = emulator.api_url + P + "/customers"
    for _ in range(3):
        assert (
            await call_api(http_session, url, created["key"], "POST", json_body=CUSTOMER)
        ).status == 201
    assert time.monotonic() - started < 0.5
    await webhook_sink.wait_for(3)
