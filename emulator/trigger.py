"""``POST /__emulator/trigger``: perform the state change an event names, which emits it."""

from __future__ import annotations

from typing import Any

from emulator import errors, seed
from emulator.admin_models import TriggerIn
from emulator.models import BudgetPatch, CustomerPatch, ProductPatch
from emulator.resources import BUDGET_APPROVED, BUDGET_REJECTED, Store

Entity = dict[str, Any]


def _sample(store: Store, table: str) -> Entity:
    if table == "customers":
        return seed.sample_customer(store)
    if table == "products":
        return seed.sample_product(store)
    return seed.sample_budget(store)


def _update(store: Store, table: str, entity_id: int, changes: dict[str, Any]) -> Entity:
    if not changes:
        return store.touch(table, entity_id)
    if table == "customers":
        return store.update_customer(entity_id, CustomerPatch.model_validate(changes))
    if table == "products":
        return store.update_product(entity_id, ProductPatch.model_validate(changes))
    return store.update_budget(entity_id, BudgetPatch.model_validate(changes))


def trigger(store: Store, body: TriggerIn) -> Entity:
    family, _, action = body.event.partition(".")
    table = family + "s"
    if body.id is None:
        if action != "created":
            raise errors.validation_error(f"id is required for {body.event}")
        return _sample(store, table)
    if action == "created":
        return store.reemit(table, body.id, "created")
    if action == "updated":
        return _update(store, table, body.id, body.changes)
    if action == "deleted":
        return store.delete(table, body.id)
    if action == "expired":
        return store.expire_budget(body.id)
    state = BUDGET_APPROVED if action == "approved" else BUDGET_REJECTED
    return store.decide_budget(body.id, state, force=True)
