"""Demo data in the SDK's shapes: customers, products (one with variants), budgets in every
state (decided through the approval workflow), the approval configuration and an approver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from emulator.models import (
    CreateCustomerDto,
    CreateProductDto,
    CreateProductVariantDto,
)
from emulator.models_budgets import (
    AssignApproverDto,
    CreateApprovalConfigDto,
    CreateBudgetDto,
    CreateBudgetItemDto,
    ProcessApprovalDto,
    SubmitApprovalDto,
)
from emulator.resources import Store
from emulator.tables import OWNER_USER_ID

VALID_FOR = timedelta(days=30)
IVA_RATE = 0.21
_PEOPLE = [
    ("Ana", "García", "ana@example.com", "+54 11 5555-0142", 30111222, "27-30111222-4"),
    ("Bruno", "Silva", "bruno@example.com", "+54 11 5555-0143", 28999888, None),
    ("Carla", "Méndez", "carla@example.com", None, None, "30-71234567-9"),
]
_PRODUCTS = [
    ("WEB-001", "Website design", "Services", 1500.0, "service", 0),
    ("HOST-12", "Hosting, 12 months", "Services", 120.0, "service", 0),
    ("CAM-4K", "4K camera", "Electronics", 899.9, "product", 12),
]


def sample_customer(store: Store, n: int | None = None) -> dict[str, Any]:
    n = len(store.tables["customers"]) + 1 if n is None else n
    first, last, email, phone, dni, cuit = _PEOPLE[(n - 1) % len(_PEOPLE)]
    local, domain = email.split("@")
    fields: dict[str, Any] = {"firstName": first, "lastName": last, "email": f"{local}{n}@{domain}"}
    extra = {"phoneNumber": phone, "dni": dni, "cuit": cuit}
    fields |= {k: v for k, v in extra.items() if v is not None}
    return store.create_customer(CreateCustomerDto.model_validate(fields))


def sample_product(store: Store, n: int | None = None) -> dict[str, Any]:
    n = len(store.tables["products"]) + 1 if n is None else n
    code, description, category, price, kind, stock = _PRODUCTS[(n - 1) % len(_PRODUCTS)]
    body = CreateProductDto.model_validate(
        {
            "productCode": f"{code}-{n}",
            "description": description,
            "category": category,
            "price": price,
            "type": kind,
            "stock": stock,
            "sku": f"SKU-{code}-{n}",
        }
    )
    return store.create_product(body)


def sample_budget(store: Store, customer_id: int | None = None) -> dict[str, Any]:
    if customer_id is None:
        customers = store.live("customers")
        customer_id = customers[0]["id"] if customers else sample_customer(store)["id"]
    products = store.live("products")
    product = products[0] if products else sample_product(store)
    subtotal = round(2 * product["price"], 2)
    iva = round(subtotal * IVA_RATE, 2)
    issued = datetime.now(UTC)
    body = CreateBudgetDto(
        currency="USD",
        issueDate=issued,
        expirationDate=issued + VALID_FOR,
        customerId=customer_id,
        sellerId=OWNER_USER_ID,
        minimumPaymentToConfirm=round((subtotal + iva) / 2, 2),
        subtotal=subtotal,
        total=round(subtotal + iva, 2),
        iva=iva,
        comments=f"Quote for {product['description']}",
        items=[
            CreateBudgetItemDto(productId=product["id"], quantity=2, unitPrice=product["price"])
        ],
    )
    return store.create_budget(body)


def seed(store: Store) -> dict[str, list[int]]:
    """Create the demo data set; return the new ids per table."""
    customers = [sample_customer(store)["id"] for _ in _PEOPLE]
    products = [sample_product(store)["id"] for _ in _PRODUCTS]
    for order, (name, price) in enumerate((("Black", 899.9), ("Silver", 929.9))):
        variant = {"productId": products[2], "name": name, "price": price, "stock": 6}
        variant |= {"sortOrder": order, "attributes": {"color": name.lower()}}
        store.create_variant(CreateProductVariantDto.model_validate(variant))
    budgets = [sample_budget(store, c)["id"] for c in customers]
    store.save_approval_config(
        CreateApprovalConfigDto(
            requiresBudgetApproval=True, ownerCanApprove=True, adminCanApprove=True
        )
    )
    approver = store.assign_approver(AssignApproverDto(userId=2, notes="Sales manager"))
    approvals = [store.submit_approval(SubmitApprovalDto(budgetId=b))["id"] for b in budgets]
    store.process_approval(approvals[1], ProcessApprovalDto(action="approve"))
    store.process_approval(approvals[2], ProcessApprovalDto(action="reject", comments="Too high"))
    return {
        "customers": customers,
        "products": products,
        "budgets": budgets,
        "approvals": approvals,
        "approvers": [approver["id"]],
    }
