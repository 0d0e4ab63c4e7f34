"""Every emulator answer to a call the SDK makes matches the SDK's interfaces (sdk_contract.py):
required fields present with the right JSON types, and no field the SDK does not know."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from tests.emulator.sdk_contract import EVENT_INTERFACES, violations
from tests.fixtures.emulator import RunningEmulator, WebhookSink, call_api

P = "/api/public"
A = P + "/budget-approvals"
Factory = Callable[..., Awaitable[RunningEmulator]]

NEW_BUDGET = {
    "currency": "USD",
    "issueDate": "2025-01-15T10:00:00.000Z",
    "expirationDate": "2999-02-14T10:00:00.000Z",
    "customerId": 1,
    "sellerId": 1,
    "minimumPaymentToConfirm": 100.0,
    "subtotal": 1000.0,
    "total": 1210.0,
    "iva": 210.0,
    "comments": "Budget for new project",
    "items": [{"productId": 1, "quantity": 2, "unitPrice": 500.0}],
}

# (method, path, body, interface of ``data``; "[X]" a plain array, "page:X" a page of X)
CALLS: list[tuple[str, str, Any, str]] = [
    ("GET", f"{P}/customers", None, "page:Customer"),
    ("GET", f"{P}/customers?search=ana", None, "page:Customer"),
    ("GET", f"{P}/customers/1", None, "Customer"),
    (
        "POST",
        f"{P}/customers",
        {"firstName": "Jane", "lastName": "Smith", "dni": 12345678, "cuit": "20-12345678-9"},
        "Customer",
    ),
    ("PUT", f"{P}/customers/2", {"email": "bruno@example.org"}, "Customer"),
    ("GET", f"{P}/products?category=Electronics&isActive=true&type=product", None, "page:Product"),
    ("GET", f"{P}/products/3", None, "Product"),
    (
        "POST",
        f"{P}/products",
        {"productCode": "P-1", "description": "Laptop", "category": "IT", "price": 1299.99},
        "Product",
    ),
    (
        "POST",
        f"{P}/products/with-variants",
        {
            "productCode": "SHIRT-1",
            "description": "Shirt",
            "category": "Clothing",
            "price": 25.0,
            "variants": [{"name": "S", "price": 25.0, "attributes": {"size": "S"}}],
        },
        "Product",
    ),
    ("PUT", f"{P}/products/2", {"price": 130, "type": "SERVICE"}, "Product"),
    ("GET", f"{P}/products/3/variants", None, "page:ProductVariant"),
    ("GET", f"{P}/product-variants/1", None, "ProductVariant"),
    (
        "POST",
        f"{P}/product-variants",
        {"productId": 3, "name": "Gold", "price": 999.0, "stock": 1},
        "ProductVariant",
    ),
    ("PUT", f"{P}/product-variants/2", {"sortOrder": 5}, "ProductVariant"),
    ("GET", f"{P}/budgets?status=0&customerId=1", None, "page:Budget"),
    ("GET", f"{P}/budgets/2", None, "Budget"),
    ("POST", "/api/budgets/public", NEW_BUDGET, "CreatePublicBudgetResult"),
    ("GET", f"{A}/config", None, "ApprovalConfig"),
    (
        "POST",
        f"{A}/config",
        {
            "requiresBudgetApproval": True,
            "ownerCanApprove": True,
            "adminCanApprove": True,
            "approvalThreshold": 1000.0,
        },
        "ApprovalConfig",
    ),
    ("GET", f"{A}/approvers", None, "[BudgetApprover]"),
    ("POST", f"{A}/approvers", {"userId": 456, "notes": "Senior manager"}, "BudgetApprover"),
    ("GET", f"{A}/pending", None, "[BudgetApproval]"),
    ("GET", f"{A}/pending?userId=2", None, "[BudgetApproval]"),
    ("GET", f"{A}/history?budgetId=2", None, "[BudgetApproval]"),
    ("GET", f"{A}/can-approve?userId=2", None, "CanApprove"),
    ("GET", f"{A}/stats", None, "ApprovalStats"),
    ("GET", f"{A}?status=approved&budgetId=2", None, "page:BudgetApproval"),
    ("POST", f"{A}/1/process", {"action": "approve", "comments": "ok"}, "BudgetApproval"),
    ("POST", f"{A}/submit", {"budgetId": 4, "requestNotes": "please"}, "BudgetApproval"),
    ("GET", f"{P}/budgets/public/1", None, "PublicBudget"),
    ("GET", f"{P}/budgets/token/{{token}}", None, "PublicBudget"),
    ("GET", f"{P}/budgets/debug/token/{{token}}", None, "DebugToken"),
    ("GET", f"{P}/budgets/debug/token/unknown-token", None, "DebugToken"),
    ("POST", f"{P}/budgets/token/{{token}}/reject", None, "RejectBudgetResult"),
    ("POST", f"{P}/webhooks/test", {"event": "connection_test", "data": {}}, "WebhookTestResponse"),
]


def _rows(rows: list[Any], interface: str) -> list[str]:
    return [v for n, row in enumerate(rows) for v in violations(row, interface, f"$.data[{n}]")]


def _data_violations(body: Any, expected: str) -> list[str]:
    if expected.startswith("page:"):
        found = violations(body["pagination"], "PaginationInfo", "$.pagination")
        return found + _rows(body["data"], expected[5:])
    if expected.startswith("["):
        return _rows(body["data"], expected[1:-1])
    return violations(body["data"], expected, "$.data")


async def test_every_sdk_call_answers_the_sdk_interface_and_nothing_more(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    await emulator.admin.seed()
    token = ""  # the public token of the budget the calls create
    failures: dict[str, list[str]] = {}
    for method, path, body, expected in CALLS:
        url = emulator.api_url + path.replace("{token}", token)
        reply = await call_api(http_session, url, key["key"], method, json_body=body)
        assert reply.status in (200, 201), (method, path, reply.status, reply.body)
        if expected == "CreatePublicBudgetResult":
            token = reply.body["data"]["publicToken"]
        assert {"data", "meta"} <= reply.body.keys()
        if found := _data_violations(reply.body, expected):
            failures[f"{method} {path}"] = found
        if expected.startswith("page:") and not reply.body["data"]:
            failures[f"{method} {path}"] = ["the page is empty: nothing was checked"]
    assert failures == {}


async def test_lists_in_the_sdk_pagination_shape_match_paginated_response(
    emulator_factory: Factory, http_session: aiohttp.ClientSession
) -> None:
    emulator = await emulator_factory(pagination="sdk")
    await emulator.admin.seed()
    key = (await emulator.admin.create_key())["key"]
    for path, interface in (
        (f"{P}/customers?limit=2", "Customer"),
        (f"{P}/products", "Product"),
        (f"{P}/products/3/variants", "ProductVariant"),
        (f"{P}/budgets?page=2&limit=2", "Budget"),
        (A, "BudgetApproval"),
    ):
        reply = await call_api(http_session, emulator.api_url + path, key)
        page = reply.body["data"]
        assert set(page) == {"data", "meta"}, path
        assert violations(page["meta"], "PaginatedResponseMeta") == [], path
        assert [v for row in page["data"] for v in violations(row, interface)] == [], path
        assert page["meta"]["itemCount"] == len(page["data"]) > 0, path


@pytest.mark.parametrize(
    ("event", "entity_id"),
    [
        ("budget.created", None),
        ("budget.updated", 1),
        ("budget.approved", 1),
        ("budget.rejected", 1),
        ("budget.expired", 1),
        ("budget.deleted", 1),
        ("customer.created", None),
        ("customer.updated", 1),
        ("customer.deleted", 2),
        ("product.created", None),
        ("product.updated", 3),
        ("product.deleted", 3),
    ],
)
async def test_webhook_data_is_the_sdk_resource(
    emulator: RunningEmulator, webhook_sink: WebhookSink, event: str, entity_id: int | None
) -> None:
    await emulator.admin.seed()
    created = await emulator.admin.create_key(webhookUrl=webhook_sink.url)
    webhook_sink.secrets = [created["webhookSecret"]]
    await emulator.admin.trigger(event, entity_id)
    [got] = await webhook_sink.wait_for(1)
    assert violations(got.json["data"], EVENT_INTERFACES[event.split(".")[0]]) == []
