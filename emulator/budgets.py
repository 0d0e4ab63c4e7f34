"""Budgets: created publicly (``POST /api/budgets/public``), read, decided, expired.

A budget's ``state`` is the SDK's ``BudgetState``: 0 generated, 1 approved, 2 rejected. There
is no expired state: ``budget.expired`` is a generated budget whose ``expirationDate`` passed.
Approvals (:mod:`emulator.approvals`) and the public token's confirm/reject decide it.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from emulator import errors
from emulator.catalog import Catalog
from emulator.clock import iso
from emulator.models import utc
from emulator.models_budgets import CreateBudgetDto
from emulator.tables import BUSINESS_ID, Entity

GENERATED, APPROVED, REJECTED = 0, 1, 2
UBS_VERSION = "1.0"
_DECIDED = {APPROVED: "approved", REJECTED: "rejected"}


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class Budgets(Catalog):
    def render(self, table: str, entity: Entity) -> Entity:
        if table != "budgets":
            return super().render(table, entity)
        budget = copy.deepcopy(entity)
        if self.exists("customers", budget["customerId"]):
            budget["customer"] = self.render(
                "customers", self.get("customers", budget["customerId"])
            )
        for item in budget["items"]:
            if "productId" in item and self.exists("products", item["productId"]):
                product = copy.deepcopy(self.get("products", item["productId"]))
                item["product"] = product
        return budget

    # -- creating ------------------------------------------------------------------------------

    def _item(self, n: int, item: Any, budget_id: int) -> Entity:
        if item.productId is not None and not self.exists("products", item.productId):
            raise errors.field_error(f"items.{n}.productId", "product does not exist")
        subtotal = round(item.quantity * item.unitPrice, 2)
        return {"id": self.new_id("items"), **item.fields(), "subtotal": subtotal} | {
            "budgetId": budget_id
        }

    def create_budget(self, body: CreateBudgetDto) -> Entity:
        if not self.exists("customers", body.customerId):
            raise errors.field_error("customerId", f"customer {body.customerId} does not exist")
        if body.businessId is not None and body.businessId != BUSINESS_ID:
            raise errors.field_error("businessId", f"must be this key's business ({BUSINESS_ID})")
        budget_id = self._next_id["budgets"]
        items = [self._item(n, item, budget_id) for n, item in enumerate(body.items)]
        fields = body.fields() | {
            "issueDate": iso(utc(body.issueDate)),
            "expirationDate": iso(utc(body.expirationDate)),
            "businessId": BUSINESS_ID,
            "state": GENERATED,
            "publicToken": secrets.token_urlsafe(18),
            "ubs_id": str(uuid.uuid4()),
            "ubs_version": UBS_VERSION,
            "business_budget_id": budget_id,
            "isArchived": False,
            "items": items,
        }
        return self.insert("budgets", fields)

    # -- deciding ------------------------------------------------------------------------------

    def expired(self, budget: Entity) -> bool:
        return _parse(budget["expirationDate"]) < datetime.now(UTC)

    def decide_budget(self, budget_id: int, state: int, *, force: bool = False) -> Entity:
        """Approve or reject a generated budget (``force``: whatever its state, for triggers)."""
        budget = self.get("budgets", budget_id)
        if not force and budget["state"] != GENERATED:
            raise errors.conflict(f"Budget {budget_id} is already {_DECIDED[budget['state']]}")
        return self.change("budgets", budget_id, {"state": state}, _DECIDED[state])

    def expire_budget(self, budget_id: int) -> Entity:
        """``budget.expired``: the expiration date has just passed (if it was still ahead)."""
        budget = self.get("budgets", budget_id)
        just_now = iso(datetime.now(UTC) - timedelta(milliseconds=1))
        fields = {} if self.expired(budget) else {"expirationDate": just_now}
        return self.change("budgets", budget_id, fields, "expired")

    def update_budget(self, budget_id: int, changes: dict[str, Any]) -> Entity:
        return self.change("budgets", budget_id, changes)

    # -- the public token (UBS) ----------------------------------------------------------------

    def by_token(self, token: str) -> Entity:
        for budget in self.live("budgets"):
            if secrets.compare_digest(budget["publicToken"], token):
                return budget
        raise errors.not_found("Budget")

    def decide_by_token(self, token: str, state: int) -> Entity:
        budget = self.by_token(token)
        if budget["state"] == GENERATED and self.expired(budget):
            raise errors.conflict(f"Budget {budget['id']} has expired")
        return self.decide_budget(budget["id"], state)
