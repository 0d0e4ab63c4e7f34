"""API keys: format, scopes, status, IP allowlist, webhook endpoint and secrets (with rotation)."""

from __future__ import annotations

import ipaddress
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.signing import WebhookSecret
from emulator.clock import iso

KEY_RE = re.compile(r"^bk_(live|test)_[A-Za-z0-9_]{16,64}$")
KEY_TOKEN_LENGTH = 32  # "bk_test_" + 32 = 40 characters
KEY_PREFIX_LENGTH = 12
SECRET_KEY_BYTES = 24
_ALPHABET = string.ascii_letters + string.digits


class Scope(StrEnum):
    READ_BUDGETS = "READ_BUDGETS"
    WRITE_BUDGETS = "WRITE_BUDGETS"
    READ_CUSTOMERS = "READ_CUSTOMERS"
    WRITE_CUSTOMERS = "WRITE_CUSTOMERS"
    READ_PRODUCTS = "READ_PRODUCTS"
    WRITE_PRODUCTS = "WRITE_PRODUCTS"
    WEBHOOKS = "WEBHOOKS"


class KeyStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


def generate_key(environment: str) -> str:
    token = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_TOKEN_LENGTH))
    return f"bk_{environment}_{token}"


def generate_secret() -> WebhookSecret:
    return WebhookSecret(key=secrets.token_bytes(SECRET_KEY_BYTES))


def key_prefix(key: str) -> str:
    return key[:KEY_PREFIX_LENGTH]


@dataclass(slots=True)
class RetiredSecret:
    secret: WebhookSecret
    expires_at: float


@dataclass(slots=True)
class ApiKey:
    id: int
    key: str
    environment: str
    name: str
    scopes: set[Scope]
    status: KeyStatus
    allowed_ips: list[str]
    rate_limit_per_hour: int
    webhook_url: str | None
    secret: WebhookSecret
    created_at: float
    retired: list[RetiredSecret] = field(default_factory=list)
    endpoint_disabled: bool = False

    @property
    def prefix(self) -> str:
        return key_prefix(self.key)

    def allows_ip(self, ip: str | None) -> bool:
        if not self.allowed_ips:
            return True
        if ip is None:
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in ipaddress.ip_network(n, strict=False) for n in self.allowed_ips)

    def signing_secrets(self, now: float) -> list[WebhookSecret]:
        """The current secret, then every retired one still inside its grace period."""
        return [self.secret, *(r.secret for r in self.retired if r.expires_at > now)]

    def receives_webhooks(self) -> bool:
        return (
            self.status is KeyStatus.ACTIVE
            and Scope.WEBHOOKS in self.scopes
            and bool(self.webhook_url)
            and not self.endpoint_disabled
        )

    def public(self) -> dict[str, Any]:
        """The admin view: never the whole key, never the secret."""
        return {
            "id": self.id,
            "name": self.name,
            "keyPrefix": self.prefix,
            "environment": self.environment,
            "scopes": sorted(self.scopes),
            "status": self.status.value,
            "allowedIps": list(self.allowed_ips),
            "rateLimitPerHour": self.rate_limit_per_hour,
            "webhookUrl": self.webhook_url,
            "webhookEndpointDisabled": self.endpoint_disabled,
            "secretsInGrace": len(self.retired),
            "createdAt": iso(datetime.fromtimestamp(self.created_at, UTC)),
        }


class KeyStore:
    """All keys of the emulator, found by id or by the key text."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._by_id: dict[int, ApiKey] = {}
        self._by_key: dict[str, ApiKey] = {}
        self._clock = clock

    def add(self, api_key: ApiKey) -> ApiKey:
        self._by_id[api_key.id] = api_key
        self._by_key[api_key.key] = api_key
        return api_key

    def next_id(self) -> int:
        return max(self._by_id, default=0) + 1

    def find(self, key: str) -> ApiKey | None:
        return self._by_key.get(key)

    def get(self, key_id: int) -> ApiKey | None:
        return self._by_id.get(key_id)

    def all(self) -> list[ApiKey]:
        return list(self._by_id.values())

    def webhook_targets(self, environment: str) -> list[ApiKey]:
        return [
            k
            for k in self._by_id.values()
            if k.environment == environment and k.receives_webhooks()
        ]

    def rotate_secret(self, api_key: ApiKey, *, grace_s: float) -> WebhookSecret:
        now = self._clock()
        api_key.retired = [r for r in api_key.retired if r.expires_at > now]
        if grace_s > 0:
            api_key.retired.append(RetiredSecret(api_key.secret, now + grace_s))
        api_key.secret = generate_secret()
        return api_key.secret

    def clear(self) -> None:
        self._by_id.clear()
        self._by_key.clear()
