"""Size caps, a store that cannot commit, and more load than the store can take."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from core.store.sqlite.store import SQLiteEventStore
from tests.fixtures.receiver import (
    WEBHOOK_PATH,
    MakeReceiver,
    ReceiverClient,
    envelope,
    post_delivery,
    signed,
)

SMALL_CAP = 1024


@pytest.fixture
def locker(db_path: Path, store: SQLiteEventStore) -> Iterator[sqlite3.Connection]:
    """Another connection that holds the database with ``BEGIN EXCLUSIVE`` (commit to release)."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    yield conn
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    conn.close()


@pytest.fixture
def impatient_store(db_path: Path, store: SQLiteEventStore) -> Iterator[SQLiteEventStore]:
    """The same file as ``store``, giving up on a lock after 50 ms."""
    s = SQLiteEventStore(db_path, busy_timeout_ms=50)
    yield s
    s.close()


async def test_a_chunked_body_over_the_cap_is_413_without_content_length(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings], store: SQLiteEventStore
) -> None:
    client = await make_receiver(settings=make_settings(billoget_max_body_bytes=SMALL_CAP))
    _, headers = signed("dlv_chunked_1")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * 500

    async with client.post(WEBHOOK_PATH, data=chunks(), headers=headers) as resp:
        assert "Content-Length" not in resp.request_info.headers
        assert resp.status == 413
        assert (await resp.json())["error"] == "payload_too_large"
    assert sum(store.counts().values()) == 0


async def test_a_body_exactly_at_the_cap_is_accepted(
    make_receiver: MakeReceiver, make_settings: Callable[..., Settings]
) -> None:
    client = await make_receiver(settings=make_settings(billoget_max_body_bytes=SMALL_CAP))
    body = envelope("dlv_cap_1", data={"id": 1, "pad": ""})
    body = body.replace(b'"pad": ""', b'"pad": "' + b"p" * (SMALL_CAP - len(body)) + b'"')
    assert len(body) == SMALL_CAP
    assert (await post_delivery(client, "dlv_cap_1", body))[0] == 200


async def test_a_far_out_envelope_timestamp_is_stored_not_a_server_error(
    receiver_client: ReceiverClient, store: SQLiteEventStore
) -> None:
    body = envelope("dlv_far_1").replace(b"2024-05-01T10:00:00Z", b"9999-12-31T23:59:59-23:59")
    assert (await post_delivery(receiver_client, "dlv_far_1", body))[0] == 200
    assert store.get("dlv_far_1") is not None


async def test_a_store_that_cannot_commit_answers_503_and_recovers_when_it_can(
    impatient_store: SQLiteEventStore,  # first: set up before the app, so closed after it
    make_receiver: MakeReceiver,
    locker: sqlite3.Connection,
    store: SQLiteEventStore,
) -> None:
    client = await make_receiver(store=impatient_store)
    data, headers = signed("dlv_locked_1")
    async with client.post(WEBHOOK_PATH, data=data, headers=headers) as resp:
        assert resp.status == 503
        assert resp.headers["Retry-After"] == "1"
        assert await resp.json() == {
            "error": "store_unavailable",
            "message": "the event store cannot commit",
        }
    locker.execute("ROLLBACK")
    assert sum(store.counts().values()) == 0
    assert (await post_delivery(client, "dlv_locked_1"))[0] == 200
    assert store.get("dlv_locked_1") is not None


async def test_more_waiting_deliveries_than_the_bound_are_answered_503_overloaded(
    make_receiver: MakeReceiver, db_path: Path, locker: sqlite3.Connection
) -> None:
    patient = SQLiteEventStore(db_path, busy_timeout_ms=5000)
    try:
        client = await make_receiver(store=patient, max_batch=1, max_pending=2)
        first = asyncio.create_task(post_delivery(client, "dlv_load_0"))
        await asyncio.sleep(0.3)  # the first batch is now waiting for the lock
        waiting = [asyncio.create_task(post_delivery(client, f"dlv_load_{i}")) for i in (1, 2)]
        await asyncio.sleep(0.3)
        status, body = await post_delivery(client, "dlv_load_3")
        assert (status, body["error"]) == (503, "overloaded")
        locker.execute("ROLLBACK")
        results = await asyncio.gather(first, *waiting)
        assert [s for s, _ in results] == [200, 200, 200]
        await client.close()  # the app's background work stops before its store closes
    finally:
        patient.close()
