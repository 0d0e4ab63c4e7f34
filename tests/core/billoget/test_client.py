"""The Billoget API client over real HTTP on loopback.

Most tests talk to ``FakeBilloget``: a small aiohttp app answering canned responses per route,
a boundary double for these unit tests only. The last section runs against the real emulator.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from core.billoget import (
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiKey,
    ApiNotFoundError,
    ApiResponseError,
    ApiServerError,
    ApiTimeoutError,
    ApiValidationError,
    BillogetClient,
    Budget,
    BudgetState,
    Customer,
    IpNotWhitelistedError,
    KeySuspendedError,
    Product,
    ProductType,
    RateLimitedError,
    RateLimitInfo,
    ScopeError,
    UnauthorizedError,
)
from core.errors import ConfigError, PermanentError, RetryLater
from tests.fixtures.emulator import RunningEmulator

SECRET_BODY = "S3cr3tBody_0123456789abcdef"
TEST_KEY = f"bk_test_{SECRET_BODY}"
STAMP = "2025-01-15T10:00:00.000Z"
RATE_HEADERS = {
    "X-RateLimit-Limit": "1000",
    "X-RateLimit-Remaining": "997",
    "X-RateLimit-Reset": "1700003600",
    "X-RateLimit-Window": "3600",
}
ServerFactory = Callable[..., Awaitable[TestServer]]


def budget(n: int, **extra: Any) -> dict[str, Any]:
    """A budget as the SDK types it (``Budget``)."""
    return {
        "id": n,
        "currency": "USD",
        "issueDate": STAMP,
        "expirationDate": STAMP,
        "customerId": 1,
        "sellerId": 1,
        "minimumPaymentToConfirm": 0,
        "state": 0,
        "subtotal": 100.0,
        "total": 121.0,
        "iva": 21.0,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        **extra,
    }


def customer(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "firstName": "Ana",
        "lastName": "G",
        "businessId": 1,
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


def product(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "productCode": f"P-{n}",
        "description": "Hosting",
        "category": "Services",
        "price": 120.0,
        "stock": 0,
        "isActive": True,
        "type": "service",
        "createdAt": STAMP,
        "updatedAt": STAMP,
    }


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeBilloget:
    """Canned answers by ``(method, path)`` (path after ``/v1``); records every request."""

    routes: dict[tuple[str, str], tuple[int, Any, dict[str, str]]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    rows: list[dict[str, Any]] = field(default_factory=list)
    lie_has_more: bool = False
    paged: str | None = None  # a list route answered page by page from ``rows``

    def reply(
        self,
        method: str,
        path: str,
        status: int = 200,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.routes[(method, path)] = (status, body, headers if headers is not None else {})

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path.removeprefix("/v1")
        self.seen.append(
            Seen(
                request.method,
                path,
                dict(request.query),
                dict(request.headers),
                await request.read(),
            )
        )
        if path.endswith("/slow"):
            await asyncio.wait_for(self.release.wait(), timeout=5)
        if request.method == "GET" and path == self.paged:
            return web.json_response(self._page(request.query), headers=RATE_HEADERS)
        status, body, headers = self.routes.get((request.method, path), (404, None, {}))
        if isinstance(body, bytes):
            return web.Response(status=status, body=body, headers=headers)
        if body is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(body, status=status, headers=headers)

    def _page(self, query: Any) -> dict[str, Any]:
        page, limit = int(query["page"]), int(query["limit"])
        chunk = self.rows[(page - 1) * limit : page * limit]
        more = self.lie_has_more or page * limit < len(self.rows)
        pagination = {"page": page, "limit": limit, "total": len(self.rows), "hasMore": more}
        return {"data": chunk, "pagination": pagination}


@pytest.fixture
async def fake(aiohttp_server: ServerFactory) -> AsyncIterator[FakeBilloget]:
    double = FakeBilloget()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", double.handle)
    server = await aiohttp_server(app)
    double.url = str(server.make_url("/v1"))
    yield double
    double.release.set()


@pytest.fixture
async def client(fake: FakeBilloget) -> AsyncIterator[BillogetClient]:
    async with BillogetClient(base_url=fake.url, api_key=ApiKey.parse(TEST_KEY)) as c:
        yield c


# -- requests and answers ----------------------------------------------------------------------


async def test_requests_carry_the_bearer_key_and_go_under_the_base_path(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.reply("GET", "/api/public/budgets/7", body={"data": budget(7)})
    await client.get_budget(7)
    [seen] = fake.seen
    assert (seen.method, seen.path) == ("GET", "/api/public/budgets/7")
    assert seen.headers["Authorization"] == f"Bearer {TEST_KEY}"
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["User-Agent"].startswith("billoget-hooks/")


async def test_get_budget_returns_a_typed_budget_keeping_unknown_fields(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.reply("GET", "/api/public/budgets/7", body={"data": budget(7, budgetNumber="B-7")})
    got = await client.get_budget("7")
    assert isinstance(got, Budget)
    assert (got.id, got.customer_id, got.model_extra) == (7, 1, {"budgetNumber": "B-7"})


@pytest.mark.parametrize(
    ("family", "collection", "wire", "model"),
    [
        ("budget", "budgets", budget(3), Budget),
        ("customer", "customers", customer(3), Customer),
        ("product", "products", product(3), Product),
    ],
)
async def test_get_entity_fetches_each_family_from_its_route(
    fake: FakeBilloget,
    client: BillogetClient,
    family: Any,
    collection: str,
    wire: dict[str, Any],
    model: type,
) -> None:
    fake.reply("GET", f"/api/public/{collection}/3", body={"data": wire})
    got = await client.get_entity(family, 3)
    assert isinstance(got, model)
    assert got.id == 3


@pytest.mark.parametrize("bad_id", ["../admin", "1/2", "", "7?x=1", "a" * 65, "..", "%2e"])
async def test_ids_that_could_change_the_path_are_refused_before_sending(
    fake: FakeBilloget, client: BillogetClient, bad_id: str
) -> None:
    with pytest.raises(ApiValidationError) as caught:
        await client.get_customer(bad_id)
    assert caught.value.code == "invalid_id"
    assert fake.seen == []


async def test_writes_send_json_to_the_documented_routes(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.reply("POST", "/api/public/customers", 201, {"data": customer(4)})
    fake.reply("PUT", "/api/public/customers/4", body={"data": customer(4)})
    fake.reply("DELETE", "/api/public/customers/4", body={"data": {"id": 4, "deleted": True}})
    fake.reply("POST", "/api/public/products", 201, {"data": product(5)})
    fake.reply("PUT", "/api/public/products/5", body={"data": product(5)})
    fake.reply("DELETE", "/api/public/products/5", 204)
    created = {"success": True, "message": "created", "publicUrl": "u", "budgetId": 6}
    fake.reply("POST", "/api/budgets/public", 201, {"data": created | {"publicToken": "t"}})
    assert (await client.create_customer({"firstName": "Ana", "lastName": "G"})).id == 4
    assert (await client.update_customer(4, {"lastName": "H"})).id == 4
    assert await client.delete_customer(4) is None
    assert (await client.create_product({"productCode": "H"})).id == 5
    assert (await client.update_product(5, {"price": 1})).id == 5
    assert await client.delete_product(5) is None
    made = await client.create_public_budget({"customerId": 1, "items": []})
    assert (made.budget_id, made.public_token) == (6, "t")
    sent = [(s.method, s.path, json.loads(s.body) if s.body else None) for s in fake.seen]
    assert sent == [
        ("POST", "/api/public/customers", {"firstName": "Ana", "lastName": "G"}),
        ("PUT", "/api/public/customers/4", {"lastName": "H"}),
        ("DELETE", "/api/public/customers/4", None),
        ("POST", "/api/public/products", {"productCode": "H"}),
        ("PUT", "/api/public/products/5", {"price": 1}),
        ("DELETE", "/api/public/products/5", None),
        ("POST", "/api/budgets/public", {"customerId": 1, "items": []}),
    ]


async def test_webhook_test_posts_event_and_data_and_returns_the_typed_result(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    answer = {"message": "Test webhook sent", "timestamp": STAMP, "apiKey": "bk_test_S3cr..."}
    fake.reply("POST", "/api/public/webhooks/test", body={"data": answer})
    result = await client.webhook_test(event="budget.created", data={"id": 1})
    assert (result.message, result.timestamp, result.api_key) == (
        "Test webhook sent",
        STAMP,
        "bk_test_S3cr...",
    )
    assert json.loads(fake.seen[0].body) == {"event": "budget.created", "data": {"id": 1}}


@pytest.mark.parametrize(
    "body",
    [b"<html>maintenance</html>", b'{"data": {"id": "x"}}', b'{"nope": 1}', b"[]"],
)
async def test_a_2xx_that_breaks_the_contract_is_an_api_response_error(
    fake: FakeBilloget, client: BillogetClient, body: bytes
) -> None:
    fake.reply("GET", "/api/public/budgets/1", body=body)
    with pytest.raises(ApiResponseError) as caught:
        await client.get_budget(1)
    assert caught.value.retryable is False
    assert "GET /api/public/budgets/1" in caught.value.message


async def test_a_redirect_is_not_followed(fake: FakeBilloget, client: BillogetClient) -> None:
    fake.reply("GET", "/api/public/budgets/1", 302, b"", {"Location": "http://127.0.0.2:9/steal"})
    with pytest.raises(ApiError) as caught:
        await client.get_budget(1)
    assert caught.value.status == 302
    assert len(fake.seen) == 1


# -- pagination --------------------------------------------------------------------------------


async def test_list_budgets_follows_pagination_across_pages(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.paged = "/api/public/budgets"
    fake.rows = [budget(n) for n in range(1, 251)]
    got = [
        b.id
        async for b in client.list_budgets(status=1, customer_id=3, start_date=date(2025, 1, 1))
    ]
    assert got == list(range(1, 251))
    queries = [s.query for s in fake.seen]
    assert [q["page"] for q in queries] == ["1", "2", "3"]
    assert queries[0] == {
        "status": "1",
        "customerId": "3",
        "startDate": "2025-01-01",
        "page": "1",
        "limit": "100",
    }


async def test_page_size_is_capped_at_the_api_limit(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.paged = "/api/public/customers"
    fake.rows = [customer(n) for n in range(1, 4)]
    assert [c.id async for c in client.list_customers(page_size=500)] == [1, 2, 3]
    assert fake.seen[0].query["limit"] == "100"


async def test_pagination_stops_on_an_empty_page_even_if_has_more_says_otherwise(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.paged = "/api/public/products"
    fake.rows, fake.lie_has_more = [product(n) for n in range(1, 4)], True
    assert [p.id async for p in client.list_products(page_size=2)] == [1, 2, 3]
    assert len(fake.seen) == 3


async def test_list_page_returns_one_page_with_its_pagination(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    body = {
        "data": [customer(11), customer(12)],
        "pagination": {"page": 2, "limit": 2, "total": 9, "hasMore": True},
    }
    fake.reply("GET", "/api/public/customers", body=body)
    page = await client.list_page("customer", page=2, limit=2, search="ana")
    assert [c.id for c in page.items] == [11, 12]
    assert (page.pagination.total, page.has_more) == (9, True)
    assert fake.seen[0].query == {"search": "ana", "page": "2", "limit": "2"}


async def test_list_product_variants_reads_every_page(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    variant = {
        "id": 1,
        "productId": 5,
        "name": "Black",
        "price": 1.0,
        "stock": 0,
        "isActive": True,
        "sortOrder": 0,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "color": "black",
    }
    body = {"data": [variant], "pagination": {"page": 1, "limit": 100, "hasMore": False}}
    fake.reply("GET", "/api/public/products/5/variants", body=body)
    [got] = await client.list_product_variants(5)
    assert (got.id, got.product_id, got.model_extra) == (1, 5, {"color": "black"})


# -- rate limits -------------------------------------------------------------------------------

EXPECTED_RATE = RateLimitInfo(limit=1000, remaining=997, reset_at=1_700_003_600.0, window_s=3600)


async def test_rate_limit_headers_of_a_success_update_the_client_and_call_the_hook(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    updates: list[RateLimitInfo] = []
    client.on_rate_limit = updates.append
    fake.reply("GET", "/api/public/budgets/1", body={"data": budget(1)}, headers=RATE_HEADERS)
    await client.get_budget(1)
    assert client.last_rate_limit == EXPECTED_RATE
    assert updates == [EXPECTED_RATE]


async def test_rate_limit_headers_of_an_error_update_the_client(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.reply("GET", "/api/public/budgets/1", 404, {"error": "not_found"}, RATE_HEADERS)
    with pytest.raises(ApiNotFoundError):
        await client.get_budget(1)
    assert client.last_rate_limit == EXPECTED_RATE


async def test_a_failing_rate_limit_hook_does_not_fail_the_request(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    def broken(info: RateLimitInfo) -> None:
        raise RuntimeError("boom")

    client.on_rate_limit = broken
    fake.reply("GET", "/api/public/budgets/1", body={"data": budget(1)}, headers=RATE_HEADERS)
    assert (await client.get_budget(1)).id == 1


# -- errors ------------------------------------------------------------------------------------

SCOPE_MSG = "API key does not have required scope: WRITE_BUDGETS"


def err(code: str, message: str = "text", **more: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **more}


ERROR_TABLE = [
    # status, body, headers, class, expected attributes
    (401, err("unauthorized"), {}, UnauthorizedError, {"code": "unauthorized", "retryable": False}),
    (401, err("invalid_api_key"), {}, UnauthorizedError, {"code": "invalid_api_key"}),
    (403, err("insufficient_scope", SCOPE_MSG), {}, ScopeError,
     {"missing_scope": "WRITE_BUDGETS", "code": "insufficient_scope", "retryable": False}),
    (403, err("insufficient_scope", details={"requiredScope": "WEBHOOKS"}), {}, ScopeError,
     {"missing_scope": "WEBHOOKS"}),
    (403, err("ip_not_whitelisted"), {}, IpNotWhitelistedError, {"code": "ip_not_whitelisted"}),
    (403, err("api_key_suspended"), {}, KeySuspendedError, {"code": "api_key_suspended"}),
    (403, {"error": "something_new"}, {}, ApiForbiddenError, {"code": "something_new"}),
    (404, err("not_found"), {}, ApiNotFoundError, {"status": 404, "retryable": False}),
    (422, err("validation_error", details=[{"field": "email"}]), {}, ApiValidationError,
     {"details": [{"field": "email"}], "retryable": False}),
    (429, err("rate_limit_exceeded"), {"Retry-After": "17", **RATE_HEADERS}, RateLimitedError,
     {"retry_after_s": 17.0, "delay_s": 17.0, "rate_limit": EXPECTED_RATE, "retryable": True}),
    (500, err("internal_error"), {}, ApiServerError,
     {"retryable": True, "retry_after_s": None, "status": 500}),
    (503, b"<html>down</html>", {"Retry-After": "5"}, ApiServerError,
     {"retry_after_s": 5.0, "code": "server_error", "status": 503}),
    (401, b"", {}, UnauthorizedError, {"code": "unauthorized"}),
    (404, b"not json", {}, ApiNotFoundError, {"code": "not_found"}),
    (429, b"[]", {}, RateLimitedError, {"retry_after_s": 60.0, "rate_limit": None}),
    (400, err("bad_request"), {}, ApiError, {"retryable": False}),
    (400, err("validation_error"), {}, ApiValidationError, {"status": 400}),
]  # fmt: skip


@pytest.mark.parametrize(("status", "body", "headers", "cls", "attrs"), ERROR_TABLE)
async def test_error_answers_map_to_typed_errors(
    fake: FakeBilloget,
    client: BillogetClient,
    status: int,
    body: Any,
    headers: dict[str, str],
    cls: type[ApiError],
    attrs: dict[str, Any],
) -> None:
    fake.reply("GET", "/api/public/budgets/1", status, body, headers)
    with pytest.raises(ApiError) as caught:
        await client.get_budget(1)
    error = caught.value
    assert type(error) is cls
    assert error.status == attrs.get("status", status)
    for name, value in attrs.items():
        assert getattr(error, name) == value, name
    assert error.message.endswith("(GET /api/public/budgets/1)")
    assert isinstance(error, PermanentError) is (not error.retryable and cls is not ApiError)
    assert isinstance(error, RetryLater) is (cls is RateLimitedError)


async def test_an_error_message_is_billogets_text_with_method_and_path(
    fake: FakeBilloget, client: BillogetClient
) -> None:
    fake.reply(
        "POST",
        "/api/public/webhooks/test",
        403,
        {"error": "insufficient_scope", "message": SCOPE_MSG},
    )
    with pytest.raises(ScopeError) as caught:
        await client.webhook_test(event="x", data={})
    assert caught.value.message == f"{SCOPE_MSG} (POST /api/public/webhooks/test)"
    assert str(caught.value) == caught.value.message


async def test_a_slow_server_raises_api_timeout_error(fake: FakeBilloget) -> None:
    key = ApiKey.parse(TEST_KEY)
    async with BillogetClient(base_url=fake.url, api_key=key, timeout_s=0.2) as client:
        started = time.monotonic()
        with pytest.raises(ApiTimeoutError) as caught:
            await client.get_budget("slow")
    assert time.monotonic() - started < 2
    assert caught.value.retryable is True
    assert caught.value.status == 504


async def test_a_refused_connection_raises_api_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    async with BillogetClient(base_url=url, api_key=ApiKey.parse(TEST_KEY)) as client:
        with pytest.raises(ApiConnectionError) as caught:
            await client.get_budget(1)
    assert caught.value.retryable is True
    assert "GET /api/public/budgets/1" in caught.value.message


# -- the key never leaks -----------------------------------------------------------------------


async def test_the_key_never_appears_in_logs_reprs_or_errors(
    fake: FakeBilloget, client: BillogetClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": "invalid_api_key", "message": f"Key {TEST_KEY} is not valid"}
    fake.reply("GET", "/api/public/budgets/1", body={"data": budget(1)}, headers=RATE_HEADERS)
    fake.reply("GET", "/api/public/budgets/2", 401, echo)
    fake.reply("GET", "/api/public/budgets/3", 500, f"trace: Bearer {TEST_KEY}".encode())
    errors: list[Exception] = []
    await client.get_budget(1)
    for n in (2, 3):
        try:
            await client.get_budget(n)
        except ApiError as exc:
            errors.append(exc)
    shown = [repr(client), *(repr(e) for e in errors), *(str(e) for e in errors)]
    shown += [r.getMessage() for r in caplog.records]
    assert len(errors) == 2
    assert not [s for s in shown if SECRET_BODY in s]
    api_lines = [r.getMessage() for r in caplog.records if r.name == "core.billoget.transport"]
    assert any(
        "GET /api/public/budgets/1 -> 200" in line and "bk_test_S3cr" in line for line in api_lines
    )


async def test_the_client_refuses_plain_http_to_a_remote_host() -> None:
    with pytest.raises(ConfigError):
        BillogetClient(base_url="http://api.billoget.com/v1", api_key=ApiKey.parse(TEST_KEY))


async def test_a_session_passed_in_is_left_open_and_an_own_session_is_closed(
    fake: FakeBilloget,
) -> None:
    key = ApiKey.parse(TEST_KEY)
    fake.reply("GET", "/api/public/budgets/1", body={"data": budget(1)})
    async with aiohttp.ClientSession() as session:
        async with BillogetClient(base_url=fake.url, api_key=key, session=session) as client:
            await client.get_budget(1)
        assert not session.closed
    own = BillogetClient(base_url=fake.url, api_key=key)
    await own.get_budget(1)
    inner = own._session
    await own.close()
    assert inner is not None and inner.closed


# -- against the real emulator -----------------------------------------------------------------


@pytest.fixture
async def emulator_key(emulator: RunningEmulator) -> dict[str, Any]:
    await emulator.admin.seed()
    return await emulator.admin.create_key(name="api client tests")


async def test_emulator_serves_a_seeded_budget(
    emulator: RunningEmulator,
    emulator_key: dict[str, Any],
) -> None:
    key = ApiKey.parse(emulator_key["key"])
    async with BillogetClient(base_url=emulator.api_url, api_key=key) as client:
        got = await client.get_budget(1)
        assert got.id == 1
        assert client.last_rate_limit is not None
        assert client.last_rate_limit.limit == 1000


async def test_emulator_answers_an_unknown_budget_with_not_found(
    emulator: RunningEmulator,
    emulator_key: dict[str, Any],
) -> None:
    key = ApiKey.parse(emulator_key["key"])
    async with BillogetClient(base_url=emulator.api_url, api_key=key) as client:
        with pytest.raises(ApiNotFoundError):
            await client.get_budget(999_999)


async def test_emulator_names_the_missing_scope(
    emulator: RunningEmulator,
) -> None:
    await emulator.admin.seed()
    made = await emulator.admin.create_key(scopes=["READ_BUDGETS"])
    async with BillogetClient(
        base_url=emulator.api_url, api_key=ApiKey.parse(made["key"])
    ) as client:
        with pytest.raises(ScopeError) as caught:
            await client.webhook_test(event="webhook.test", data={})
    assert caught.value.missing_scope == "WEBHOOKS"


@pytest.mark.parametrize("shape", ["docs", "sdk"])
async def test_emulator_lists_every_customer_across_pages_in_either_list_shape(
    emulator_factory: Callable[..., Awaitable[RunningEmulator]], shape: str
) -> None:
    emulator = await emulator_factory(pagination=shape)
    await emulator.admin.seed()
    made = await emulator.admin.create_key(name="api client tests")
    key = ApiKey.parse(made["key"])
    async with BillogetClient(base_url=emulator.api_url, api_key=key) as client:
        for n in range(5):
            await client.create_customer({"firstName": f"C{n}", "lastName": "Test"})
        page_one = await client.list_page("customer", page=1, limit=3)
        everyone = [c async for c in client.list_customers(page_size=3)]
    assert page_one.has_more is True
    assert page_one.pagination.total == len(everyone) >= 8
    assert [c.id for c in everyone] == sorted(c.id for c in everyone)


@pytest.mark.parametrize("shape", ["docs", "sdk"])
async def test_emulator_resources_parse_as_the_sdk_models_and_dump_back_unchanged(
    emulator_factory: Callable[..., Awaitable[RunningEmulator]], shape: str
) -> None:
    emulator = await emulator_factory(pagination=shape)
    await emulator.admin.seed()
    made = await emulator.admin.create_key()
    state = await emulator.admin.state()
    key = ApiKey.parse(made["key"])
    async with BillogetClient(base_url=emulator.api_url, api_key=key) as client:
        budgets = [b async for b in client.list_budgets(status=1)]
        product = await client.get_product(3)
        variants = await client.list_product_variants(3)
        customer = await client.get_customer(1)
    assert [(b.id, b.budget_state) for b in budgets] == [(2, BudgetState.APPROVED)]
    assert budgets[0].items and budgets[0].items[0].product is not None
    assert product.product_type is ProductType.PRODUCT
    assert [v.name for v in variants] == ["Black", "Silver"]
    for got, row in ((budgets[0], state["budgets"][1]), (product, state["products"][2])):
        assert got.wire() == {k: v for k, v in row.items() if k != "deleted"}
        assert got.model_extra == {}
    assert (customer.phone_number, customer.dni, customer.business_id) == (
        "+54 11 5555-0142",
        30111222,
        1,
    )
