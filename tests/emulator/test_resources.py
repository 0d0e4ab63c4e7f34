"""Resources over the API: shapes, pagination, filters, writes, validation, state dumps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emulator.clock import MonotonicStamper
from tests.fixtures.emulator import RunningEmulator, call_api

P = "/api/public"


@pytest.fixture
async def seeded(emulator: RunningEmulator, key: dict[str, Any]) -> str:
    await emulator.admin.seed()
    return str(key["key"])


async def _create_customers(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: str, n: int
) -> None:
    for i in range(n):
        body = {"firstName": f"Name{i}", "lastName": "Doe", "email": f"n{i}@example.com"}
        reply = await call_api(
            http_session, emulator.api_url + P + "/customers", key, "POST", json_body=body
        )
        assert reply.status == 201


@pytest.mark.parametrize(
    ("query", "ids", "page", "limit", "has_more"),
    [
        ("", list(range(1, 11)), 1, 10, True),
        ("?page=2&limit=5", [6, 7, 8, 9, 10], 2, 5, True),
        ("?page=3&limit=10", [21, 22, 23, 24, 25], 3, 10, False),
        ("?page=9&limit=10", [], 9, 10, False),
        ("?limit=1000", list(range(1, 26)), 1, 100, False),
    ],
)
async def test_lists_paginate_with_page_and_limit_capped_at_100(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    key: dict[str, Any],
    query: str,
    ids: list[int],
    page: int,
    limit: int,
    has_more: bool,
) -> None:
    await _create_customers(emulator, http_session, key["key"], 25)
    reply = await call_api(http_session, emulator.api_url + P + "/customers" + query, key["key"])
    assert [c["id"] for c in reply.body["data"]] == ids
    assert reply.body["pagination"] == {
        "page": page,
        "limit": limit,
        "total": 25,
        "hasMore": has_more,
    }


@pytest.mark.parametrize(
    "query", ["?page=0", "?limit=0", "?page=x", "?limit=-3", "?startDate=yesterday"]
)
async def test_bad_list_parameters_are_422_validation_error(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str, query: str
) -> None:
    reply = await call_api(http_session, emulator.api_url + P + "/budgets" + query, seeded)
    assert reply.status == 422
    assert reply.body["error"] == "validation_error"


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("?status=PENDING", [1]),
        ("?status=approved", [2]),
        ("?status=2", [3]),
        ("?customerId=3", [3]),
        ("?search=B-00002", [2]),
        ("?search=carla", [3]),
        ("?startDate=2000-01-01&endDate=2999-12-31", [1, 2, 3]),
        ("?endDate=2000-01-01", []),
    ],
)
async def test_budget_list_filters(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    query: str,
    ids: list[int],
) -> None:
    reply = await call_api(http_session, emulator.api_url + P + "/budgets" + query, seeded)
    assert reply.status == 200
    assert [b["id"] for b in reply.body["data"]] == ids


async def test_budgets_have_the_sdk_shape(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    reply = await call_api(http_session, emulator.api_url + P + "/budgets/2", seeded)
    budget = reply.body["data"]
    assert budget["state"] == 1 and budget["status"] == "APPROVED"
    assert budget["customer"]["firstName"] == "Bruno"
    assert {"id", "customerId", "items", "total", "createdAt", "updatedAt"} <= budget.keys()


@pytest.mark.parametrize(
    ("path", "term", "ids"),
    [
        ("/customers/search", "bruno", [2]),
        ("/products", "cam-4k", [3]),
        ("/customers", "EXAMPLE", [1, 2, 3]),
    ],
)
async def test_search_matches_names_and_codes(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    path: str,
    term: str,
    ids: list[int],
) -> None:
    reply = await call_api(http_session, f"{emulator.api_url}{P}{path}?search={term}", seeded)
    assert [e["id"] for e in reply.body["data"]] == ids


async def test_customer_create_update_delete_round_trip(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    url = emulator.api_url + P + "/customers"
    created = await call_api(
        http_session, url, key["key"], "POST", json_body={"firstName": "Ana", "lastName": "Ruiz"}
    )
    customer = created.body["data"]
    assert (created.status, customer["id"]) == (201, 1)
    updated = await call_api(
        http_session, f"{url}/1", key["key"], "PUT", json_body={"lastName": "Gil"}
    )
    assert updated.body["data"]["lastName"] == "Gil"
    assert updated.body["data"]["firstName"] == "Ana"
    assert updated.body["data"]["updatedAt"] > customer["updatedAt"]
    deleted = await call_api(http_session, f"{url}/1", key["key"], "DELETE")
    assert deleted.body["data"]["deleted"] is True
    gone = await call_api(http_session, f"{url}/1", key["key"])
    assert gone.status == 404
    assert gone.body == {"error": "not_found", "message": "Customer not found"}
    assert (await call_api(http_session, url, key["key"])).body["pagination"]["total"] == 0


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/customers", {"lastName": "x"}, "firstName"),
        ("/customers", {"firstName": "a", "lastName": "b", "email": "nope"}, "email"),
        ("/products", {"productCode": "X", "name": "n", "price": -1}, "price"),
        ("/products", {"productCode": "X", "name": "n", "price": 1, "type": "GIFT"}, "type"),
        ("/products/3/variants", {"name": "v"}, "price"),
        ("/budgets", {"customerId": 1, "items": []}, "items"),
    ],
)
async def test_invalid_bodies_are_422_with_field_details(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    path: str,
    body: dict[str, Any],
    field: str,
) -> None:
    reply = await call_api(
        http_session, emulator.api_url + P + path, seeded, "POST", json_body=body
    )
    assert reply.status == 422
    assert reply.body["error"] == "validation_error"
    assert field in [d["field"] for d in reply.body["details"]]


async def test_non_json_body_is_422(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    headers = {"Authorization": f"Bearer {seeded}", "Content-Type": "application/json"}
    async with http_session.post(
        emulator.api_url + P + "/customers", data=b"{nope", headers=headers
    ) as response:
        assert response.status == 422
        assert (await response.json())["error"] == "validation_error"


async def test_product_variants_can_be_listed_added_changed_and_removed(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    url = emulator.api_url + P + "/products/3/variants"
    listed = await call_api(http_session, url, seeded)
    assert [v["name"] for v in listed.body["data"]] == ["Black", "Silver"]
    added = await call_api(
        http_session, url, seeded, "POST", json_body={"name": "Gold", "price": 999}
    )
    variant_id = added.body["data"]["id"]
    changed = await call_api(
        http_session, f"{url}/{variant_id}", seeded, "PUT", json_body={"price": 1001}
    )
    assert changed.body["data"]["price"] == 1001
    assert (await call_api(http_session, f"{url}/{variant_id}", seeded, "DELETE")).status == 200
    assert (await call_api(http_session, f"{url}/{variant_id}", seeded)).status == 404
    product = await call_api(http_session, emulator.api_url + P + "/products/3", seeded)
    assert len(product.body["data"]["variants"]) == 2


async def test_public_budget_create_can_create_its_customer_inline(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    body = {
        "customer": {"firstName": "Eva", "lastName": "Paz"},
        "items": [{"description": "Work", "quantity": 3, "unitPrice": 10}],
        "taxRate": 0.1,
    }
    reply = await call_api(
        http_session, emulator.api_url + "/api/budgets/public", key["key"], "POST", json_body=body
    )
    budget = reply.body["data"]
    assert reply.status == 201
    assert (budget["state"], budget["subtotal"], budget["total"]) == (0, 30, 33)
    assert budget["customer"]["firstName"] == "Eva"


async def test_public_budget_create_rejects_an_unknown_customer(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    body = {"customerId": 42, "items": [{"description": "x", "quantity": 1, "unitPrice": 1}]}
    reply = await call_api(
        http_session, emulator.api_url + "/api/budgets/public", key["key"], "POST", json_body=body
    )
    assert reply.status == 422


@pytest.mark.parametrize(
    ("action", "state", "status"), [("approve", 1, "APPROVED"), ("reject", 2, "REJECTED")]
)
async def test_budget_decisions_set_state(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    action: str,
    state: int,
    status: str,
) -> None:
    reply = await call_api(
        http_session, f"{emulator.api_url}{P}/budgets/1/{action}", seeded, "POST"
    )
    assert (reply.body["data"]["state"], reply.body["data"]["status"]) == (state, status)
    again = await call_api(
        http_session, f"{emulator.api_url}{P}/budgets/1/{action}", seeded, "POST"
    )
    assert again.status == 422


async def test_budget_update_reprices_items(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    body = {"items": [{"description": "x", "quantity": 1, "unitPrice": 100}], "taxRate": 0}
    reply = await call_api(
        http_session, f"{emulator.api_url}{P}/budgets/1", seeded, "PUT", json_body=body
    )
    assert reply.body["data"]["total"] == 100


async def test_state_dump_includes_tombstones(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    await call_api(http_session, f"{emulator.api_url}{P}/products/1", seeded, "DELETE")
    state = await emulator.admin.state()
    flags = {p["id"]: p["deleted"] for p in state["products"]}
    assert flags == {1: True, 2: False, 3: False}
    assert len(state["budgets"]) == 3 and len(state["customers"]) == 3


def test_stamps_strictly_increase_even_when_the_clock_stands_still() -> None:
    frozen = datetime(2026, 1, 1, tzinfo=UTC)
    stamp = MonotonicStamper(lambda: frozen)
    first, second = stamp(), stamp()
    assert first == "2026-01-01T00:00:00.000000Z"
    assert second == "2026-01-01T00:00:00.000001Z"


def test_stamps_never_go_back_when_the_clock_does() -> None:
    moments = iter(
        [datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC) - timedelta(seconds=5)]
    )
    stamp = MonotonicStamper(lambda: next(moments))
    assert stamp() < stamp()


async def test_rapid_updates_get_strictly_increasing_updated_at(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    url = f"{emulator.api_url}{P}/customers/1"
    stamps = []
    for i in range(20):
        reply = await call_api(http_session, url, seeded, "PUT", json_body={"notes": str(i)})
        stamps.append(reply.body["data"]["updatedAt"])
    assert stamps == sorted(set(stamps))
