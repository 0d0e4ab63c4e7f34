"""One webhook delivery: its record, one signed HTTP attempt, and the retry delay.

A delivery keeps its id (``webhook-id`` = ``metadata.delivery_id``) and its body for life; each
attempt signs afresh with a new ``webhook-timestamp`` and the key's secrets at that moment.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from core.signing import WebhookSecret, sign_headers
from emulator.clock import iso

USER_AGENT = "Billoget-Webhooks/1.0 (billoget-hooks emulator)"
ENVELOPE_VERSION = "1.4.0"  # Billoget's docs


def new_delivery_id() -> str:
    return "dlv_" + secrets.token_hex(12)


def envelope(event: str, data: dict[str, Any], delivery_id: str, *, source: str) -> bytes:
    """The docs' envelope; ``data`` is the resource as the REST API returns it, ``source`` who
    changed it (``api``, ``web``, ``system``, ``test``: :mod:`emulator.source`)."""
    body = {
        "event": event,
        "timestamp": iso(datetime.now(UTC)),
        "data": data,
        "metadata": {
            "source": source,
            "version": ENVELOPE_VERSION,
            "delivery_id": delivery_id,
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


@dataclass(slots=True)
class Attempt:
    at: str
    status_code: int | None
    latency_ms: float
    error: str | None = None
    duplicate: bool = False
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(slots=True)
class Delivery:
    id: str
    key_id: int
    environment: str
    event: str
    body: bytes
    created_at: str
    state: str = "pending"  # pending | delivered | failed | disabled | dropped
    attempts: list[Attempt] = field(default_factory=list)
    next_attempt_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "keyId": self.key_id,
            "environment": self.environment,
            "event": self.event,
            "state": self.state,
            "createdAt": self.created_at,
            "nextAttemptAt": self.next_attempt_at,
            "attempts": [asdict(a) for a in self.attempts],
            "payload": json.loads(self.body),
        }


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``None`` if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


async def post_once(
    session: aiohttp.ClientSession,
    url: str,
    delivery: Delivery,
    signing_secrets: list[WebhookSecret],
    *,
    timeout_s: float,
    duplicate: bool = False,
) -> Attempt:
    """POST the delivery once; never raises for network trouble, records it instead."""
    headers = sign_headers(signing_secrets, delivery.id, delivery.body)
    headers |= {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    at = iso(datetime.now(UTC))
    started = time.perf_counter()
    status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    try:
        async with session.post(
            url,
            data=delivery.body,
            headers=headers,
            timeout=aiohttp.ClientTimeout(total=timeout_s),
            allow_redirects=False,
        ) as response:
            await response.read()
            status = response.status
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
    except TimeoutError:
        error = f"timeout after {timeout_s:g} s"
    except (aiohttp.ClientError, OSError) as exc:
        error = f"connection error: {type(exc).__name__}"
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    return Attempt(at, status, latency_ms, error, duplicate, retry_after)


def retry_delay_s(
    retry_index: int,
    *,
    schedule_s: tuple[float, ...],
    time_factor: float,
    jitter_ratio: float,
    retry_after_s: float | None,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before retry number ``retry_index`` (0-based); ``None`` = give up."""
    if retry_index >= len(schedule_s):
        return None
    if retry_after_s is not None:
        return retry_after_s * time_factor
    jitter = 1 + rng.uniform(-jitter_ratio, jitter_ratio)
    return schedule_s[retry_index] * time_factor * jitter


async def sleep_s(delay_s: float) -> None:
    await asyncio.sleep(max(0.0, delay_s))
