"""The Billoget webhook envelope.

``{"event": str, "timestamp": ISO-8601, "data": {...}, "metadata": {"source", "version",
"delivery_id"}}``. Unknown fields are kept; unknown event types are accepted (and stored).
Entity ids may be integers or strings.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.errors import InvalidEnvelopeError

KNOWN_EVENTS = frozenset(
    {
        "budget.created",
        "budget.updated",
        "budget.approved",
        "budget.rejected",
        "budget.expired",
        "budget.deleted",
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "product.created",
        "product.updated",
        "product.deleted",
    }
)
EntityId = int | str
# The entity families the default handlers mirror (the API client and the mirror share it).
Family = Literal["budget", "customer", "product"]
# The self-check puts a nonce under this key of the test event's ``data``; the receiver records
# such deliveries as self-check round trips and does not hand them to business handlers.
SELFCHECK_NONCE_FIELD = "billogetHooksSelfcheckNonce"


class Metadata(BaseModel):
    model_config = ConfigDict(extra="allow")

    source: str | None = None
    version: str | None = None
    delivery_id: str = Field(min_length=1, max_length=256)


class Envelope(BaseModel):
    model_config = ConfigDict(extra="allow")

    event: str = Field(min_length=1, max_length=128)
    timestamp: datetime
    data: dict[str, Any]
    metadata: Metadata

    @property
    def family(self) -> str:
        """``budget`` for ``budget.approved``; the whole name when there is no dot."""
        return self.event.split(".", 1)[0]

    @property
    def action(self) -> str:
        return self.event.split(".", 1)[1] if "." in self.event else ""

    @property
    def is_known(self) -> bool:
        return self.event in KNOWN_EVENTS

    @property
    def selfcheck_nonce(self) -> str | None:
        value = self.data.get(SELFCHECK_NONCE_FIELD)
        return (
            value if isinstance(value, str) and 0 < len(value) <= 128 and value.isascii() else None
        )

    @property
    def entity_id(self) -> EntityId | None:
        value = self.data.get("id")
        return value if isinstance(value, int | str) and not isinstance(value, bool) else None


def parse_envelope(body: bytes) -> Envelope:
    """Parse raw bytes into an :class:`Envelope`; :class:`InvalidEnvelopeError` otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidEnvelopeError("body is not UTF-8") from None
    try:
        # fast path: pydantic parses and validates in one pass, no intermediate dict. What it
        # rejects takes the path below, which decides (and words) the outcome, so the accepted
        # bodies and the error messages are exactly those of json.loads + model_validate.
        return Envelope.model_validate_json(text)
    except ValidationError:
        pass
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):  # JSONDecodeError, and ints over 4300 digits
        raise InvalidEnvelopeError("body is not valid JSON") from None
    if not isinstance(raw, dict):
        raise InvalidEnvelopeError("body must be a JSON object (the Billoget envelope)")
    try:
        return Envelope.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise InvalidEnvelopeError(f"not a Billoget envelope: {where}: {first['msg']}") from None
