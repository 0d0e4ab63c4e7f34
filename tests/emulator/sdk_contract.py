"""The SDK's interfaces as field lists, written down by hand from reading the SDK.

Source: ``billoget/billoget-sdk`` at commit 6cc189fcf61c598dcfdc696259e5db037ab3bbf1 (package
1.2.0): ``src/types/index.ts`` (the resources and DTOs), ``src/types/query.ts`` (the webhook
test answer) and the inline answer types of ``src/services/budgets.ts`` (``createPublic``),
``src/services/budget-approvals.ts`` (``canUserApprove``, ``getApprovalStats``) and
``src/services/ubs.ts`` (``debugToken``, ``confirmBudget``, ``rejectBudget``).

Each field is ``(required, type)``. A TypeScript ``x?: T`` is optional: absent, or a ``T``
(never ``null``). Types, as JSON carries them:

- ``id``: an integer (the SDK's ``id: number``; Billoget's ids are integers);
- ``number``: an integer or a float (never a boolean); ``string``; ``boolean``;
- ``date``: a TypeScript ``Date`` on the wire, ISO 8601 UTC with milliseconds
  (``2025-03-14T09:26:53.589Z``);
- ``enum:a|b``: one of the listed values (``BudgetState`` is ``enum:0|1|2``);
- ``object``: any JSON object (``Record<string, any>``); ``any``: anything (``any``);
- an interface name, or ``[Name]`` for an array of them.

``seller``, ``business`` and ``package`` of a ``Budget`` are ``any`` in the SDK.
"""

from __future__ import annotations

import re
from typing import Any

SDK_REPOSITORY = "billoget/billoget-sdk"
SDK_COMMIT = "6cc189fcf61c598dcfdc696259e5db037ab3bbf1"
SDK_VERSION = "1.2.0"

R, O = True, False  # required, optional  # noqa: E741
BUDGET_STATE = "enum:0|1|2"
PRODUCT_TYPE = "enum:product|service"

_BUSINESS_FIELDS = {
    "id": (R, "id"),
    "name": (R, "string"),
    "logo": (O, "string"),
    "category": (O, "string"),
    "description": (O, "string"),
    "address": (O, "string"),
    "alternativeAddress": (O, "string"),
    "phone": (O, "string"),
    "email": (O, "string"),
    "website": (O, "string"),
}

