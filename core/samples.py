"""Realistic sample ``data`` for each of the 12 Billoget events.

Shapes follow the emulator's entities (Billoget's SDK shape: camelCase, integer ids). Used by
``scripts/send_test_webhook`` and the dev stack's demo; :func:`selfcheck_data` is the
self-check's test event.
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
ENVELOPE_SOURCE = "billoget"
ENVELOPE_VERSION = "1.0"

_STAMP = "2025-03-14T09:26:53.589Z"

_CUSTOMER: dict[str, Any] = {
    "id": 42,
    "firstName": "Ana",
    "lastName": "García",
    "email": "ana@example.com",
    "phone": "+54 11 5555-0142",
    "company": "Acme SA",
    "address": "Av. Corrientes 1234, Buenos Aires",
    "notes": None,
    "createdAt": _STAMP,
    "updatedAt": _STAMP,
}

_PRODUCT: dict[str, Any] = {
    "id": 7,
    "productCode": "CAM-4K",
    "name": "4K camera",
    "description": "Mirrorless 4K camera body",
    "price": 899.9,
    "type": "PRODUCT",
    "unit": "unit",
    "stock": 12,
    "active": True,
    "variants": [
        {"id": 1, "productId": 7, "name": "Black", "sku": "CAM-4K-BLK", "price": 899.9},
        {"id": 2, "productId": 7, "name": "Silver", "sku": "CAM-4K-SLV", "price": 929.9},
    ],
    "createdAt": _STAMP,
    "updatedAt": _STAMP,
}

_BUDGET: dict[str, Any] = {
    "id": 1001,
    "budgetNumber": "B-01001",
    "customerId": 42,
    "customer": {"id": 42, "firstName": "Ana", "lastName": "García", "email": "ana@example.com"},
    "title": "Website and hosting",
    "description": "Redesign plus one year of hosting",
    "currency": "USD",
    "items": [
        {
            "id": 1,
            "productId": 3,
            "description": "Website design",
            "quantity": 1,
            "unitPrice": 1500.0,
            "total": 1500.0,
        },
        {
            "id": 2,
            "productId": 4,
            "description": "Hosting, 12 months",
            "quantity": 1,
            "unitPrice": 120.0,
            "total": 120.0,
        },
    ],
    "taxRate": 0.21,
    "subtotal": 1620.0,
    "tax": 340.2,
    "total": 1960.2,
    "state": 0,
    "status": "PENDING",
    "validUntil": "2025-04-13T00:00:00+00:00",
    "createdAt": _STAMP,
    "updatedAt": _STAMP,
}

_BUDGET_STATES = {
    "approved": (1, "APPROVED"),
    "rejected": (2, "REJECTED"),
    "expired": (3, "EXPIRED"),
}


def sample_data(event: str) -> dict[str, Any]:
    """A fresh copy of realistic ``data`` for ``event`` (one of :data:`KNOWN_EVENTS`)."""
    if event not in KNOWN_EVENTS:
        raise KeyError(f"no sample for {event!r}; known events: {', '.join(sorted(KNOWN_EVENTS))}")
    family, action = event.split(".", 1)
    base = {"budget": _BUDGET, "customer": _CUSTOMER, "product": _PRODUCT}[family]
    if action == "deleted":
        return {"id": base["id"], "deletedAt": _STAMP}
    data = copy.deepcopy(base)
    if action == "updated":
        data["updatedAt"] = "2025-03-14T10:02:11.104Z"
        if family == "customer":
            data["phone"] = "+54 11 5555-0199"
        elif family == "product":
            data["price"] = 949.0
        else:
            data["title"] = "Website and hosting (revised)"
    if family == "budget" and action in _BUDGET_STATES:
        data["state"], data["status"] = _BUDGET_STATES[action]
        data["updatedAt"] = "2025-03-15T16:40:00.000Z"
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
) -> bytes:
    """The Billoget envelope as compact JSON bytes."""
    moment = (timestamp or datetime.now(UTC)).astimezone(UTC)
    body = {
        "event": event,
        "timestamp": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "data": data,
        "metadata": {
            "source": ENVELOPE_SOURCE,
            "version": ENVELOPE_VERSION,
            "delivery_id": delivery_id,
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
