"""Typed Billoget API calls: budgets, customers, products (with variants), the webhook test.

Lists follow ``pagination.hasMore`` page by page (``limit`` is capped at 100 by Billoget); both
list shapes are read (the docs' ``{data, pagination}`` and the SDK's ``{data: {data, meta}}``).
Filters are keyword arguments in snake_case or camelCase (``customer_id=7`` → ``customerId=7``);
dates are sent as ISO-8601 and ``None`` values are dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import date, datetime
from typing import Any, Literal, overload
from urllib.parse import quote

from core.billoget.errors import ApiValidationError
from core.billoget.models import (
    Budget,
    Customer,
    Entity,
    Page,
    Product,
    ProductVariant,
    PublicBudgetCreated,
    WebhookTestResult,
)
from core.billoget.transport import ApiTransport, M
from core.events import Family

MAX_PAGE_SIZE = 100
BUDGETS, CUSTOMERS, PRODUCTS = (
    "/api/public/budgets",
    "/api/public/customers",
    "/api/public/products",
)
PUBLIC_BUDGETS = "/api/budgets/public"
WEBHOOK_TEST = "/api/public/webhooks/test"
_FAMILIES: dict[str, tuple[str, type[Entity]]] = {
    "budget": (BUDGETS, Budget),
    "customer": (CUSTOMERS, Customer),
    "product": (PRODUCTS, Product),
}
_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def entity_path(collection: str, entity_id: int | str) -> str:
    """``{collection}/{id}``; an id that could change the path is refused before sending."""
    text = str(entity_id)
    if not text or len(text) > 64 or not set(text) <= _ID_CHARS:
        raise ApiValidationError(
            f"id must be 1-64 letters, digits, '_' or '-', got {text[:20]!r} ({collection})",
            code="invalid_id",
        )
    return f"{collection}/{quote(text, safe='')}"


def to_query(filters: Mapping[str, Any]) -> dict[str, str]:
    """snake_case filters as Billoget's camelCase query string values."""
    query: dict[str, str] = {}
    for name, value in filters.items():
        if value is None:
            continue
        head, *rest = name.split("_")
        wire = head + "".join(part[:1].upper() + part[1:] for part in rest)
        if isinstance(value, bool):
            query[wire] = "true" if value else "false"
        elif isinstance(value, datetime | date):
            query[wire] = value.isoformat()
        else:
            query[wire] = str(value)
    return query


def _family(family: str) -> tuple[str, type[Entity]]:
    try:
        return _FAMILIES[family]
    except KeyError:
        raise ValueError(
            f"unknown family {family!r}; expected one of {sorted(_FAMILIES)}"
        ) from None


