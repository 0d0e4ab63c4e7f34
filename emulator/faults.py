"""Injected faults for the API and for webhook delivery; randomness comes from one seeded RNG."""

from __future__ import annotations

import random
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    """What to break. All zero/false means a well-behaved Billoget."""

    model_config = ConfigDict(extra="forbid")

    api_latency_ms: float = Field(default=0, ge=0)
    api_error_rate: float = Field(default=0.0, ge=0, le=1)
    api_429_burst: int = Field(default=0, ge=0)  # the next N API requests get 429
    retry_after_s: int = Field(default=1, ge=0)
    delivery_drop_rate: float = Field(default=0.0, ge=0, le=1)
    delivery_duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    delivery_out_of_order: bool = False
    out_of_order_batch: int = Field(default=3, ge=2)
    out_of_order_hold_ms: float = Field(default=200, ge=0)
    delivery_latency_ms: float = Field(default=0, ge=0)
    delivery_thin_payload: bool = False  # data is only {id, updatedAt} (deletes: {id, deletedAt})


class FaultInjector:
    def __init__(self, rng: random.Random) -> None:
        self.faults = Faults()
        self._rng = rng

    def set(self, faults: Faults) -> None:
        self.faults = faults

    def clear(self) -> None:
        self.faults = Faults()

    def chance(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    def take_429(self) -> bool:
        """Consume one request of a pending 429 burst, if any."""
        if self.faults.api_429_burst <= 0:
            return False
        self.faults.api_429_burst -= 1
        return True


THIN_FIELDS = ("id", "updatedAt", "deletedAt")


def thin_payload(data: dict[str, Any]) -> dict[str, Any]:
    """The ``delivery_thin_payload`` fault: what a sender that does not embed the resource sends
    (the receiver must fetch the entity)."""
    return {name: data[name] for name in THIN_FIELDS if name in data}
