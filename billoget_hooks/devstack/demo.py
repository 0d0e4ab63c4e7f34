"""The dev stack's talk with the emulator's admin API, and its demo events.

Plain HTTP against ``/__emulator/`` (``core`` does not import the emulator package).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import string
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from billoget_hooks.sender.send import send_many
from core.signing import SchemeConfig, WebhookSecret, in_encoding
from core.store import DONE_STATUSES, EventStore

ADMIN = "/__emulator"
KEY_CHARS = string.ascii_letters + string.digits
_ENV_LINE = re.compile(r"^export ([A-Z_]+)=(.*)$")


class AdminError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Credentials:
    api_key: str
    webhook_secret: str

    def __repr__(self) -> str:
        return "Credentials(<redacted>)"


def read_env_file(path: Path) -> dict[str, str]:
    """``export NAME=value`` lines of a dev.env file (missing file: empty)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return {m.group(1): m.group(2) for line in text.splitlines() if (m := _ENV_LINE.match(line))}


def dev_credentials(previous: dict[str, str]) -> Credentials:
    """The emulator key and secret of the last run (so stored events stay verifiable), or new."""
    key, secret = previous.get("BILLOGET_API_KEY", ""), previous.get("BILLOGET_WEBHOOK_SECRET", "")
    if key.startswith("bk_test_") and secret.startswith("whsec_"):
        return Credentials(key, secret)
    token = "".join(secrets.choice(KEY_CHARS) for _ in range(32))
    return Credentials(f"bk_test_{token}", WebhookSecret(secrets.token_bytes(24)).encode())


async def admin_call(
    session: aiohttp.ClientSession, base_url: str, method: str, path: str, body: Any = None
) -> Any:
    async with session.request(method, f"{base_url}{ADMIN}{path}", json=body) as response:
        data = await response.json()
        if response.status >= 400:
            raise AdminError(f"emulator {method} {ADMIN}{path} answered {response.status}: {data}")
        return data


async def create_dev_key(
    session: aiohttp.ClientSession, base_url: str, creds: Credentials, *, webhook_url: str
) -> None:
    """A test key with every scope, delivering to the local receiver."""
    await admin_call(
        session,
        base_url,
        "POST",
        "/keys",
        {
            "environment": "test",
            "name": "billoget-hooks dev",
            "webhookUrl": webhook_url,
            "key": creds.api_key,
            "webhookSecret": creds.webhook_secret,
        },
    )


def _entity(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "deleted"}


async def send_demo(
    session: aiohttp.ClientSession,
    base_url: str,
    *,
    receiver_url: str,
    secret: WebhookSecret,
    scheme: SchemeConfig,
) -> list[str]:
    """Seed demo data, trigger a few changes, send two webhooks directly; the delivery ids."""
    seeded = await admin_call(session, base_url, "POST", "/seed", {})
    ids: list[str] = list(seeded["deliveries"])
    budgets, customers = seeded["data"]["budgets"], seeded["data"]["customers"]
    for trigger in (
        {"event": "customer.updated", "id": customers[0], "changes": {"phone": "+54 11 5555-0100"}},
        {"event": "budget.expired", "id": budgets[0]},
    ):
        ids += (await admin_call(session, base_url, "POST", "/trigger", trigger))["deliveries"]
    state = (await admin_call(session, base_url, "GET", "/state"))["data"]
    for event, row in (
        ("customer.updated", state["customers"][1]),
        ("product.updated", state["products"][0]),
    ):
        prepared, summary = await send_many(
            url=receiver_url,
            secrets=[in_encoding(secret, scheme.key_encoding)],
            event=event,
            data=_entity(row),
            session=session,
            scheme=scheme,
        )
        bad = [a for a in summary.answers if a.status is None or a.status >= 300]
        if bad:
            raise AdminError(f"the receiver refused a demo webhook: {bad[0].status} {bad[0].text}")
        ids += [p.delivery_id for p in prepared]
    return ids


async def wait_processed(
    store: EventStore, ids: list[str], *, timeout_s: float, poll_s: float = 0.3
) -> dict[str, str]:
    """Wait until every id is processed or dead; the status of each (``missing`` if absent)."""
    deadline = time.monotonic() + timeout_s
    while True:
        statuses: dict[str, str] = {}
        for delivery_id in ids:
            event = await asyncio.to_thread(store.get, delivery_id)
            statuses[delivery_id] = event.status.value if event else "missing"
        if all(s in DONE_STATUSES for s in statuses.values()) or time.monotonic() > deadline:
            return statuses
        await asyncio.sleep(poll_s)