INTERFACES: dict[str, dict[str, tuple[bool, str]]] = {
    "Customer": {
        "id": (R, "id"),
        "firstName": (R, "string"),
        "lastName": (R, "string"),
        "email": (O, "string"),
        "phoneNumber": (O, "string"),
        "dni": (O, "number"),
        "cuit": (O, "string"),
        "businessId": (R, "id"),
        "createdAt": (O, "date"),
        "updatedAt": (O, "date"),
    },
    "Product": {
        "id": (R, "id"),
        "productCode": (R, "string"),
        "description": (R, "string"),
        "category": (R, "string"),
        "price": (R, "number"),
        "stock": (R, "number"),
        "netContent": (O, "number"),
        "netContentUnit": (O, "string"),
        "isActive": (R, "boolean"),
        "sku": (O, "string"),
        "barcode": (O, "string"),
        "imageUrl": (O, "string"),
        "type": (R, PRODUCT_TYPE),
        "businessId": (O, "id"),
        "variants": (O, "[ProductVariant]"),
        "createdAt": (R, "date"),
        "updatedAt": (R, "date"),
    },
    "ProductVariant": {
        "id": (R, "id"),
        "name": (R, "string"),
        "description": (O, "string"),
        "price": (R, "number"),
        "stock": (R, "number"),
        "sku": (O, "string"),
        "barcode": (O, "string"),
        "imageUrl": (O, "string"),
        "attributes": (O, "object"),
        "isActive": (R, "boolean"),
        "sortOrder": (R, "number"),
        "productId": (R, "id"),
        "product": (O, "Product"),
        "createdAt": (R, "date"),
        "updatedAt": (R, "date"),
    },
    "BudgetItem": {
        "id": (R, "id"),
        "productId": (O, "id"),
        "packageId": (O, "id"),
        "quantity": (R, "number"),
        "unitPrice": (R, "number"),
        "subtotal": (R, "number"),
        "budgetId": (R, "id"),
        "product": (O, "Product"),
        "package": (O, "any"),
    },
    "Budget": {
        "id": (R, "id"),
        "currency": (R, "string"),
        "issueDate": (R, "date"),
        "expirationDate": (R, "date"),
        "customerId": (R, "id"),
        "sellerId": (R, "id"),
        "businessId": (O, "id"),
        "minimumPaymentToConfirm": (R, "number"),
        "state": (R, BUDGET_STATE),
        "subtotal": (R, "number"),
        "total": (R, "number"),
        "iva": (R, "number"),
        "preferenceId": (O, "string"),
        "paymentUrl": (O, "string"),
        "paymentData": (O, "any"),
        "publicToken": (O, "string"),
        "comments": (O, "string"),
        "ubs_id": (O, "string"),
        "ubs_version": (O, "string"),
        "sign_track_id": (O, "string"),
        "business_budget_id": (O, "id"),
        "isArchived": (O, "boolean"),
        "customer": (O, "Customer"),
        "seller": (O, "any"),
        "business": (O, "any"),
        "items": (O, "[BudgetItem]"),
        "createdAt": (O, "date"),
        "updatedAt": (O, "date"),
    },
    "CreatePublicBudgetResult": {  # BudgetsService.createPublic
        "success": (R, "boolean"),
        "message": (R, "string"),
        "publicUrl": (R, "string"),
        "budgetId": (R, "id"),
        "publicToken": (R, "string"),
    },
    "BudgetApproval": {
        "id": (R, "id"),
        "budgetId": (R, "id"),
        "requestedBy": (R, "id"),
        "approvedBy": (O, "id"),
        "status": (R, "enum:pending|approved|rejected|cancelled"),
        "action": (R, "enum:submitted|approved|rejected|cancelled|resubmitted"),
        "comments": (O, "string"),
        "requestNotes": (O, "string"),
        "reviewedAt": (O, "date"),
        "approvedAt": (O, "date"),
        "rejectedAt": (O, "date"),
        "createdAt": (R, "date"),
        "updatedAt": (R, "date"),
        "budget": (O, "Budget"),
        "requestedByUser": (O, "any"),
        "approvedByUser": (O, "any"),
    },
    "ApprovalConfig": {
        "id": (R, "id"),
        "businessId": (R, "id"),
        "requiresBudgetApproval": (R, "boolean"),
        "ownerCanApprove": (R, "boolean"),
        "adminCanApprove": (R, "boolean"),
        "approvalThreshold": (O, "number"),
        "isActive": (R, "boolean"),
        "createdAt": (R, "date"),
        "updatedAt": (R, "date"),
    },
    "BudgetApprover": {
        "id": (R, "id"),
        "businessId": (R, "id"),
        "userId": (R, "id"),
        "isActive": (R, "boolean"),
        "assignedBy": (R, "id"),
        "notes": (O, "string"),
        "createdAt": (R, "date"),
        "updatedAt": (R, "date"),
        "user": (O, "any"),
        "assignedByUser": (O, "any"),
    },
    "CanApprove": {"canApprove": (R, "boolean")},  # canUserApprove
    "ApprovalStats": {  # getApprovalStats
        "pending": (R, "number"),
        "approved": (R, "number"),
        "rejected": (R, "number"),
        "cancelled": (R, "number"),
        "total": (R, "number"),
    },
    "PublicBudget": {  # the Budget fields it shares are added below
        "customer": (O, "PublicCustomer"),
        "seller": (O, "PublicSeller"),
        "business": (O, "PublicBusiness"),
        "items": (O, "[PublicBudgetItem]"),
    },
    "PublicCustomer": {  # Pick<Customer, "firstName" | "lastName" | "email" | "phoneNumber">
        "firstName": (R, "string"),
        "lastName": (R, "string"),
        "email": (O, "string"),
        "phoneNumber": (O, "string"),
    },
    "PublicSeller": {
        "id": (R, "id"),
        "displayName": (R, "string"),
        "email": (R, "string"),
        "business": (O, "PublicBusiness"),
    },
    "PublicBusiness": _BUSINESS_FIELDS,
    "PublicBudgetItem": {
        "id": (R, "id"),
        "quantity": (R, "number"),
        "unitPrice": (R, "number"),
        "subtotal": (R, "number"),
        "product": (O, "PublicBudgetItemProduct"),
        "package": (O, "PublicBudgetItemPackage"),
    },
    "PublicBudgetItemProduct": {},  # filled below: a pick of Product's fields
    "PublicBudgetItemPackage": {
        "name": (R, "string"),
        "description": (O, "string"),
        "totalPrice": (O, "number"),
    },
    "DebugToken": {  # UBSService.debugToken
        "token": (R, "string"),
        "budget": (O, "DebugTokenBudget"),
        "error": (O, "string"),
        "debug": (R, "DebugInfo"),
    },
    "DebugTokenBudget": {
        "id": (R, "id"),
        "expired": (R, "boolean"),
        "hasCustomer": (R, "boolean"),
        "hasSeller": (R, "boolean"),
        "state": (R, "number"),
        "publicToken": (R, "string"),
    },
    "DebugInfo": {"timestamp": (R, "string"), "nodeEnv": (R, "string")},
    "ConfirmBudgetResult": {  # UBSService.confirmBudget
        "message": (R, "string"),
        "budget": (O, "PublicBudget"),
        "paymentUrl": (O, "string"),
    },
    "RejectBudgetResult": {"message": (R, "string"), "budget": (O, "PublicBudget")},
    "WebhookTestResponse": {  # src/types/query.ts
        "message": (R, "string"),
        "timestamp": (R, "string"),
        "apiKey": (R, "string"),
    },
    "PaginationInfo": {  # the docs' list envelope (``{data, pagination}``)
        "page": (R, "number"),
        "limit": (R, "number"),
        "total": (R, "number"),
        "hasMore": (R, "boolean"),
    },
    "PaginatedResponseMeta": {  # PaginatedResponse<T>.meta
        "totalItems": (R, "number"),
        "itemCount": (R, "number"),
        "itemsPerPage": (R, "number"),
        "totalPages": (R, "number"),
        "currentPage": (R, "number"),
    },
}

