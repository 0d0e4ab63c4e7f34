"""Synthetic events for the drift reconciliation finds, stored and relayed like any delivery.

``{family}.updated`` (the entity is missing from the mirror, or the API's ``updatedAt`` is newer)
carries the API's resource with the delivery id ``reconcile_{family}_{id}_{updatedAt}``;
``{family}.deleted`` (in the mirror, gone from the API) its last mirrored state and
``reconcile_{family}_{id}_deleted``. Both say ``metadata.source = "reconcile"``. The ids are
deterministic, so a second pass, or a pass resumed after a crash, never stores one twice; users'
handlers see what the webhooks missed, through the normal pipeline.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core.store import NewDelivery
from core.store.reconcile import ReconcileStore, Repair
from core.times import format_time

log = logging.getLogger(__name__)

SOURCE = "reconcile"
ENVELOPE_VERSION = "1.4.0"
Enqueue = Callable[[str, str], bool]  # (delivery id, event type) → put on the queue?


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference found: ``kind`` missing | stale | gone, with the data the event carries."""

    family: str
    entity_id: str
    kind: str
    data: Mapping[str, Any]

    @property
    def event_type(self) -> str:
        return f"{self.family}.{'deleted' if self.kind == 'gone' else 'updated'}"

    @property
    def delivery_id(self) -> str:
        if self.kind == "gone":
            return f"reconcile_{self.family}_{self.entity_id}_deleted"
        return f"reconcile_{self.family}_{self.entity_id}_{self.data.get('updatedAt')}"


def synthetic_delivery(drift: Drift, *, now: datetime | None = None) -> NewDelivery:
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body = {
        "event": drift.event_type,
        "timestamp": stamp,
        "data": dict(drift.data),
        "metadata": {
            "source": SOURCE,
            "version": ENVELOPE_VERSION,
            "delivery_id": drift.delivery_id,
        },
    }
    return NewDelivery(
        delivery_id=drift.delivery_id,
        event_type=drift.event_type,
        event_timestamp=format_time(moment),
        webhook_timestamp=int(time.time()),
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(),
    )


def submit(store: ReconcileStore, drifts: Sequence[Drift], *, enqueue: Enqueue) -> int:
    """Store the drifts' synthetic events (once each), relay the new ones and record them as
    repairs; the number newly stored (blocking). Events Redis did not take stay ``received``
    and the receiver's sweeper relays them."""
    if not drifts:
        return 0
    stored = store.commit_batch([synthetic_delivery(d) for d in drifts])
    new = [d for d, is_new in zip(drifts, stored, strict=True) if is_new]
    queued = [d.delivery_id for d in new if enqueue(d.delivery_id, d.event_type)]
    store.mark_queued(queued)
    store.record_repairs(
        [Repair(d.delivery_id, d.family, d.entity_id, d.kind) for d in new],
    )
    for drift in new:
        log.info(
            "reconcile: %s %s %s: stored %s",
            drift.kind,
            drift.family,
            drift.entity_id,
            drift.delivery_id,
        )
    return len(new)
