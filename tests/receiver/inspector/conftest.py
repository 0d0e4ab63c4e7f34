"""The inspector's tests: a real receiver on a loopback port over a real SQLite file, events
seeded through the store's own methods, and a real browser (``tests.fixtures.browser``)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext

from core.settings import Settings
from core.store import NewDelivery, Status
from core.store.sqlite.store import SQLiteEventStore
from receiver.app import create_app
from receiver.inspector.state import SIGNALS_KEY, SignalsProvider
from tests.fixtures.receiver import ReceiverClient

OpenInspector = Callable[..., Awaitable[str]]


def seed(
    store: SQLiteEventStore,
    count: int,
    *,
    prefix: str = "msg",
    event: str = "budget.updated",
    status: Status = Status.QUEUED,
    error: str = "handler refused the event: budget 42 was not found",
    data: Mapping[str, Any] | None = None,
) -> list[str]:
    """Store ``count`` deliveries (entity id = their index unless ``data`` is given) and move
    them to ``status`` the way the pipeline would; their delivery ids."""
    ids = [f"{prefix}_{i:05d}" for i in range(count)]
    store.insert_batch(
        [
            NewDelivery(
                delivery_id=delivery_id,
                event_type=event,
                event_timestamp="2026-05-01T10:00:00Z",
                webhook_timestamp=1_777_000_000,
                body=json.dumps(
                    {
                        "event": event,
                        "timestamp": "2026-05-01T10:00:00Z",
                        "data": dict(data) if data is not None else {"id": i, "total": 10.5},
                        "metadata": {
                            "source": "api",
                            "version": "1.4.0",
                            "delivery_id": delivery_id,
                        },
                    }
                ).encode(),
            )
            for i, delivery_id in enumerate(ids)
        ]
    )
    _move(store, ids, status, error)
    return ids


def _move(store: SQLiteEventStore, ids: Sequence[str], status: Status, error: str) -> None:
    if status is Status.RECEIVED:
        return
    store.mark_queued(ids)
    for delivery_id in ids:
        if status is Status.QUEUED:
            continue
        store.start_attempt(delivery_id)
        if status is Status.PROCESSED:
            store.mark_processed(delivery_id, outcome="mirrored")
        elif status is Status.FAILED:
            store.mark_failed(delivery_id, error=error, next_attempt_at="2999-01-01T00:00:00Z")
        else:
            store.mark_dead(delivery_id, reason=error)


@pytest.fixture
def open_inspector(
    store: SQLiteEventStore,  # outlives the apps
    aiohttp_client: Callable[..., Awaitable[ReceiverClient]],
    make_settings: Callable[..., Settings],
    receiver_redis_url: str,
) -> OpenInspector:
    """``await open_inspector(signals=None, **settings)``: a receiver on a real loopback port
    (with ``signals`` as its inspector signals provider); its base URL."""

    async def start(*, signals: SignalsProvider | None = None, **overrides: Any) -> str:
        app = create_app(make_settings(redis_url=receiver_redis_url, **overrides))
        if signals is not None:
            app[SIGNALS_KEY] = signals
        client = await aiohttp_client(app)
        return str(client.make_url("")).rstrip("/")

    return start


@pytest.fixture
async def context(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 1280, "height": 900})