# the fields PublicBudget and its items' product share with Budget and Product, as the SDK
# repeats them (same names, same types; in PublicBudget ``publicToken`` is required)
_PUBLIC_BUDGET_FIELDS = [
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
]
_PUBLIC_PRODUCT_FIELDS = [
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
]
INTERFACES["PublicBudget"] = {
    **{name: INTERFACES["Budget"][name] for name in _PUBLIC_BUDGET_FIELDS},
    "publicToken": (R, "string"),
    **INTERFACES["PublicBudget"],
}
INTERFACES["PublicBudgetItemProduct"] = {
    name: INTERFACES["Product"][name] for name in _PUBLIC_PRODUCT_FIELDS
}

# which interface the ``data`` of each webhook event is (the resource as REST returns it)
EVENT_INTERFACES = {"budget": "Budget", "customer": "Customer", "product": "Product"}

_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def _type_violation(value: Any, kind: str, where: str) -> list[str]:
    if kind == "any":
        return []
    if kind.startswith("["):
        if not isinstance(value, list):
            return [f"{where}: expected an array of {kind[1:-1]}, got {type(value).__name__}"]
        return [
            v for n, item in enumerate(value) for v in violations(item, kind[1:-1], f"{where}[{n}]")
        ]
    if kind in INTERFACES:
        return violations(value, kind, where)
    if kind.startswith("enum:"):
        allowed = kind[5:].split("|")
        shown = value if isinstance(value, str) else str(value) if isinstance(value, int) else None
        if isinstance(value, bool) or shown not in allowed:
            return [f"{where}: {value!r} is not one of {allowed}"]
        if allowed[0].isdigit() != isinstance(value, int):
            return [f"{where}: {value!r} has the wrong JSON type for {kind}"]
        return []
    ok = {
        "id": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "object": isinstance(value, dict),
        "date": isinstance(value, str) and bool(_DATE.match(value)),
    }[kind]
    return [] if ok else [f"{where}: {value!r} is not a {kind}"]


def violations(value: Any, interface: str, where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``interface``: a missing required field, a field of the
    wrong JSON type (``null`` included), a field the interface does not have."""
    if not isinstance(value, dict):
        return [f"{where}: expected a {interface} object, got {type(value).__name__}"]
    fields = INTERFACES[interface]
    found = [f"{where}.{name}: not a field of {interface}" for name in value if name not in fields]
    for name, (required, kind) in fields.items():
        if name not in value:
            if required:
                found.append(f"{where}.{name}: required by {interface}, missing")
            continue
        found += _type_violation(value[name], kind, f"{where}.{name}")
    return found
