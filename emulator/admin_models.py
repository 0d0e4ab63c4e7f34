"""Bodies of the emulator-only admin API (``/__emulator/``)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from emulator.keys import KEY_RE, KeyStatus, Scope

Environment = Literal["test", "live"]


class _Admin(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _check_networks(value: list[str] | None) -> list[str] | None:
    for network in value or []:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            raise ValueError(f"{network!r} is not an IP address or network") from None
    return value


class KeySpec(_Admin):
    environment: Environment = "test"
    name: str | None = None
    scopes: list[Scope] = Field(default_factory=lambda: list(Scope))
    status: KeyStatus = KeyStatus.ACTIVE
    allowedIps: list[str] = Field(default_factory=list)
    rateLimitPerHour: int = Field(default=1000, ge=1)
    webhookUrl: str | None = None
    key: str | None = None  # a fixed key (stable dev setups); generated when absent
    webhookSecret: str | None = None  # a fixed whsec_ secret; generated when absent

    _networks = field_validator("allowedIps")(_check_networks)

    @model_validator(mode="after")
    def _key_matches(self) -> KeySpec:
        if self.key is not None and (
            not KEY_RE.match(self.key) or not self.key.startswith(f"bk_{self.environment}_")
        ):
            raise ValueError("key must match bk_<environment>_[A-Za-z0-9_]{16,64}")
        return self


class KeyPatch(_Admin):
    name: str | None = None
    scopes: list[Scope] | None = None
    status: KeyStatus | None = None
    allowedIps: list[str] | None = None
    rateLimitPerHour: int | None = Field(default=None, ge=1)
    webhookUrl: str | None = None
    webhookEndpointDisabled: bool = False  # any PATCH re-enables unless this is true

    _networks = field_validator("allowedIps")(_check_networks)


class RotateIn(_Admin):
    grace_s: float = Field(default=86400, ge=0)


class SeedIn(_Admin):
    environment: Environment = "test"


class BudgetChanges(_Admin):
    """What the dashboard may change on a budget (``budget.updated`` triggers); the SDK has no
    budget update DTO, so these are the budget's own editable fields, typed as the SDK types
    them."""

    model_config = ConfigDict(extra="forbid", strict=True)

    currency: str | None = Field(default=None, min_length=3, max_length=3)
    expirationDate: datetime | None = None
    minimumPaymentToConfirm: float | None = Field(default=None, ge=0)
    comments: str | None = None
    isArchived: bool | None = None


class TriggerIn(_Admin):
    event: str
    id: int | None = None
    environment: Environment = "test"
    changes: dict[str, Any] = Field(default_factory=dict)

    @field_validator("event")
    @classmethod
    def _known(cls, value: str) -> str:
        family, _, action = value.partition(".")
        allowed = {"created", "updated", "deleted"}
        if family == "budget":
            allowed |= {"approved", "rejected", "expired"}
        if family not in ("budget", "customer", "product") or action not in allowed:
            raise ValueError(f"unknown event {value!r}")
        return value
