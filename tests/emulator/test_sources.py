"""``metadata.source`` says who made the change (Billoget's docs): the API, the dashboard
(the emulator's admin routes), Billoget itself (expiry), or the test endpoint."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator.client import EmulatorError
from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

P = "/api/public"


async def _hooked(emulator: RunningEmulator, sink: WebhookSink) -> str:
    created = await emulator.admin.create_key(webhookUrl=sink.url)
    sink.secrets = [created["webhookSecret"]]
    return str(created["key"])


async def test_api_changes_are_source_api_and_dashboard_changes_source_web(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    key = await _hooked(emulator, webhook_sink)
    body = {"firstName": "Ana", "lastName": "Ruiz"}
    await call_api(http_session, emulator.api_url + P + "/customers", key, "POST", json_body=body)
    await emulator.admin.trigger("customer.updated", 1, changes={"email": "ana@example.org"})
    await emulator.admin.trigger("customer.deleted", 1)
    got = await webhook_sink.wait_for(3)
    assert [(g.json["event"], g.json["metadata"]["source"]) for g in got] == [
        ("customer.created", "api"),
        ("customer.updated", "web"),
        ("customer.deleted", "web"),
    ]
    assert got[2].json["data"]["email"] == "ana@example.org"  # the last state
    assert {g.json["metadata"]["version"] for g in got} == {"1.4.0"}


async def test_expiry_is_source_system_and_leaves_the_budget_generated(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await emulator.admin.seed()
    await _hooked(emulator, webhook_sink)
    await emulator.admin.trigger("budget.expired", 1)
    [got] = await webhook_sink.wait_for(1)
    assert (got.json["metadata"]["source"], got.json["data"]["state"]) == ("system", 0)
    assert got.json["data"]["expirationDate"] < got.json["timestamp"]


async def test_the_test_endpoint_is_source_test(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, webhook_sink: WebhookSink
) -> None:
    key = await _hooked(emulator, webhook_sink)
    body = {"event": "connection_test", "data": {"sdk_version": "1.1.0"}}
    await call_api(
        http_session, emulator.api_url + P + "/webhooks/test", key, "POST", json_body=body
    )
    [got] = await webhook_sink.wait_for(1)
    assert got.json["metadata"]["source"] == "test"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"comments": 5}, "comments"),
        ({"expirationDate": "soon"}, "expirationDate"),
        ({"title": "x"}, "title"),
    ],
)
async def test_dashboard_budget_changes_are_typed_as_the_sdk_types_them(
    emulator: RunningEmulator, changes: dict[str, Any], field: str
) -> None:
    await emulator.admin.seed()
    with pytest.raises(EmulatorError) as caught:
        await emulator.admin.trigger("budget.updated", 1, changes=changes)
    assert caught.value.status == 422
    assert field in str(caught.value)


async def test_dashboard_budget_changes_apply_and_are_sent(
    emulator: RunningEmulator, webhook_sink: WebhookSink
) -> None:
    await emulator.admin.seed()
    await _hooked(emulator, webhook_sink)
    changes = {"comments": "revised", "expirationDate": "2999-01-01T00:00:00Z", "isArchived": True}
    result = await emulator.admin.trigger("budget.updated", 1, changes=changes)
    [got] = await webhook_sink.wait_for(1)
    assert got.json["data"] == result["data"]
    assert (result["data"]["comments"], result["data"]["isArchived"]) == ("revised", True)
    assert result["data"]["expirationDate"] == "2999-01-01T00:00:00.000Z"