class BillogetClient(ApiTransport):
    """Typed access to the Billoget API with one key. Use as ``async with BillogetClient(...)``."""

    # -- single entities -------------------------------------------------------------------------

    async def get_budget(self, budget_id: int | str) -> Budget:
        return await self._data(Budget, "GET", entity_path(BUDGETS, budget_id))

    async def get_customer(self, customer_id: int | str) -> Customer:
        return await self._data(Customer, "GET", entity_path(CUSTOMERS, customer_id))

    async def get_product(self, product_id: int | str) -> Product:
        return await self._data(Product, "GET", entity_path(PRODUCTS, product_id))

    @overload
    async def get_entity(self, family: Literal["budget"], entity_id: int | str) -> Budget: ...
    @overload
    async def get_entity(self, family: Literal["customer"], entity_id: int | str) -> Customer: ...
    @overload
    async def get_entity(self, family: Literal["product"], entity_id: int | str) -> Product: ...
    async def get_entity(self, family: Family, entity_id: int | str) -> Entity:
        collection, model = _family(family)
        return await self._data(model, "GET", entity_path(collection, entity_id))

    # -- lists ------------------------------------------------------------------------------------

    @overload
    async def list_page(
        self, family: Literal["budget"], *, page: int, limit: int, **filters: Any
    ) -> Page[Budget]: ...
    @overload
    async def list_page(
        self, family: Literal["customer"], *, page: int, limit: int, **filters: Any
    ) -> Page[Customer]: ...
    @overload
    async def list_page(
        self, family: Literal["product"], *, page: int, limit: int, **filters: Any
    ) -> Page[Product]: ...
    async def list_page(
        self, family: Family, *, page: int, limit: int, **filters: Any
    ) -> Page[Budget] | Page[Customer] | Page[Product]:
        """One page of a list."""
        collection, model = _family(family)
        page_of: Page[Any] = await self._page(
            collection, model, page=page, limit=limit, filters=filters
        )
        return page_of

    async def list_budgets(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[Budget]:
        """Every budget matching ``status``, ``customer_id``, ``search``, ``start_date``, ..."""
        async for item in self._walk(BUDGETS, Budget, page_size, filters):
            yield item

    async def list_customers(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[Customer]:
        async for item in self._walk(CUSTOMERS, Customer, page_size, filters):
            yield item

    async def list_products(
        self, *, page_size: int = MAX_PAGE_SIZE, **filters: Any
    ) -> AsyncIterator[Product]:
        async for item in self._walk(PRODUCTS, Product, page_size, filters):
            yield item

    async def list_product_variants(self, product_id: int | str) -> list[ProductVariant]:
        path = entity_path(PRODUCTS, product_id) + "/variants"
        return [v async for v in self._walk(path, ProductVariant, MAX_PAGE_SIZE, {})]

    async def _page(
        self, path: str, model: type[M], *, page: int, limit: int, filters: Mapping[str, Any]
    ) -> Page[M]:
        if page < 1 or limit < 1:
            raise ValueError("page and limit must be positive")
        query = to_query({**filters, "page": page, "limit": min(limit, MAX_PAGE_SIZE)})
        body = await self._request("GET", path, params=query)
        if (
            isinstance(body, dict)
            and isinstance(body.get("data"), list)
            and "pagination" not in body
        ):
            body = {**body, "pagination": {"page": page, "limit": limit, "hasMore": False}}
        return self._model(Page[model], body, "GET", path)  # type: ignore[valid-type]

    async def _walk(
        self, path: str, model: type[M], page_size: int, filters: Mapping[str, Any]
    ) -> AsyncIterator[M]:
        page = 1
        while True:
            result = await self._page(path, model, page=page, limit=page_size, filters=filters)
            for item in result.data:
                yield item
            if not result.pagination.has_more or not result.data:
                return
            page += 1

    # -- writes -----------------------------------------------------------------------------------

    async def create_customer(self, data: Mapping[str, Any]) -> Customer:
        return await self._data(Customer, "POST", CUSTOMERS, json=dict(data))

    async def update_customer(self, customer_id: int | str, data: Mapping[str, Any]) -> Customer:
        path = entity_path(CUSTOMERS, customer_id)
        return await self._data(Customer, "PUT", path, json=dict(data))

    async def delete_customer(self, customer_id: int | str) -> None:
        await self._request("DELETE", entity_path(CUSTOMERS, customer_id))

    async def create_product(self, data: Mapping[str, Any]) -> Product:
        return await self._data(Product, "POST", PRODUCTS, json=dict(data))

    async def update_product(self, product_id: int | str, data: Mapping[str, Any]) -> Product:
        path = entity_path(PRODUCTS, product_id)
        return await self._data(Product, "PUT", path, json=dict(data))

    async def delete_product(self, product_id: int | str) -> None:
        await self._request("DELETE", entity_path(PRODUCTS, product_id))

    async def create_public_budget(self, data: Mapping[str, Any]) -> PublicBudgetCreated:
        """``POST /api/budgets/public`` with the SDK's ``CreateBudgetRequest``; the new budget's
        id, public token and URL (fetch it with :meth:`get_budget`)."""
        return await self._data(PublicBudgetCreated, "POST", PUBLIC_BUDGETS, json=dict(data))

    async def webhook_test(self, *, event: str, data: Mapping[str, Any]) -> WebhookTestResult:
        """Ask Billoget to send a test delivery to this key's webhook URL."""
        body = {"event": event, "data": dict(data)}
        return await self._data(WebhookTestResult, "POST", WEBHOOK_TEST, json=body)
