"""Billoget's public API routes, each served under both ``/v1`` and ``/``.

Scopes (from the seed's table):

==================================================  ===============
route                                               scope
==================================================  ===============
GET  /api/public/budgets[/{id}]                     READ_BUDGETS
POST /api/budgets/public (public budget create)     WRITE_BUDGETS
PUT  /api/public/budgets/{id}                       WRITE_BUDGETS
POST /api/public/budgets/{id}/approve|reject        WRITE_BUDGETS
GET  /api/public/customers[/search|/{id}]           READ_CUSTOMERS
POST|PUT|DELETE /api/public/customers[/{id}]        WRITE_CUSTOMERS
GET  /api/public/products[/search|/{id}]            READ_PRODUCTS
POST|PUT|DELETE /api/public/products[/{id}]         WRITE_PRODUCTS
GET  /api/public/products/{id}/variants[/{vid}]     READ_PRODUCTS
POST|PUT|DELETE /api/public/products/{id}/variants  WRITE_PRODUCTS
POST /api/public/webhooks/test                      WEBHOOKS
==================================================  ===============
"""

from __future__ import annotations

import json
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
    BudgetIn,
    BudgetPatch,
    CustomerIn,
    CustomerPatch,
    ProductIn,
    ProductPatch,
    VariantIn,
    VariantPatch,
    WebhookTestIn,
)
from emulator.resources import BUDGET_APPROVED, BUDGET_REJECTED, Store
from emulator.state import EMULATOR

API_PREFIXES = ("/v1", "")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Model = TypeVar("Model", bound=pydantic.BaseModel)
R = "/api/public"
ID = r"{id:\d+}"
VID = r"{variant_id:\d+}"

_READ = {
    "budgets": Scope.READ_BUDGETS,
    "customers": Scope.READ_CUSTOMERS,
    "products": Scope.READ_PRODUCTS,
}
_WRITE = {
    "budgets": Scope.WRITE_BUDGETS,
    "customers": Scope.WRITE_CUSTOMERS,
    "products": Scope.WRITE_PRODUCTS,
}


def _store(request: web.Request, scope: Scope) -> Store:
    api_key = require(request, scope)
    return request.app[EMULATOR].stores[api_key.environment]


def _id(request: web.Request, name: str = "id") -> int:
    return int(request.match_info[name])


async def _body(request: web.Request, model: type[Model]) -> Model:
    try:
        data = json.loads(await request.read() or b"null")
    except ValueError:
        raise errors.validation_error("Request body must be a JSON object") from None
    return model.model_validate(data)


