"""The dev stack's key and demo events, through the emulator's own admin client
(:class:`emulator.client.EmulatorAdmin`)."""

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
from core.signing import WebhookSecret
from core.store import DONE_STATUSES, EventStore
from emulator.client import EmulatorAdmin

KEY_CHARS = string.ascii_letters + string.digits
_ENV_LINE = re.compile(r"^export ([A-Z_]+)=(.*)$")


class DemoError(RuntimeError):
    """The receiver refused a demo webhook."""


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


async def create_dev_key(admin: EmulatorAdmin, creds: Credentials, *, webhook_url: str) -> None:
    """A test key with every scope, delivering to the local receiver."""
    await admin.create_key(
        environment="test",
        name="billoget-hooks dev",
        webhookUrl=webhook_url,
        key=creds.api_key,
        webhookSecret=creds.webhook_secret,
    )


def _entity(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "deleted"}


async def send_demo(
    admin: EmulatorAdmin,
    session: aiohttp.ClientSession,
    *,
    receiver_url: str,
    secret: WebhookSecret,
) -> list[str]:
    """Seed demo data, trigger a few changes, send two webhooks directly; the delivery ids."""
    seeded = await admin.seed()
    ids: list[str] = list(seeded["deliveries"])
    budgets, customers = seeded["data"]["budgets"], seeded["data"]["customers"]
    changed = await admin.trigger(
        "customer.updated", customers[0], changes={"phoneNumber": "+54 11 5555-0100"}
    )
    expired = await admin.trigger("budget.expired", budgets[0])
    ids += [*changed["deliveries"], *expired["deliveries"]]
    state = await admin.state()
    for event, row in (
        ("customer.updated", state["customers"][1]),
        ("product.updated", state["products"][0]),
    ):
        prepared, summary = await send_many(
            url=receiver_url, secrets=[secret], event=event, data=_entity(row), session=session
        )
        bad = [a for a in summary.answers if a.status is None or a.status >= 300]
        if bad:
            raise DemoError(f"the receiver refused a demo webhook: {bad[0].status} {bad[0].text}")
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
