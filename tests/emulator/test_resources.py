"""Resources over the API: shapes, pagination, filters, writes, validation, state dumps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from emulator.clock import MonotonicStamper
from tests.fixtures.emulator import RunningEmulator, call_api, without_meta

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
    ("path", "term", "ids"),
    [
        ("/customers/search", "bruno", [2]),
        ("/customers", "27-30111222", [1]),
        ("/products", "cam-4k", [3]),
        ("/products", "services", [1, 2]),
        ("/customers", "EXAMPLE", [1, 2, 3]),
    ],
)
async def test_search_matches_names_codes_and_contacts(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    path: str,
    term: str,
    ids: list[int],
) -> None:
    reply = await call_api(http_session, f"{emulator.api_url}{P}{path}?search={term}", seeded)
    assert [e["id"] for e in reply.body["data"]] == ids


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("?category=electronics", [3]),
        ("?type=SERVICE", [1, 2]),
        ("?type=Product", [3]),
        ("?isActive=true", [1, 2, 3]),
        ("?isActive=false", []),
        ("?type=service&category=Services&search=host", [2]),
    ],
)
async def test_product_list_filters_are_applied(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    query: str,
    ids: list[int],
) -> None:
    reply = await call_api(http_session, f"{emulator.api_url}{P}/products{query}", seeded)
    assert [e["id"] for e in reply.body["data"]] == ids


@pytest.mark.parametrize(
    ("query", "field"), [("?type=gift", "type"), ("?isActive=yes", "isActive")]
)
async def test_bad_product_filters_are_422_naming_the_parameter(
    emulator: RunningEmulator,
    http_session: aiohttp.ClientSession,
    seeded: str,
    query: str,
    field: str,
) -> None:
    reply = await call_api(http_session, f"{emulator.api_url}{P}/products{query}", seeded)
    assert reply.status == 422
    assert [d["field"] for d in reply.body["details"]] == [field]


async def test_customer_create_update_delete_round_trip_keeps_every_sdk_field(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    url = emulator.api_url + P + "/customers"
    body = {
        "firstName": "Jane",
        "lastName": "Smith",
        "email": "jane@example.com",
        "phoneNumber": "+1987654321",
        "dni": 12345678,
        "cuit": "20-12345678-9",
    }
    created = await call_api(http_session, url, key["key"], "POST", json_body=body)
    customer = created.body["data"]
    assert created.status == 201
    assert customer == body | {
        "id": 1,
        "businessId": 1,
        "createdAt": customer["createdAt"],
        "updatedAt": customer["createdAt"],
    }
    update = {"email": "new@example.com", "phoneNumber": "+1555000123"}
    updated = await call_api(http_session, f"{url}/1", key["key"], "PUT", json_body=update)
    assert updated.body["data"] == customer | update | {
        "updatedAt": updated.body["data"]["updatedAt"]
    }
    assert updated.body["data"]["updatedAt"] > customer["updatedAt"]
    deleted = await call_api(http_session, f"{url}/1", key["key"], "DELETE")
    assert (deleted.status, deleted.body) == (204, None)
    gone = await call_api(http_session, f"{url}/1", key["key"])
    assert gone.status == 404
    assert without_meta(gone.body) == {"error": "not_found", "message": "Customer not found"}
    assert (await call_api(http_session, url, key["key"])).body["pagination"]["total"] == 0


async def test_product_create_with_the_readme_dto_returns_the_sdk_product(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    body = {
        "productCode": "PROD-001",
        "description": "Premium Laptop",
        "category": "Electronics",
        "price": 1299.99,
        "stock": 50,
        "sku": "LAP-PREM-001",
        "type": "PRODUCT",
        "isActive": True,
    }
    reply = await call_api(
        http_session, emulator.api_url + P + "/products", key["key"], "POST", json_body=body
    )
    product = reply.body["data"]
    assert reply.status == 201
    assert product == body | {
        "id": 1,
        "type": "product",
        "businessId": 1,
        "variants": [],
        "createdAt": product["createdAt"],
        "updatedAt": product["createdAt"],
    }


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/customers", {"lastName": "x"}, "firstName"),
        ("/customers", {"firstName": "a", "lastName": "b", "email": "nope"}, "email"),
        ("/customers", {"firstName": "a", "lastName": "b", "dni": "123"}, "dni"),
        ("/customers", {"firstName": "a", "lastName": "b", "email": None}, "email"),
        ("/customers", {"firstName": "a", "lastName": "b", "businessId": 9}, "businessId"),
        ("/customers", {"firstName": "a", "lastName": "b", "phone": "1"}, "phone"),
        ("/products", {"productCode": "X", "category": "c", "price": 1}, "description"),
        (
            "/products",
            {"productCode": "X", "description": "d", "category": "c", "price": "1"},
            "price",
        ),
        (
            "/products",
            {"productCode": "X", "description": "d", "category": "c", "price": -1},
            "price",
        ),
        (
            "/products",
            {"productCode": "X", "description": "d", "category": "c", "price": 1, "type": "GIFT"},
            "type",
        ),
        (
            "/products",
            {
                "productCode": "X",
                "description": "d",
                "category": "c",
                "price": 1,
                "isActive": "true",
            },
            "isActive",
        ),
        ("/products", {"name": "Hosting", "price": 1}, "name"),
        ("/product-variants", {"productId": 3, "name": "v"}, "price"),
        ("/product-variants", {"productId": 99, "name": "v", "price": 1}, "productId"),
        ("/product-variants", {"name": "v", "price": 1}, "productId"),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
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
    assert field in reply.body["message"]


async def test_non_json_body_is_422(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    headers = {"Authorization": f"Bearer {seeded}", "Content-Type": "application/json"}
    async with http_session.post(
        emulator.api_url + P + "/customers", data=b"{nope", headers=headers
    ) as response:
        assert response.status == 422
        assert (await response.json())["error"] == "validation_error"


async def test_product_variants_have_their_own_routes(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    variants = emulator.api_url + P + "/product-variants"
    listed = await call_api(http_session, emulator.api_url + P + "/products/3/variants", seeded)
    assert [v["name"] for v in listed.body["data"]] == ["Black", "Silver"]
    body = {"productId": 3, "name": "Gold", "price": 999, "attributes": {"color": "gold"}}
    added = await call_api(http_session, variants, seeded, "POST", json_body=body)
    variant = added.body["data"]
    assert added.status == 201
    assert (variant["isActive"], variant["sortOrder"], variant["stock"]) == (True, 0, 0)
    vid = variant["id"]
    changed = await call_api(
        http_session,
        f"{variants}/{vid}",
        seeded,
        "PUT",
        json_body={"price": 1001, "isActive": False},
    )
    assert (changed.body["data"]["price"], changed.body["data"]["isActive"]) == (1001, False)
    assert (await call_api(http_session, f"{variants}/{vid}", seeded)).body["data"] == changed.body[
        "data"
    ]
    active = await call_api(
        http_session, emulator.api_url + P + "/products/3/variants?isActive=true", seeded
    )
    assert [v["name"] for v in active.body["data"]] == ["Black", "Silver"]
    assert (await call_api(http_session, f"{variants}/{vid}", seeded, "DELETE")).status == 204
    assert (await call_api(http_session, f"{variants}/{vid}", seeded)).status == 404
    product = await call_api(http_session, emulator.api_url + P + "/products/3", seeded)
    assert [v["name"] for v in product.body["data"]["variants"]] == ["Black", "Silver"]


async def test_a_product_is_created_with_its_variants_in_one_call(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, key: dict[str, Any]
) -> None:
    body = {
        "productCode": "SHIRT-001",
        "description": "Cotton T-Shirt",
        "category": "Clothing",
        "price": 25.0,
        "variants": [
            {"name": "Small - Blue", "price": 25.0, "stock": 100, "attributes": {"size": "S"}},
            {"name": "Medium - Red", "price": 27.0, "stock": 75, "sortOrder": 1},
        ],
    }
    url = emulator.api_url + P + "/products/with-variants"
    reply = await call_api(http_session, url, key["key"], "POST", json_body=body)
    product = reply.body["data"]
    assert reply.status == 201
    assert [(v["name"], v["productId"]) for v in product["variants"]] == [
        ("Small - Blue", product["id"]),
        ("Medium - Red", product["id"]),
    ]
    listed = await call_api(
        http_session, f"{emulator.api_url}{P}/products/{product['id']}/variants", key["key"]
    )
    assert listed.body["pagination"]["total"] == 2


async def test_deleting_a_product_deletes_its_variants(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    reply = await call_api(http_session, f"{emulator.api_url}{P}/products/3", seeded, "DELETE")
    assert reply.status == 204
    variant = await call_api(http_session, f"{emulator.api_url}{P}/product-variants/1", seeded)
    assert variant.status == 404
    assert variant.body["message"] == "Product variant not found"


async def test_state_dump_includes_tombstones(
    emulator: RunningEmulator, http_session: aiohttp.ClientSession, seeded: str
) -> None:
    await call_api(http_session, f"{emulator.api_url}{P}/products/1", seeded, "DELETE")
    state = await emulator.admin.state()
    flags = {p["id"]: p["deleted"] for p in state["products"]}
    assert flags == {1: True, 2: False, 3: False}
    assert len(state["budgets"]) == 3 and len(state["customers"]) == 3


def test_stamps_are_utc_milliseconds_and_strictly_increase_when_the_clock_stands_still() -> None:
    frozen = datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
    stamp = MonotonicStamper(lambda: frozen)
    first, second = stamp(), stamp()
    assert first == "2026-01-01T00:00:00.123Z"
    assert second == "2026-01-01T00:00:00.124Z"


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
        reply = await call_api(http_session, url, seeded, "PUT", json_body={"cuit": str(i)})
        stamps.append(reply.body["data"]["updatedAt"])
    assert stamps == sorted(set(stamps))
