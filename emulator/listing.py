"""List queries: the filters the SDK sends, and page/limit pagination in either answer shape.

``docs`` (the default, Billoget's docs): ``{"data": [...], "pagination": {"page", "limit",
"total", "hasMore"}}``. ``sdk`` (the SDK's ``PaginatedResponse`` inside its ``ApiResponse``):
``{"data": {"data": [...], "meta": {"totalItems", "itemCount", "itemsPerPage", "totalPages",
"currentPage"}}}``. ``limit`` defaults to 10 and is capped at 100.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, Literal

from emulator import errors
from emulator.models import PRODUCT_TYPES, product_type

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
PaginationShape = Literal["docs", "sdk"]
SEARCH_FIELDS = {
    "customers": ("firstName", "lastName", "email", "phoneNumber", "dni", "cuit"),
    "products": ("productCode", "description", "category", "sku", "barcode"),
    "budgets": ("id", "comments"),
}

Entity = dict[str, Any]
Check = Callable[[Entity], bool]


def positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise errors.field_error(name, "must be a positive integer")
    return value


def optional_int(query: Mapping[str, str], name: str) -> int | None:
    return positive_int(query, name, 0) or None


def _bool(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() not in ("true", "false"):
        raise errors.field_error(name, "must be true or false")
    return raw.lower() == "true"


def paginate(rows: list[Entity], query: Mapping[str, str], shape: PaginationShape) -> Entity:
    page = positive_int(query, "page", 1)
    limit = min(positive_int(query, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    start = (page - 1) * limit
    chosen = rows[start : start + limit]
    if shape == "sdk":
        meta = {
            "totalItems": len(rows),
            "itemCount": len(chosen),
            "itemsPerPage": limit,
            "totalPages": math.ceil(len(rows) / limit),
            "currentPage": page,
        }
        return {"data": {"data": chosen, "meta": meta}}
    pagination = {"page": page, "limit": limit, "total": len(rows)}
    return {"data": chosen, "pagination": pagination | {"hasMore": start + limit < len(rows)}}


def _text(entity: Entity, fields: tuple[str, ...]) -> str:
    parts = [str(entity.get(f) or "") for f in fields]
    customer = entity.get("customer")
    if isinstance(customer, dict):
        parts += [str(customer.get("firstName") or ""), str(customer.get("lastName") or "")]
    return " ".join(parts).lower()


def _moment(query: Mapping[str, str], name: str, *, end: bool) -> datetime | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise errors.field_error(name, "must be an ISO 8601 date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _issued(entity: Entity) -> datetime:
    return datetime.fromisoformat(entity["issueDate"].replace("Z", "+00:00"))


def _state_is(state: int) -> Check:
    return lambda e: bool(e["state"] == state)


def _budget_filters(query: Mapping[str, str]) -> list[Check]:
    checks: list[Check] = []
    for name in ("status", "state"):  # the SDK sends its BudgetState as ``status``
        if raw := query.get(name):
            if raw not in ("0", "1", "2"):
                raise errors.field_error(name, "must be a BudgetState: 0, 1 or 2")
            checks.append(_state_is(int(raw)))
    if (customer_id := optional_int(query, "customerId")) is not None:
        checks.append(lambda e: e["customerId"] == customer_id)
    if (start := _moment(query, "startDate", end=False)) is not None:
        checks.append(lambda e: _issued(e) >= start)
    if (stop := _moment(query, "endDate", end=True)) is not None:
        checks.append(lambda e: _issued(e) <= stop)
    return checks


def _product_filters(query: Mapping[str, str]) -> list[Check]:
    checks: list[Check] = []
    if category := query.get("category"):
        checks.append(lambda e: str(e["category"]).lower() == category.lower())
    if kind := query.get("type"):
        wanted = product_type(kind)
        if wanted not in PRODUCT_TYPES:
            raise errors.field_error("type", "must be product or service")
        checks.append(lambda e: e["type"] == wanted)
    return checks


def active_filter(query: Mapping[str, str]) -> list[Check]:
    active = _bool(query, "isActive")
    return [] if active is None else [lambda e: e["isActive"] is active]


def filters(table: str, query: Mapping[str, str]) -> list[Check]:
    """The checks a list's query string asks for (a bad value is a 422 naming it)."""
    checks: list[Check] = []
    if table == "budgets":
        checks += _budget_filters(query)
    if table == "products":
        checks += _product_filters(query) + active_filter(query)
    if table in SEARCH_FIELDS and (term := (query.get("search") or query.get("q") or "")):
        needle = term.strip().lower()
        checks.append(lambda e: needle in _text(e, SEARCH_FIELDS[table]))
    return checks


def select(
    table: str, rows: list[Entity], query: Mapping[str, str], shape: PaginationShape
) -> Entity:
    """Filter rendered ``rows`` by the query string; one page of them, by ascending id."""
    checks = filters(table, query)
    chosen = sorted((r for r in rows if all(c(r) for c in checks)), key=lambda r: r["id"])
    return paginate(chosen, query, shape)
