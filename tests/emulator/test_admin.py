"""The admin API: keys, fixed credentials, seeding, the request log, state and reset."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulator.client import EmulatorError
from tests.fixtures.emulator import RunningEmulator, call_api

BUDGETS = "/api/public/budgets"
FIXED_KEY = "bk_test_" + "Fixed0Key0For0Dev0Setups0123456"[:32]
FIXED_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def test_request_log_records_api_calls_but_not_admin_calls(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    await call_api(http_session, emulator.base_url + BUDGETS + "/5", key["key"])
    await call_api(http_session, emulator.api_url + BUDGETS, None)
    await emulator.admin.keys()
    log = await emulator.admin.requests()
    summary = [(e["method"], e["path"], e["keyPrefix"], e["status"]) for e in log]
    assert summary == [
        ("GET", "/v1/api/public/budgets", key["key"][:12], 200),
        ("GET", "/api/public/budgets/5", key["key"][:12], 404),
        ("GET", "/v1/api/public/budgets", None, 401),
    ]
    assert all(e["at"].endswith("Z") for e in log)


async def test_request_log_can_be_cleared(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    await emulator.admin.clear_requests()
    assert await emulator.admin.requests() == []


async def test_a_key_can_be_created_with_fixed_credentials(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession
) -> None:
    created = await emulator.admin.create_key(key=FIXED_KEY, webhookSecret=FIXED_SECRET)
    assert (created["key"], created["webhookSecret"]) == (FIXED_KEY, FIXED_SECRET)
    assert (await call_api(http_session, emulator.api_url + BUDGETS, FIXED_KEY)).status == 200


@pytest.mark.parametrize(
    "spec",
    [
        {"key": "bk_live_" + "a" * 32},  # environment mismatch
        {"key": "nope"},
        {"webhookSecret": "whsec_!!"},
        {"scopes": ["READ_EVERYTHING"]},
        {"status": "SLEEPING"},
        {"environment": "staging"},
        {"rateLimitPerHour": 0},
        {"allowedIps": ["not-an-ip"]},
    ],
)
async def test_bad_key_specs_are_rejected(emulator: RunningEmulator, spec: dict[str, Any]) -> None:
    with pytest.raises(EmulatorError) as caught:
        await emulator.admin.create_key(**spec)
    assert caught.value.status == 422


async def test_patching_a_key_changes_scopes_and_limits(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    updated = await emulator.admin.update_key(
        key["id"], scopes=["READ_CUSTOMERS"], rateLimitPerHour=5
    )
    assert updated["scopes"] == ["READ_CUSTOMERS"]
    reply = await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    assert reply.status == 403
    assert reply.headers["X-RateLimit-Limit"] == "5"


async def test_unknown_admin_ids_are_404(emulator: RunningEmulator) -> None:
    for call in (emulator.admin.update_key(99, name="x"), emulator.admin.redeliver("dlv_nope")):
        with pytest.raises(EmulatorError) as caught:
            await call
        assert caught.value.status == 404


async def test_seed_creates_demo_data_per_environment(emulator: RunningEmulator) -> None:
    seeded = await emulator.admin.seed("live")
    assert seeded["data"] == {
        "customers": [1, 2, 3],
        "products": [1, 2, 3],
        "budgets": [1, 2, 3],
        "approvals": [1, 2, 3],
        "approvers": [1],
    }
    assert len((await emulator.admin.state("live"))["budgets"]) == 3
    assert (await emulator.admin.state("test"))["budgets"] == []


async def test_reset_wipes_keys_data_deliveries_and_log(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.seed()
    await call_api(http_session, emulator.api_url + BUDGETS, key["key"])
    await emulator.admin.reset()
    assert await emulator.admin.keys() == []
    assert await emulator.admin.requests() == []
    assert (await emulator.admin.state())["customers"] == []
    assert (await call_api(http_session, emulator.api_url + BUDGETS, key["key"])).status == 401


async def test_seeded_app_starts_with_a_demo_key_holding_every_scope(emulator_factory: Any) -> None:
    emulator = await emulator_factory(seed=True)
    [demo] = await emulator.admin.keys()
    assert len(demo["scopes"]) == 7
    assert demo["name"] == "demo"
    assert len((await emulator.admin.state())["budgets"]) == 3
    assert await emulator.admin.deliveries() == []
