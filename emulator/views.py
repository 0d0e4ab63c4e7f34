"""The SDK's ``PublicBudget``: what the public token routes (UBS) show of a budget.

A subset of the budget (no customer/seller ids, no payment data), the customer's name and
contacts only, the seller and the business with their public details.
"""

from __future__ import annotations

from typing import Any

from emulator.tables import BUSINESS_ID, OWNER_USER_ID, Entity

BUSINESS: Entity = {
    "id": BUSINESS_ID,
    "name": "Demo Business",
    "category": "Services",
    "description": "The emulator's business",
    "address": "Av. Corrientes 1234, Buenos Aires",
    "phone": "+54 11 5555-0100",
    "email": "hello@example.com",
    "website": "https://example.com",
}
SELLER: Entity = {"id": OWNER_USER_ID, "displayName": "Demo Owner", "email": "owner@example.com"}

_BUDGET_FIELDS = (
    "id",
    "currency",
    "issueDate",
    "expirationDate",
    "minimumPaymentToConfirm",
    "state",
    "subtotal",
    "total",
    "iva",
    "paymentUrl",
    "publicToken",
    "comments",
    "ubs_id",
    "ubs_version",
    "sign_track_id",
    "business_budget_id",
    "isArchived",
)
_CUSTOMER_FIELDS = ("firstName", "lastName", "email", "phoneNumber")
_ITEM_FIELDS = ("id", "quantity", "unitPrice", "subtotal")
_PRODUCT_FIELDS = (
    "id",
    "productCode",
    "description",
    "category",
    "price",
    "type",
    "netContent",
    "netContentUnit",
    "sku",
    "barcode",
    "imageUrl",
    "isActive",
)


def _pick(entity: dict[str, Any], fields: tuple[str, ...]) -> Entity:
    return {f: entity[f] for f in fields if f in entity}


def _item(item: Entity) -> Entity:
    shown = _pick(item, _ITEM_FIELDS)
    if "product" in item:
        shown["product"] = _pick(item["product"], _PRODUCT_FIELDS)
    return shown


def public_budget(budget: Entity) -> Entity:
    """``budget`` rendered as the REST API returns it, shown as a ``PublicBudget``."""
    shown = _pick(budget, _BUDGET_FIELDS)
    if "customer" in budget:
        shown["customer"] = _pick(budget["customer"], _CUSTOMER_FIELDS)
    shown["seller"] = {**SELLER, "business": dict(BUSINESS)}
    shown["business"] = dict(BUSINESS)
    shown["items"] = [_item(i) for i in budget["items"]]
    return shown
