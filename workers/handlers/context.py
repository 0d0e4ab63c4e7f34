"""What a handler gets: the event, its stored record, the API, the mirror and a logger."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from core.events import EntityId, Envelope
from core.store import StoredEvent
from core.store.sqlite.mirror import MirrorStore
from workers.api import BudgetedApi


@dataclass
class HandlerContext:
    """One event being handled.

    ``envelope`` is the parsed webhook (``.event``, ``.data``, ``.timestamp``, ``.entity_id``);
    ``event`` its stored record (delivery id, attempts); ``api`` the rate-budgeted Billoget API
    (``await ctx.api.get_entity("budget", 42)``, ``await ctx.api.call(lambda c: ...)``);
    ``mirror`` the local mirror (``ctx.mirror.get_entity("budget", 42)``: blocking, quick);
    ``log`` a logger that prefixes the delivery id. ``state`` is scratch space shared by the
    handlers of this one event (the mirror handler puts the entity row there as ``"row"``).
    """

    envelope: Envelope
    event: StoredEvent
    api: BudgetedApi
    mirror: MirrorStore
    log: logging.LoggerAdapter[logging.Logger]
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def delivery_id(self) -> str:
        return self.event.delivery_id

    @property
    def entity_id(self) -> EntityId | None:
        return self.envelope.entity_id


class DeliveryLog(logging.LoggerAdapter[logging.Logger]):
    """Prefixes every line with the delivery id."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        # the delivery id also as a field of its own (LOG_FORMAT=json)
        kwargs["extra"] = {**(self.extra or {}), **kwargs.get("extra", {})}
        return f"[{self.extra['delivery_id'] if self.extra else '?'}] {msg}", kwargs


def delivery_logger(logger: logging.Logger, delivery_id: str) -> DeliveryLog:
    return DeliveryLog(logger, {"delivery_id": delivery_id})
