"""List queries: page/limit pagination (limit capped at 100), search and budget filters."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from emulator import errors

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SEARCH_FIELDS = {
    "customers": ("firstName", "lastName", "email", "company"),
    "products": ("name", "productCode", "description"),
    "budgets": ("budgetNumber", "title"),
}
_STATUS_ALIASES = {"0": "PENDING", "1": "APPROVED", "2": "REJECTED"}

Entity = dict[str, Any]


def _positive_int(query: Mapping[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise errors.validation_error(
            f"{name} must be a positive integer", [{"field": name, "message": "invalid"}]
        )
    return value


def paginate(rows: list[Entity], query: Mapping[str, str]) -> dict[str, Any]:
    page = _positive_int(query, "page", 1)
    limit = min(_positive_int(query, "limit", DEFAULT_LIMIT), MAX_LIMIT)
    start = (page - 1) * limit
    return {
        "data": rows[start : start + limit],
        "pagination": {
            "page": page,
            "limit": limit,
            "total": len(rows),
            "hasMore": start + limit < len(rows),
        },
    }


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
        raise errors.validation_error(
            f"{name} must be an ISO-8601 date", [{"field": name, "message": "invalid date"}]
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _created(entity: Entity) -> datetime:
    return datetime.fromisoformat(entity["createdAt"].replace("Z", "+00:00"))


def _budget_filters(query: Mapping[str, str]) -> list[Callable[[Entity], bool]]:
    checks: list[Callable[[Entity], bool]] = []
    if status := query.get("status"):
        wanted = _STATUS_ALIASES.get(status, status.upper())
        checks.append(lambda e: e["status"] == wanted)
    if query.get("customerId"):
        customer_id = _positive_int(query, "customerId", 0)
        checks.append(lambda e: e["customerId"] == customer_id)
    if (start := _moment(query, "startDate", end=False)) is not None:
        checks.append(lambda e: _created(e) >= start)
    if (stop := _moment(query, "endDate", end=True)) is not None:
        checks.append(lambda e: _created(e) <= stop)
    return checks


def select(table: str, rows: list[Entity], query: Mapping[str, str]) -> dict[str, Any]:
    """Filter ``rows`` by the query string and return one page of them, by ascending id."""
    checks = _budget_filters(query) if table == "budgets" else []
    if term := (query.get("search") or query.get("q") or "").strip().lower():
        checks.append(lambda e: term in _text(e, SEARCH_FIELDS[table]))
    chosen = sorted((r for r in rows if all(c(r) for c in checks)), key=lambda r: r["id"])
    return paginate(chosen, query)