def _data(entity: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": entity}, status=status)


def list_handler(table: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        store = _store(request, _READ[table])
        return web.json_response(listing.select(table, store.live(table), request.query))

    return handler


def get_handler(table: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return _data(_store(request, _READ[table]).get(table, _id(request)))

    return handler


def delete_handler(table: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        store = _store(request, _WRITE[table])
        entity = store.delete(table, _id(request))
        return _data({"id": entity["id"], "deleted": True, "deletedAt": entity["deletedAt"]})

    return handler


async def create_customer(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_CUSTOMERS)
    return _data(store.create_customer(await _body(request, CustomerIn)), 201)


async def update_customer(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_CUSTOMERS)
    return _data(store.update_customer(_id(request), await _body(request, CustomerPatch)))


async def create_product(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_PRODUCTS)
    return _data(store.create_product(await _body(request, ProductIn)), 201)


async def update_product(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_PRODUCTS)
    return _data(store.update_product(_id(request), await _body(request, ProductPatch)))


async def list_variants(request: web.Request) -> web.Response:
    variants = _store(request, Scope.READ_PRODUCTS).variants(_id(request))
    return web.json_response(listing.paginate(variants, request.query))


async def get_variant(request: web.Request) -> web.Response:
    store = _store(request, Scope.READ_PRODUCTS)
    for variant in store.variants(_id(request)):
        if variant["id"] == _id(request, "variant_id"):
            return _data(variant)
    raise errors.not_found("Variant")


async def create_variant(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_PRODUCTS)
    return _data(store.add_variant(_id(request), await _body(request, VariantIn)), 201)


async def update_variant(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_PRODUCTS)
    body = await _body(request, VariantPatch)
    return _data(store.update_variant(_id(request), _id(request, "variant_id"), body))


async def delete_variant(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_PRODUCTS)
    store.delete_variant(_id(request), _id(request, "variant_id"))
    return _data({"id": _id(request, "variant_id"), "deleted": True})


async def create_budget(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_BUDGETS)
    return _data(store.create_budget(await _body(request, BudgetIn)), 201)


async def update_budget(request: web.Request) -> web.Response:
    store = _store(request, Scope.WRITE_BUDGETS)
    return _data(store.update_budget(_id(request), await _body(request, BudgetPatch)))


def decide_handler(state: int) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return _data(_store(request, Scope.WRITE_BUDGETS).decide_budget(_id(request), state))

    return handler


async def webhook_test(request: web.Request) -> web.Response:
    api_key = require(request, Scope.WEBHOOKS)
    emu = request.app[EMULATOR]
    decision = emu.test_window.hit(api_key.id, emu.config.test_endpoint_limit)
    if not decision.allowed:
        raise errors.rate_limited(
            limit=decision.limit, window_s=decision.window_s, retry_after_s=decision.retry_after_s
        )
    body = await _body(request, WebhookTestIn)
    message = "Test webhook sent successfully"
    if api_key.webhook_url and not api_key.endpoint_disabled:
        emu.dispatcher.send(api_key, body.event, dict(body.data))
    else:
        message = "Test webhook processed; no webhook URL is configured for this API key"
    now = iso(datetime.now(UTC))
    return _data({"message": message, "timestamp": now, "apiKey": api_key.prefix})


def _routes() -> list[tuple[str, str, Handler]]:
    routes: list[tuple[str, str, Handler]] = []
    for table in ("budgets", "customers", "products"):
        routes += [
            ("GET", f"{R}/{table}", list_handler(table)),
            ("GET", f"{R}/{table}/{ID}", get_handler(table)),
        ]
    for table in ("customers", "products"):
        routes += [
            ("GET", f"{R}/{table}/search", list_handler(table)),
            ("DELETE", f"{R}/{table}/{ID}", delete_handler(table)),
        ]
    return [
        *routes,
        ("POST", f"{R}/customers", create_customer),
        ("PUT", f"{R}/customers/{ID}", update_customer),
        ("PATCH", f"{R}/customers/{ID}", update_customer),
        ("POST", f"{R}/products", create_product),
        ("PUT", f"{R}/products/{ID}", update_product),
        ("PATCH", f"{R}/products/{ID}", update_product),
        ("GET", f"{R}/products/{ID}/variants", list_variants),
        ("POST", f"{R}/products/{ID}/variants", create_variant),
        ("GET", f"{R}/products/{ID}/variants/{VID}", get_variant),
        ("PUT", f"{R}/products/{ID}/variants/{VID}", update_variant),
        ("DELETE", f"{R}/products/{ID}/variants/{VID}", delete_variant),
        ("POST", "/api/budgets/public", create_budget),
        ("POST", f"{R}/budgets", create_budget),
        ("PUT", f"{R}/budgets/{ID}", update_budget),
        ("POST", f"{R}/budgets/{ID}/approve", decide_handler(BUDGET_APPROVED)),
        ("POST", f"{R}/budgets/{ID}/reject", decide_handler(BUDGET_REJECTED)),
        ("POST", f"{R}/webhooks/test", webhook_test),
    ]


def add_api_routes(app: web.Application) -> None:
    routes = _routes()
    for prefix in API_PREFIXES:
        for method, path, handler in routes:
            app.router.add_route(method, prefix + path, handler)
