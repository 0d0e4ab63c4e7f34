"""``POST /__emulator/trigger``: perform the state change an event names, which emits it.

Triggers stand for Billoget's dashboard (``metadata.source`` ``web``), except ``budget.expired``,
which Billoget itself does (``system``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from emulator import errors, seed, source
from emulator.admin_models import BudgetChanges, TriggerIn
from emulator.clock import iso
from emulator.models import UpdateCustomerDto, UpdateProductDto, utc
from emulator.resources import APPROVED, REJECTED, Store

Entity = dict[str, Any]


def _sample(store: Store, table: str) -> Entity:
    if table == "customers":
        return seed.sample_customer(store)
    if table == "products":
        return seed.sample_product(store)
    return seed.sample_budget(store)


def _parsed(model: type[BaseModel], changes: dict[str, Any]) -> Any:
    """``changes`` validated as ``model`` would validate a JSON body (strict JSON mode)."""
    return model.model_validate_json(json.dumps(changes))


def _update(store: Store, table: str, entity_id: int, changes: dict[str, Any]) -> Entity:
    if not changes:
        return store.touch(table, entity_id)
    if table == "customers":
        return store.update_customer(entity_id, _parsed(UpdateCustomerDto, changes))
    if table == "products":
        return store.update_product(entity_id, _parsed(UpdateProductDto, changes))
    budget: BudgetChanges = _parsed(BudgetChanges, changes)
    fields = budget.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    if budget.expirationDate is not None:
        fields["expirationDate"] = iso(utc(budget.expirationDate))
    return store.update_budget(entity_id, fields)


def _delete(store: Store, table: str, entity_id: int) -> Entity:
    if table == "products":
        return store.delete_product(entity_id)
    return store.delete(table, entity_id)


def trigger(store: Store, body: TriggerIn) -> Entity:
    """Perform the change; the entity as the REST API returns it (its last state if deleted)."""
    family, _, action = body.event.partition(".")
    table = family + "s"
    if body.id is None:
        if action != "created":
            raise errors.validation_error(f"id is required for {body.event}")
        return store.render(table, _sample(store, table))
    if action == "created":
        entity = store.reemit(table, body.id, "created")
    elif action == "updated":
        entity = _update(store, table, body.id, body.changes)
    elif action == "deleted":
        last = store.render(table, store.get(table, body.id))
        _delete(store, table, body.id)
        return last
    elif action == "expired":
        with source.acting_as("system"):
            entity = store.expire_budget(body.id)
    else:
        state = APPROVED if action == "approved" else REJECTED
        entity = store.decide_budget(body.id, state, force=True)
    return store.render(table, entity)
