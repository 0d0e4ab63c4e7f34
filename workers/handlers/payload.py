"""Is an event's ``data`` a complete resource? Then the mirror takes it as is, with no API call.

A payload counts as complete when it validates as its family's resource model in
:mod:`core.billoget.models` (``Budget``, ``Customer``, ``Product``: every required field present
and well typed) and carries ``id`` and ``updatedAt`` (the mirror orders writes by it). A thin
payload (``{id, updatedAt}``), an older model or one without ``updatedAt`` does not: that event
needs a fetch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from core.billoget import Budget, Customer, Entity, Product

RESOURCE_MODELS: dict[str, type[BaseModel]] = {
    "budget": Budget,
    "customer": Customer,
    "product": Product,
}
REQUIRED_WIRE_FIELDS = ("id", "updatedAt")


def resource_from_payload(family: str, data: Mapping[str, Any]) -> Entity | None:
    """The resource ``data`` describes, or None when it is not a complete one."""
    model = RESOURCE_MODELS.get(family)
    if model is None or any(data.get(name) is None for name in REQUIRED_WIRE_FIELDS):
        return None
    try:
        resource: Entity = model.model_validate(dict(data))  # type: ignore[assignment]
    except ValidationError:
        return None
    return resource


def wire_data(resource: BaseModel) -> dict[str, Any]:
    """What the mirror stores of a resource: the wire (camelCase) JSON shape as the API or the
    payload sent it (only the fields it had, extras kept)."""
    data: dict[str, Any] = resource.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return data
