"""``POST /api/public/webhooks/test``: its reply, and the signed test delivery it sends."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

TEST_ENDPOINT = "/api/public/webhooks/test"


async def test_reply_names_the_key_by_prefix_only(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    body = {"event": "budget.created", "data": {"id": 1}}
    reply = await call_api(
        http_session, emulator.api_url + TEST_ENDPOINT, key["key"], "POST", json_body=body
    )
    assert reply.status == 200
    assert set(reply.body) == {"data", "meta"}
    data = reply.body["data"]
    assert set(data) == {"message", "timestamp", "apiKey"}
    assert data["apiKey"] == key["key"][:12]
    assert key["key"] not in str(reply.body)
    assert data["timestamp"].endswith("Z")


async def test_it_delivers_a_signed_event_with_the_given_event_and_data(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    created = await emulator.admin.create_key(webhookUrl=webhook_sink.url)
    webhook_sink.secrets = [created["webhookSecret"]]
    body = {"event": "budget.approved", "data": {"id": 77, "check": "selfcheck-123"}}
    reply = await call_api(
        http_session, emulator.api_url + TEST_ENDPOINT, created["key"], "POST", json_body=body
    )
    assert reply.status == 200
    [got] = await webhook_sink.wait_for(1)
    assert got.json["event"] == "budget.approved"
    assert got.json["data"] == {"id": 77, "check": "selfcheck-123"}
    assert got.json["metadata"]["delivery_id"] == got.webhook_id
    assert got.verified_by_core and got.verified_by_standardwebhooks


async def test_it_delivers_only_to_the_calling_key(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    caller = await emulator.admin.create_key(webhookUrl=webhook_sink.url)
    await emulator.admin.create_key(webhookUrl=webhook_sink.url)
    await call_api(
        http_session,
        emulator.api_url + TEST_ENDPOINT,
        caller["key"],
        "POST",
        json_body={"event": "x"},
    )
    [delivery] = await emulator.admin.deliveries()
    assert delivery["keyId"] == caller["id"]


@pytest.mark.parametrize("body", [{"event": 5}, {"event": "x", "data": [1, 2]}, {"event": ""}])
async def test_a_bad_body_is_422(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    key: dict[str, Any],
    body: dict[str, Any],
) -> None:
    reply = await call_api(
        http_session, emulator.api_url + TEST_ENDPOINT, key["key"], "POST", json_body=body
    )
    assert reply.status == 422
    assert reply.body["error"] == "validation_error"
