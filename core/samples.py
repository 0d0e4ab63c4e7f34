"""Realistic sample ``data`` for each of the 12 Billoget events.

Shapes are the SDK's resources exactly as the REST API returns them (``billoget/billoget-sdk``
1.2.0, ``src/types/index.ts``): integer ids, ISO 8601 UTC dates with milliseconds, money as
numbers, budget ``state`` 0/1/2 with ``iva``, product ``type`` ``product``/``service``; a
``*.deleted`` event carries the resource's last state. The emulator builds the same shapes on
its own (it shares no code with us); ``tests/emulator/test_samples_match.py`` holds the two to
each other. Used by ``scripts/send_test_webhook`` and the dev stack's demo;
:func:`selfcheck_data` is the self-check's test event.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from core.events import KNOWN_EVENTS, SELFCHECK_NONCE_FIELD

# The self-check's test event: the name Billoget's official SDK sends to the test endpoint
# (``testConnection`` in billoget/billoget-sdk, src/billoget-sdk.ts), not a business event, so a
# handler or a report can never take it for a change to a customer, budget or product.
SELFCHECK_EVENT = "connection_test"
ENVELOPE_SOURCE = "api"  # the docs' source for a change made through the API
ENVELOPE_VERSION = "1.4.0"

_STAMP = "2025-03-14T09:26:53.589Z"
_LATER = "2025-03-14T10:02:11.104Z"

_CUSTOMER: dict[str, Any] = {
    "id": 42,
    "firstName": "Ana",
    "lastName": "García",
    "email": "ana@example.com",
    "phoneNumber": "+54 11 5555-0142",
    "dni": 30111222,
    "cuit": "27-30111222-4",
    "businessId": 1,
    "createdAt": _STAMP,
    "updatedAt": _STAMP,
}


def _product(
    pid: int, code: str, description: str, category: str, price: float, **more: Any
) -> dict[str, Any]:
    return {
        "id": pid,
        "productCode": code,
        "description": description,
        "category": category,
        "price": price,
        "stock": more.pop("stock", 0),
        "isActive": True,
        "sku": f"SKU-{code}",
        "type": more.pop("type", "service"),
        "businessId": 1,
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
        **more,
    }


def _variant(vid: int, name: str, price: float, order: int) -> dict[str, Any]:
    return {
        "id": vid,
        "name": name,
        "price": price,
        "stock": 6,
        "attributes": {"color": name.lower()},
        "isActive": True,
        "sortOrder": order,
        "productId": 7,
        "createdAt": _STAMP,
        "updatedAt": _STAMP,
    }


_PRODUCT = _product(
    7,
    "CAM-4K",
    "4K camera",
    "Electronics",
    899.9,
    stock=12,
    type="product",
    variants=[_variant(1, "Black", 899.9, 0), _variant(2, "Silver", 929.9, 1)],
)
_WEB = _product(3, "WEB-001", "Website design", "Services", 1500.0)
_HOSTING = _product(4, "HOST-12", "Hosting, 12 months", "Services", 120.0)


def _item(iid: int, product: dict[str, Any], quantity: float) -> dict[str, Any]:
    return {
        "id": iid,
        "productId": product["id"],
        "quantity": quantity,
        "unitPrice": product["price"],
        "subtotal": round(quantity * product["price"], 2),
        "budgetId": 1001,
        "product": copy.deepcopy(product),
    }


_BUDGET: dict[str, Any] = {
    "id": 1001,
    "currency": "USD",
    "issueDate": _STAMP,
    "expirationDate": "2025-04-13T09:26:53.589Z",
    "customerId": 42,
    "sellerId": 1,
    "minimumPaymentToConfirm": 980.1,
    "subtotal": 1620.0,
    "total": 1960.2,
    "iva": 340.2,
    "comments": "Redesign plus one year of hosting",
    "businessId": 1,
    "state": 0,
    "publicToken": "q3Zb7nV0cK2mX9pLr4TsWe1y",
    "ubs_id": "5f0c2a8e-3b1d-4c7a-9e6f-2d8b4a1c7e90",
    "ubs_version": "1.0",
    "business_budget_id": 1001,
    "isArchived": False,
    "items": [_item(1, _WEB, 1), _item(2, _HOSTING, 1)],
    "createdAt": _STAMP,
    "updatedAt": _STAMP,
    "customer": copy.deepcopy(_CUSTOMER),
}

_BUDGET_DECISIONS = {"approved": 1, "rejected": 2}


def sample_data(event: str) -> dict[str, Any]:
    """A fresh copy of realistic ``data`` for ``event`` (one of :data:`KNOWN_EVENTS`)."""
    if event not in KNOWN_EVENTS:
        raise KeyError(f"no sample for {event!r}; known events: {', '.join(sorted(KNOWN_EVENTS))}")
    family, action = event.split(".", 1)
    base = {"budget": _BUDGET, "customer": _CUSTOMER, "product": _PRODUCT}[family]
    data = copy.deepcopy(base)
    if action in ("created", "deleted"):  # a deleted resource's data is its last state
        return data
    data["updatedAt"] = _LATER
    if action == "updated":
        if family == "customer":
            data["phoneNumber"] = "+54 11 5555-0199"
        elif family == "product":
            data["price"] = 949.0
        else:
            data["comments"] = "Redesign plus one year of hosting (revised)"
    elif action in _BUDGET_DECISIONS:
        data["state"] = _BUDGET_DECISIONS[action]
    elif action == "expired":  # still generated (state 0), its expiration date passed
        data["expirationDate"] = _LATER
    return data


def selfcheck_data(nonce: str, *, sent_at: datetime | None = None) -> dict[str, Any]:
    """The ``data`` of the self-check's :data:`SELFCHECK_EVENT`: no entity id, no business
    field; who sent it, when, and the nonce the receiver recognises it by."""
    moment = (sent_at or datetime.now(UTC)).astimezone(UTC)
    return {
        "test": True,
        "sentBy": "billoget-hooks selfcheck",
        "sentAt": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        SELFCHECK_NONCE_FIELD: nonce,
    }


def new_delivery_id() -> str:
    return "dlv_" + uuid.uuid4().hex[:24]


def envelope_bytes(
    event: str,
    data: dict[str, Any],
    *,
    delivery_id: str,
    timestamp: datetime | None = None,
    source: str = ENVELOPE_SOURCE,
) -> bytes:
    """The Billoget envelope as compact JSON bytes."""
    moment = (timestamp or datetime.now(UTC)).astimezone(UTC)
    body = {
        "event": event,
        "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
        "metadata": {
            "source": source,
            "version": ENVELOPE_VERSION,
            "delivery_id": delivery_id,
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
