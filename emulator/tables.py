"""One environment's rows: plain JSON dicts with integer ids, and the events their changes emit.

Rows hold a resource's own fields exactly as the SDK names them (no ``null``: an unset optional
field is absent); relations (a budget's customer, a product's variants) are added when the row
is rendered (:mod:`emulator.views`). Deletes leave a tombstone that the API hides and
``/__emulator/state`` shows. Every change stamps a strictly later ``updatedAt``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulator import errors

Entity = dict[str, Any]
Emit = Callable[[str, Entity], None]

# table -> (event family, name in errors); tables without a family emit no webhooks
TABLES: dict[str, tuple[str | None, str]] = {
    "customers": ("customer", "Customer"),
    "products": ("product", "Product"),
    "variants": (None, "Product variant"),
    "budgets": ("budget", "Budget"),
    "approvals": (None, "Budget approval"),
    "approvers": (None, "Budget approver"),
    "configs": (None, "Approval configuration"),
}
EVENT_TABLES = {"budgets": "budget", "customers": "customer", "products": "product"}

BUSINESS_ID = 1  # each environment is one business ...
OWNER_USER_ID = 1  # ... whose owner (the key's user) is also the seller of the demo data


class Tables:
    def __init__(self, environment: str, *, stamp: Callable[[], str], emit: Emit) -> None:
        self.environment = environment
        self.stamp = stamp
        self._emit = emit
        self.tables: dict[str, dict[int, Entity]] = {name: {} for name in TABLES}
        self.deleted: dict[str, set[int]] = {name: set() for name in TABLES}
        self._next_id: dict[str, int] = {name: 1 for name in (*TABLES, "items")}

    # -- reading -----------------------------------------------------------------------------

    def live(self, table: str) -> list[Entity]:
        gone = self.deleted[table]
        return [e for i, e in sorted(self.tables[table].items()) if i not in gone]

    def get(self, table: str, entity_id: int) -> Entity:
        entity = self.tables[table].get(entity_id)
        if entity is None or entity_id in self.deleted[table]:
            raise errors.not_found(TABLES[table][1])
        return entity

    def exists(self, table: str, entity_id: int) -> bool:
        return entity_id in self.tables[table] and entity_id not in self.deleted[table]

    def render(self, table: str, entity: Entity) -> Entity:
        """The resource as the REST API returns it (relations added); overridden per table."""
        return copy.deepcopy(entity)

    def snapshot(self) -> dict[str, list[Entity]]:
        return {
            table: [
                {**self.render(table, e), "deleted": i in self.deleted[table]}
                for i, e in sorted(rows.items())
            ]
            for table, rows in self.tables.items()
        }

    # -- generic writes ----------------------------------------------------------------------

    def new_id(self, table: str) -> int:
        value = self._next_id[table]
        self._next_id[table] = value + 1
        return value

    def emit(self, table: str, action: str, entity: Entity) -> None:
        family = TABLES[table][0]
        if family is not None:
            self._emit(f"{family}.{action}", self.render(table, entity))

    def insert(self, table: str, fields: Entity) -> Entity:
        now = self.stamp()
        entity = {"id": self.new_id(table), **fields, "createdAt": now, "updatedAt": now}
        self.tables[table][entity["id"]] = entity
        self.emit(table, "created", entity)
        return entity

    def change(self, table: str, entity_id: int, fields: Entity, action: str = "updated") -> Entity:
        entity = self.get(table, entity_id)
        entity.update(fields)
        entity["updatedAt"] = self.stamp()
        self.emit(table, action, entity)
        return entity

    def touch(self, table: str, entity_id: int) -> Entity:
        return self.change(table, entity_id, {})

    def delete(self, table: str, entity_id: int) -> Entity:
        """Delete; ``*.deleted`` carries the resource's last state as the API returned it."""
        entity = self.get(table, entity_id)
        self.emit(table, "deleted", entity)
        self.deleted[table].add(entity_id)
        return entity

    def reemit(self, table: str, entity_id: int, action: str) -> Entity:
        entity = self.get(table, entity_id)
        self.emit(table, action, entity)
        return entity
