"""Demo data: a few customers, products (one with variants) and budgets in every state."""

from __future__ import annotations

from typing import Any

from emulator.models import BudgetIn, BudgetItemIn, CustomerIn, ProductIn, VariantIn
from emulator.resources import BUDGET_APPROVED, BUDGET_REJECTED, Store

_PEOPLE = [
    ("Ana", "García", "ana@example.com", "Acme SA"),
    ("Bruno", "Silva", "bruno@example.com", None),
    ("Carla", "Méndez", "carla@example.com", "Méndez & Hijos"),
]
_PRODUCTS = [
    ("WEB-001", "Website design", 1500.0, "SERVICE"),
    ("HOST-12", "Hosting, 12 months", 120.0, "SERVICE"),
    ("CAM-4K", "4K camera", 899.9, "PRODUCT"),
]


def sample_customer(store: Store, n: int | None = None) -> dict[str, Any]:
    n = len(store.tables["customers"]) + 1 if n is None else n
    first, last, email, company = _PEOPLE[(n - 1) % len(_PEOPLE)]
    local, domain = email.split("@")
    body = CustomerIn(firstName=first, lastName=last, email=f"{local}{n}@{domain}", company=company)
    return store.create_customer(body)


def sample_product(store: Store, n: int | None = None) -> dict[str, Any]:
    n = len(store.tables["products"]) + 1 if n is None else n
    code, name, price, kind = _PRODUCTS[(n - 1) % len(_PRODUCTS)]
    body = ProductIn(productCode=f"{code}-{n}", name=name, price=price, type=kind)  # type: ignore[arg-type]
    return store.create_product(body)


def sample_budget(store: Store, customer_id: int | None = None) -> dict[str, Any]:
    if customer_id is None:
        customers = store.live("customers")
        customer_id = customers[0]["id"] if customers else sample_customer(store)["id"]
    products = store.live("products")
    product = products[0] if products else sample_product(store)
    item = BudgetItemIn(
        productId=product["id"],
        description=product["name"],
        quantity=2,
        unitPrice=product["price"],
    )
    return store.create_budget(BudgetIn(customerId=customer_id, items=[item], taxRate=0.21))


def seed(store: Store) -> dict[str, list[int]]:
    """Create the demo data set; return the new ids per table."""
    customers = [sample_customer(store)["id"] for _ in _PEOPLE]
    products = [sample_product(store)["id"] for _ in _PRODUCTS]
    store.add_variant(products[2], VariantIn(name="Black", sku="CAM-4K-BLK", price=899.9))
    store.add_variant(products[2], VariantIn(name="Silver", sku="CAM-4K-SLV", price=929.9))
    budgets = [sample_budget(store, c)["id"] for c in customers]
    store.decide_budget(budgets[1], BUDGET_APPROVED)
    store.decide_budget(budgets[2], BUDGET_REJECTED)
    return {"customers": customers, "products": products, "budgets": budgets}
