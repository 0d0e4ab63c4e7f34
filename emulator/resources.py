"""One environment's data: budgets, customers, products (with variants).

Entities are plain JSON dicts in Billoget's SDK shape with integer ids. Deletes leave a
tombstone (``deletedAt``) that the API hides and ``/__emulator/state`` shows. Every change
stamps a strictly later ``updatedAt`` and emits its event through ``emit``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulator import errors
from emulator.models import (
    BudgetIn,
    BudgetItemIn,
    BudgetPatch,
    CustomerIn,
    CustomerPatch,
    ProductIn,
    ProductPatch,
    VariantIn,
    VariantPatch,
)

Entity = dict[str, Any]
Emit = Callable[[str, Entity], None]

BUDGET_PENDING, BUDGET_APPROVED, BUDGET_REJECTED = 0, 1, 2
BUDGET_STATUS = {
    BUDGET_PENDING: "PENDING",
    BUDGET_APPROVED: "APPROVED",
    BUDGET_REJECTED: "REJECTED",
}
TABLES = {"budgets": "budget", "customers": "customer", "products": "product"}
_NAMES = {"budgets": "Budget", "customers": "Customer", "products": "Product"}


class Store:
    def __init__(self, environment: str, *, stamp: Callable[[], str], emit: Emit) -> None:
        self.environment = environment
        self._stamp = stamp
        self._emit = emit
        self.tables: dict[str, dict[int, Entity]] = {name: {} for name in TABLES}
        self._next_id: dict[str, int] = {name: 1 for name in (*TABLES, "variants")}

    # -- reading ---------------------------------------------------------------------------

    def live(self, table: str) -> list[Entity]:
        return [e for e in self.tables[table].values() if "deletedAt" not in e]

    def get(self, table: str, entity_id: int) -> Entity:
        entity = self.tables[table].get(entity_id)
        if entity is None or "deletedAt" in entity:
            raise errors.not_found(_NAMES[table])
        return entity

    def snapshot(self) -> dict[str, list[Entity]]:
        return {
            table: [{**copy.deepcopy(e), "deleted": "deletedAt" in e} for e in rows.values()]
            for table, rows in self.tables.items()
        }

    # -- generic writes ----------------------------------------------------------------------

    def _new_id(self, table: str) -> int:
        value = self._next_id[table]
        self._next_id[table] = value + 1
        return value

    def _insert(self, table: str, fields: Entity) -> Entity:
        now = self._stamp()
        entity = {"id": self._new_id(table), **fields, "createdAt": now, "updatedAt": now}
        self.tables[table][entity["id"]] = entity
        self._emit(f"{TABLES[table]}.created", copy.deepcopy(entity))
        return entity

    def _change(self, table: str, entity_id: int, fields: Entity, event: str = "updated") -> Entity:
        entity = self.get(table, entity_id)
        entity.update(fields)
        entity["updatedAt"] = self._stamp()
        self._emit(f"{TABLES[table]}.{event}", copy.deepcopy(entity))
        return entity

    def touch(self, table: str, entity_id: int) -> Entity:
        return self._change(table, entity_id, {})

    def delete(self, table: str, entity_id: int) -> Entity:
        entity = self.get(table, entity_id)
        now = self._stamp()
        entity["deletedAt"] = entity["updatedAt"] = now
        self._emit(f"{TABLES[table]}.deleted", {"id": entity_id, "deletedAt": now})
        return entity

    def reemit(self, table: str, entity_id: int, event: str) -> Entity:
        entity = self.get(table, entity_id)
        self._emit(f"{TABLES[table]}.{event}", copy.deepcopy(entity))
        return entity

    # -- customers and products --------------------------------------------------------------

    def create_customer(self, body: CustomerIn) -> Entity:
        return self._insert("customers", body.model_dump())

    def update_customer(self, entity_id: int, body: CustomerPatch) -> Entity:
        return self._change("customers", entity_id, body.model_dump(exclude_unset=True))

    def create_product(self, body: ProductIn) -> Entity:
        return self._insert("products", {**body.model_dump(), "variants": []})

    def update_product(self, entity_id: int, body: ProductPatch) -> Entity:
        return self._change("products", entity_id, body.model_dump(exclude_unset=True))

    def variants(self, product_id: int) -> list[Entity]:
        return list(self.get("products", product_id)["variants"])

    def add_variant(self, product_id: int, body: VariantIn) -> Entity:
        product = self.get("products", product_id)
        now = self._stamp()
        variant = {"id": self._new_id("variants"), "productId": product_id, **body.model_dump()}
        variant |= {"createdAt": now, "updatedAt": now}
        self._change("products", product_id, {"variants": [*product["variants"], variant]})
        return variant

    def _variant(self, product_id: int, variant_id: int) -> Entity:
        for variant in self.get("products", product_id)["variants"]:
            if variant["id"] == variant_id:
                return dict(variant)
        raise errors.not_found("Variant")

    def update_variant(self, product_id: int, variant_id: int, body: VariantPatch) -> Entity:
        variant = self._variant(product_id, variant_id)
        variant |= body.model_dump(exclude_unset=True) | {"updatedAt": self._stamp()}
        rows = [variant if v["id"] == variant_id else v for v in self.variants(product_id)]
        self._change("products", product_id, {"variants": rows})
        return variant

    def delete_variant(self, product_id: int, variant_id: int) -> None:
        self._variant(product_id, variant_id)
        rows = [v for v in self.variants(product_id) if v["id"] != variant_id]
        self._change("products", product_id, {"variants": rows})

    # -- budgets -----------------------------------------------------------------------------

    def _customer_ref(self, customer_id: int) -> Entity:
        try:
            customer = self.get("customers", customer_id)
        except errors.ApiError:
            raise errors.validation_error(
                "Customer does not exist", [{"field": "customerId", "message": "not found"}]
            ) from None
        keys = ("id", "firstName", "lastName", "email")
        return {k: customer.get(k) for k in keys}

    def _priced(self, items: list[BudgetItemIn], tax_rate: float) -> Entity:
        lines = [
            {**item.model_dump(), "id": n, "total": round(item.quantity * item.unitPrice, 2)}
            for n, item in enumerate(items, start=1)
        ]
        subtotal = round(sum(line["total"] for line in lines), 2)
        tax = round(subtotal * tax_rate, 2)
        return {
            "items": lines,
            "taxRate": tax_rate,
            "subtotal": subtotal,
            "tax": tax,
            "total": round(subtotal + tax, 2),
        }

    def create_budget(self, body: BudgetIn) -> Entity:
        if body.customer is not None:
            customer_id = self.create_customer(body.customer)["id"]
        else:
            assert body.customerId is not None
            customer_id = body.customerId
        number = self._next_id["budgets"]
        fields = {
            "budgetNumber": f"B-{number:05d}",
            "customerId": customer_id,
            "customer": self._customer_ref(customer_id),
            "title": body.title or f"Budget {number}",
            "description": body.description,
            "currency": body.currency,
            **self._priced(body.items, body.taxRate),
            "state": BUDGET_PENDING,
            "status": BUDGET_STATUS[BUDGET_PENDING],
            "validUntil": body.validUntil.isoformat() if body.validUntil else None,
        }
        return self._insert("budgets", fields)

    def update_budget(self, entity_id: int, body: BudgetPatch) -> Entity:
        budget = self.get("budgets", entity_id)
        fields = body.model_dump(exclude_unset=True, exclude={"items", "taxRate", "validUntil"})
        if "validUntil" in body.model_fields_set:
            fields["validUntil"] = body.validUntil.isoformat() if body.validUntil else None
        if body.items is not None or body.taxRate is not None:
            items = body.items or [BudgetItemIn(**i) for i in budget["items"]]
            tax_rate = budget["taxRate"] if body.taxRate is None else body.taxRate
            fields |= self._priced(items, tax_rate)
        return self._change("budgets", entity_id, fields)

    def decide_budget(self, entity_id: int, state: int, *, force: bool = False) -> Entity:
        budget = self.get("budgets", entity_id)
        if not force and budget["status"] != "PENDING":
            raise errors.validation_error(f"Budget is {budget['status']}, not PENDING")
        event = "approved" if state == BUDGET_APPROVED else "rejected"
        fields = {"state": state, "status": BUDGET_STATUS[state]}
        return self._change("budgets", entity_id, fields, event)

    def expire_budget(self, entity_id: int) -> Entity:
        return self._change("budgets", entity_id, {"status": "EXPIRED"}, "expired")
