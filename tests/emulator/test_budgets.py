"""Budgets, approvals and the public token (UBS) over the API: filters, the CHANGELOG's public
create, state driven by approvals and by the customer, and the webhooks those changes send."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from tests.emulator.test_sdk_contract import NEW_BUDGET
from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

P = "/api/public"
A = P + "/budget-approvals"


@pytest.fixture
async def seeded(emulator: RunningEmulator, key: dict[str, Any]) -> str:
    await emulator.admin.seed()
    return str(key["key"])


async def hooked(emulator: RunningEmulator, sink: WebhookSink) -> str:
    created = await emulator.admin.create_key(webhookUrl=sink.url)
    sink.secrets = [created["webhookSecret"]]
    return str(created["key"])


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("?status=0", [1]),
        ("?status=1", [2]),
        ("?state=2", [3]),
        ("?customerId=3", [3]),
        ("?search=carla", [3]),
        ("?search=2", [2]),
        ("?search=website", [1, 2, 3]),
        ("?startDate=2000-01-01&endDate=2999-12-31", [1, 2, 3]),
        ("?endDate=2000-01-01", []),
        ("?status=1&customerId=1", []),
    ],
)
async def test_budget_list_filters_are_applied(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    query: str,
    ids: list[int],
) -> None:
    reply = await call_api(http_session, emulator.api_url + P + "/budgets" + query, seeded)
    assert reply.status == 200
    assert [b["id"] for b in reply.body["data"]] == ids


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?status=PENDING", "status"),
        ("?customerId=x", "customerId"),
        ("?startDate=soon", "startDate"),
    ],
)
async def test_bad_budget_filters_are_422_naming_the_parameter(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    query: str,
    field: str,
) -> None:
    reply = await call_api(http_session, emulator.api_url + P + "/budgets" + query, seeded)
    assert reply.status == 422
    assert [d["field"] for d in reply.body["details"]] == [field]


async def test_create_public_with_the_changelog_dto_stores_the_budget_as_given(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    url = emulator.api_url + "/api/budgets/public"
    reply = await call_api(http_session, url, seeded, "POST", json_body=NEW_BUDGET)
    assert reply.status == 201
    created = reply.body["data"]
    assert (created["success"], created["budgetId"]) == (True, 4)
    budget = (await call_api(http_session, f"{emulator.api_url}{P}/budgets/4", seeded)).body["data"]
    assert budget["publicToken"] == created["publicToken"]
    assert created["publicUrl"].endswith(f"/budgets/token/{created['publicToken']}")
    given = {k: v for k, v in NEW_BUDGET.items() if k != "items"}
    assert {k: budget[k] for k in given} == given
    assert (budget["state"], budget["businessId"]) == (0, 1)
    [item] = budget["items"]
    assert (item["subtotal"], item["budgetId"], item["product"]["id"]) == (1000.0, 4, 1)
    public = await call_api(http_session, created["publicUrl"], None)
    assert public.body["data"]["id"] == 4


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"customerId": 99}, "customerId"),
        ({"customerId": "1"}, "customerId"),
        ({"issueDate": "tomorrow"}, "issueDate"),
        ({"iva": "210"}, "iva"),
        ({"items": []}, "items"),
        ({"items": [{"productId": 99, "quantity": 1, "unitPrice": 1}]}, "items.0.productId"),
        ({"items": [{"quantity": "1", "unitPrice": 1}]}, "items.0.quantity"),
        ({"businessId": 7}, "businessId"),
        ({"title": "x"}, "title"),
    ],
)
async def test_create_public_refuses_a_bad_dto_naming_the_field(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    change: dict[str, Any],
    field: str,
) -> None:
    url = emulator.api_url + "/api/budgets/public"
    reply = await call_api(http_session, url, seeded, "POST", json_body=NEW_BUDGET | change)
    assert reply.status == 422
    assert field in [d["field"] for d in reply.body["details"]]


async def test_create_public_without_a_required_field_names_each_missing_one(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    body = {k: v for k, v in NEW_BUDGET.items() if k not in ("sellerId", "total")}
    url = emulator.api_url + "/api/budgets/public"
    reply = await call_api(http_session, url, seeded, "POST", json_body=body)
    assert reply.status == 422
    assert [d["field"] for d in reply.body["details"]] == ["sellerId", "total"]


@pytest.mark.parametrize(
    ("action", "state", "event"),
    [("approve", 1, "budget.approved"), ("reject", 2, "budget.rejected")],
)
async def test_processing_an_approval_decides_the_budget_and_sends_its_webhook(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    webhook_sink: WebhookSink,
    action: str,
    state: int,
    event: str,
) -> None:
    await emulator.admin.seed()
    key = await hooked(emulator, webhook_sink)
    url = f"{emulator.api_url}{A}/1/process"
    reply = await call_api(http_session, url, key, "POST", json_body={"action": action})
    approval = reply.body["data"]
    decided = "approved" if action == "approve" else "rejected"
    assert (approval["status"], approval["action"], approval["approvedBy"]) == (decided, decided, 1)
    assert approval[f"{decided}At"] == approval["reviewedAt"]
    [got] = await webhook_sink.wait_for(1)
    assert (got.json["event"], got.json["metadata"]["source"]) == (event, "api")
    budget = await call_api(http_session, f"{emulator.api_url}{P}/budgets/1", key)
    assert got.json["data"] == budget.body["data"]
    assert budget.body["data"]["state"] == state
    again = await call_api(http_session, url, key, "POST", json_body={"action": action})
    assert again.status == 409


async def test_the_approval_workflow_from_config_to_stats(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    api, k = emulator.api_url, key["key"]
    missing = await call_api(http_session, f"{api}{A}/config", k)
    assert missing.status == 404
    config = {"requiresBudgetApproval": True, "ownerCanApprove": False, "adminCanApprove": True}
    first = await call_api(http_session, f"{api}{A}/config", k, "POST", json_body=config)
    second = await call_api(
        http_session, f"{api}{A}/config", k, "POST", json_body=config | {"approvalThreshold": 10}
    )
    assert (first.status, second.status) == (201, 200)
    assert second.body["data"]["id"] == first.body["data"]["id"]
    assert (await call_api(http_session, f"{api}{A}/can-approve", k)).body["data"] == {
        "canApprove": False
    }
    approver = await call_api(
        http_session, f"{api}{A}/approvers", k, "POST", json_body={"userId": 7}
    )
    assert approver.status == 201
    duplicate = await call_api(
        http_session, f"{api}{A}/approvers", k, "POST", json_body={"userId": 7}
    )
    assert duplicate.status == 409
    can = await call_api(http_session, f"{api}{A}/can-approve?userId=7", k)
    assert can.body["data"] == {"canApprove": True}
    await emulator.admin.trigger("customer.created")
    await emulator.admin.trigger("budget.created")
    submitted = await call_api(
        http_session, f"{api}{A}/submit", k, "POST", json_body={"budgetId": 1}
    )
    assert (submitted.status, submitted.body["data"]["status"]) == (201, "pending")
    assert (await call_api(http_session, f"{api}{A}/pending?userId=9", k)).body["data"] == []
    assert len((await call_api(http_session, f"{api}{A}/pending?userId=7", k)).body["data"]) == 1
    owner = await call_api(
        http_session, f"{api}{A}/1/process", k, "POST", json_body={"action": "approve"}
    )
    assert owner.status == 403  # the owner may not approve under this configuration
    stats = await call_api(http_session, f"{api}{A}/stats", k)
    assert stats.body["data"] == {
        "pending": 1,
        "approved": 0,
        "rejected": 0,
        "cancelled": 0,
        "total": 1,
    }
    removed = await call_api(http_session, f"{api}{A}/approvers/1", k, "DELETE")
    assert removed.status == 204
    assert (await call_api(http_session, f"{api}{A}/approvers/1", k, "DELETE")).status == 404
    assert (await call_api(http_session, f"{api}{A}/approvers", k)).body["data"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({"budgetId": 99}, "budgetId"), ({"budgetId": "1"}, "budgetId"), ({}, "budgetId")],
)
async def test_submitting_a_bad_approval_is_422_naming_the_field(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    body: dict[str, Any],
    field: str,
) -> None:
    reply = await call_api(
        http_session, f"{emulator.api_url}{A}/submit", seeded, "POST", json_body=body
    )
    assert reply.status == 422
    assert [d["field"] for d in reply.body["details"]] == [field]


async def test_approvals_list_filters_by_status_budget_and_user(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    async def ids(query: str) -> list[int]:
        reply = await call_api(http_session, f"{emulator.api_url}{A}{query}", seeded)
        return [a["id"] for a in reply.body["data"]]

    assert await ids("") == [1, 2, 3]
    assert await ids("?status=rejected") == [3]
    assert await ids("?budgetId=2") == [2]
    assert await ids("?userId=1&limit=2") == [1, 2]
    assert (
        await call_api(http_session, f"{emulator.api_url}{A}?status=done", seeded)
    ).status == 422


@pytest.mark.parametrize(
    ("route", "state", "event"),
    [("confirm", 1, "budget.approved"), ("reject", 2, "budget.rejected")],
)
async def test_the_customer_decides_by_token_without_a_key(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    webhook_sink: WebhookSink,
    route: str,
    state: int,
    event: str,
) -> None:
    await emulator.admin.seed()
    key = await hooked(emulator, webhook_sink)
    token = (await emulator.admin.state())["budgets"][0]["publicToken"]
    url = f"{emulator.api_url}{P}/budgets/token/{token}"
    shown = await call_api(http_session, url, None)
    assert (shown.status, shown.body["data"]["state"]) == (200, 0)
    decided = await call_api(http_session, f"{url}/{route}", None, "POST")
    assert decided.status == 200
    assert decided.body["data"]["budget"]["state"] == state
    [got] = await webhook_sink.wait_for(1)
    assert (got.json["event"], got.json["data"]["state"]) == (event, state)
    history = await call_api(http_session, f"{emulator.api_url}{A}/history?budgetId=1", key)
    assert [a["status"] for a in history.body["data"]] == ["cancelled"]
    again = await call_api(http_session, f"{url}/{route}", None, "POST")
    assert again.status == 409


async def test_an_expired_budget_cannot_be_confirmed(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    expired = (await emulator.admin.trigger("budget.expired", 1))["data"]
    assert expired["state"] == 0
    url = f"{emulator.api_url}{P}/budgets/token/{expired['publicToken']}"
    debug = await call_api(
        http_session, f"{emulator.api_url}{P}/budgets/debug/token/{expired['publicToken']}", None
    )
    assert debug.body["data"]["budget"]["expired"] is True
    refused = await call_api(http_session, f"{url}/confirm", None, "POST")
    assert (refused.status, refused.body["error"]) == (409, "conflict")


@pytest.mark.parametrize(
    "path", [f"{P}/budgets/token/nope", f"{P}/budgets/public/99", f"{P}/budgets/token/nope/confirm"]
)
async def test_unknown_public_budgets_are_404(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str, path: str
) -> None:
    method = "POST" if path.endswith("confirm") else "GET"
    reply = await call_api(http_session, emulator.api_url + path, None, method)
    assert (reply.status, reply.body["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    "path",
    [
        f"{P}/budgets/99",
        f"{P}/customers/99",
        f"{P}/products/99",
        f"{P}/product-variants/99",
        f"{A}/99/process",
    ],
)
async def test_no_such_id_is_404(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str, path: str
) -> None:
    method = "POST" if path.endswith("process") else "GET"
    body = {"action": "approve"} if method == "POST" else None
    reply = await call_api(http_session, emulator.api_url + path, seeded, method, json_body=body)
    assert (reply.status, reply.body["error"]) == (404, "not_found")
