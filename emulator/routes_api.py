"""Billoget's public API routes (every route the SDK calls), each under both ``/v1`` and ``/``.

==========================================================  ===============
route                                                       scope
==========================================================  ===============
GET  /api/public/customers[/search|/{id}]                   READ_CUSTOMERS
POST /api/public/customers, PUT|DELETE .../{id}             WRITE_CUSTOMERS
GET  /api/public/products[/search|/{id}|/{id}/variants]     READ_PRODUCTS
GET  /api/public/product-variants/{id}                      READ_PRODUCTS
POST /api/public/products[/with-variants], PUT|DELETE       WRITE_PRODUCTS
POST /api/public/product-variants, PUT|DELETE .../{id}      WRITE_PRODUCTS
POST /api/public/webhooks/test                              WEBHOOKS
==========================================================  ===============

Budgets, approvals and the public token routes are in :mod:`emulator.routes_budgets`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pydantic
from aiohttp import web

from emulator import errors, listing
from emulator.auth import require
from emulator.clock import iso
from emulator.keys import Scope
from emulator.models import (
    CreateCustomerDto,
    CreateProductDto,
    CreateProductVariantDto,
    CreateProductWithVariantsDto,
    UpdateCustomerDto,
    UpdateProductDto,
    UpdateProductVariantDto,
    WebhookTestIn,
)
from emulator.resources import Store
from emulator.state import EMULATOR

API_PREFIXES = ("/v1", "")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Route = tuple[str, str, Handler]
Model = TypeVar("Model", bound=pydantic.BaseModel)
R = "/api/public"
ID = r"{id:\d+}"


def store_for(request: web.Request, scope: Scope) -> Store:
    api_key = require(request, scope)
    return request.app[EMULATOR].stores[api_key.environment]


def path_id(request: web.Request, name: str = "id") -> int:
    return int(request.match_info[name])


async def body_of(request: web.Request, model: type[Model]) -> Model:
    """The JSON body as ``model`` (strict JSON mode: dates from ISO strings, no coercion)."""
    return model.model_validate_json(await request.read() or b"null")


def data(entity: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": entity}, status=status)


def no_content() -> web.Response:
    return web.Response(status=204)


def page(request: web.Request, table: str, rows: list[dict[str, Any]]) -> web.Response:
    shape = request.app[EMULATOR].config.pagination
    return web.json_response(listing.select(table, rows, request.query, shape))


def _render_all(store: Store, table: str) -> list[dict[str, Any]]:
    return [store.render(table, row) for row in store.live(table)]


# -- customers and products ----------------------------------------------------------------------

_READ = {"customers": Scope.READ_CUSTOMERS, "products": Scope.READ_PRODUCTS}
_WRITE = {"customers": Scope.WRITE_CUSTOMERS, "products": Scope.WRITE_PRODUCTS}


def list_handler(table: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return page(request, table, _render_all(store_for(request, _READ[table]), table))

    return handler


def get_handler(table: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        store = store_for(request, _READ[table])
        return data(store.render(table, store.get(table, path_id(request))))

    return handler


async def create_customer(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_CUSTOMERS)
    customer = store.create_customer(await body_of(request, CreateCustomerDto))
    return data(store.render("customers", customer), 201)


async def update_customer(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_CUSTOMERS)
    body = await body_of(request, UpdateCustomerDto)
    return data(store.render("customers", store.update_customer(path_id(request), body)))


async def delete_customer(request: web.Request) -> web.Response:
    store_for(request, Scope.WRITE_CUSTOMERS).delete("customers", path_id(request))
    return no_content()


async def create_product(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_PRODUCTS)
    product = store.create_product(await body_of(request, CreateProductDto))
    return data(store.render("products", product), 201)


async def create_product_with_variants(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_PRODUCTS)
    body = await body_of(request, CreateProductWithVariantsDto)
    return data(store.render("products", store.create_product_with_variants(body)), 201)


async def update_product(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_PRODUCTS)
    body = await body_of(request, UpdateProductDto)
    return data(store.render("products", store.update_product(path_id(request), body)))


async def delete_product(request: web.Request) -> web.Response:
    store_for(request, Scope.WRITE_PRODUCTS).delete_product(path_id(request))
    return no_content()


# -- product variants --------------------------------------------------------------------------


async def list_variants(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_PRODUCTS)
    store.get("products", path_id(request))
    checks = listing.active_filter(request.query)
    rows = [v for v in store.variants(path_id(request)) if all(c(v) for c in checks)]
    shape = request.app[EMULATOR].config.pagination
    return web.json_response(listing.paginate(rows, request.query, shape))


async def get_variant(request: web.Request) -> web.Response:
    store = store_for(request, Scope.READ_PRODUCTS)
    return data(store.render("variants", store.get("variants", path_id(request))))


async def create_variant(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_PRODUCTS)
    variant = store.create_variant(await body_of(request, CreateProductVariantDto))
    return data(store.render("variants", variant), 201)


async def update_variant(request: web.Request) -> web.Response:
    store = store_for(request, Scope.WRITE_PRODUCTS)
    body = await body_of(request, UpdateProductVariantDto)
    return data(store.render("variants", store.update_variant(path_id(request), body)))


async def delete_variant(request: web.Request) -> web.Response:
    store_for(request, Scope.WRITE_PRODUCTS).delete_variant(path_id(request))
    return no_content()


# -- the webhook test endpoint -------------------------------------------------------------------


async def webhook_test(request: web.Request) -> web.Response:
    api_key = require(request, Scope.WEBHOOKS)
    emu = request.app[EMULATOR]
    decision = emu.test_window.hit(api_key.id, emu.config.test_endpoint_limit)
    if not decision.allowed:
        raise errors.rate_limited(
            limit=decision.limit, window_s=decision.window_s, retry_after_s=decision.retry_after_s
        )
    body = await body_of(request, WebhookTestIn)
    message = "Test webhook sent successfully"
    if api_key.webhook_url and not api_key.endpoint_disabled:
        emu.dispatcher.send(api_key, body.event, dict(body.data), source="test")
    else:
        message = "Test webhook processed; no webhook URL is configured for this API key"
    now = iso(datetime.now(UTC))
    return data({"message": message, "timestamp": now, "apiKey": api_key.prefix})


def catalog_routes() -> list[Route]:
    routes: list[Route] = []
    for table in ("customers", "products"):
        routes += [
            ("GET", f"{R}/{table}", list_handler(table)),
            ("GET", f"{R}/{table}/search", list_handler(table)),
            ("GET", f"{R}/{table}/{ID}", get_handler(table)),
        ]
    return [
        *routes,
        ("POST", f"{R}/customers", create_customer),
        ("PUT", f"{R}/customers/{ID}", update_customer),
        ("PATCH", f"{R}/customers/{ID}", update_customer),
        ("DELETE", f"{R}/customers/{ID}", delete_customer),
        ("POST", f"{R}/products", create_product),
        ("POST", f"{R}/products/with-variants", create_product_with_variants),
        ("PUT", f"{R}/products/{ID}", update_product),
        ("PATCH", f"{R}/products/{ID}", update_product),
        ("DELETE", f"{R}/products/{ID}", delete_product),
        ("GET", f"{R}/products/{ID}/variants", list_variants),
        ("POST", f"{R}/product-variants", create_variant),
        ("GET", f"{R}/product-variants/{ID}", get_variant),
        ("PUT", f"{R}/product-variants/{ID}", update_variant),
        ("PATCH", f"{R}/product-variants/{ID}", update_variant),
        ("DELETE", f"{R}/product-variants/{ID}", delete_variant),
        ("POST", f"{R}/webhooks/test", webhook_test),
    ]


def add_api_routes(app: web.Application, routes: list[Route]) -> None:
    for prefix in API_PREFIXES:
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)
