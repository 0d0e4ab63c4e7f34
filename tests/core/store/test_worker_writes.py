"""The workers' group commit: ``apply_worker_writes`` does what the single methods do, in order,
in one transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.errors import StoreUnavailableError
from core.store import NewDelivery, Outcome, Result, StartAttempt, Status, StoredEvent
from core.store.sqlite.store import SQLiteEventStore

LATER = "2999-01-01T00:00:00.000000Z"


def _delivery(delivery_id: str) -> NewDelivery:
    return NewDelivery(
        delivery_id=delivery_id,
        event_type="budget.updated",
        event_timestamp="2024-01-01T00:00:00.000000Z",
        webhook_timestamp=1_700_000_000,
        body=b'{"event": "budget.updated"}',
    )


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SQLiteEventStore, SQLiteEventStore]]:
    """Two stores with the same events: one written by batch, one by the single methods."""
    pair = (SQLiteEventStore(tmp_path / "batch.db"), SQLiteEventStore(tmp_path / "single.db"))
    for store in pair:
        store.migrate()
        store.insert_batch([_delivery(f"d{i}") for i in range(6)])
    yield pair
    for store in pair:
        store.close()


def _comparable(event: StoredEvent | None) -> tuple[object, ...]:
    assert event is not None
    return (event.status, event.attempts, event.last_error, event.outcome, event.next_attempt_at)


def test_a_batch_leaves_the_same_rows_as_the_single_methods(
    stores: tuple[SQLiteEventStore, SQLiteEventStore],
) -> None:
    batch, single = stores
    started = batch.apply_worker_writes([StartAttempt(f"d{i}") for i in range(5)])
    assert [e.delivery_id if e else None for e in started] == [f"d{i}" for i in range(5)]
    for i in range(5):
        single.start_attempt(f"d{i}")
    batch.apply_worker_writes(
        [
            Outcome("d0", Result.PROCESSED, "mirrored"),
            Outcome("d1", Result.FAILED, "boom", LATER),
            Outcome("d2", Result.DEAD, "refused"),
            Outcome("d3", Result.DEFERRED, "waiting for the budget", LATER),
        ]
    )
    single.mark_processed("d0", outcome="mirrored")
    single.mark_failed("d1", error="boom", next_attempt_at=LATER)
    single.mark_dead("d2", reason="refused")
    single.mark_deferred("d3", reason="waiting for the budget", next_attempt_at=LATER)
    for i in range(6):
        assert _comparable(batch.get(f"d{i}")) == _comparable(single.get(f"d{i}"))
    assert batch.counts() == single.counts()


def test_a_batch_start_returns_the_event_as_it_was_before_the_attempt(
    stores: tuple[SQLiteEventStore, SQLiteEventStore],
) -> None:
    store, _ = stores
    [event] = store.apply_worker_writes([StartAttempt("d0")])
    assert event is not None and event.attempts == 0 and event.body.startswith(b"{")
    stored = store.get("d0")
    assert stored is not None and stored.attempts == 1


def test_a_batch_start_of_an_unknown_or_done_event_is_none(
    stores: tuple[SQLiteEventStore, SQLiteEventStore],
) -> None:
    store, _ = stores
    store.mark_processed("d1", outcome="done")
    assert store.apply_worker_writes([StartAttempt("nope"), StartAttempt("d1")]) == [None, None]


def test_a_batch_applies_its_writes_in_order(
    stores: tuple[SQLiteEventStore, SQLiteEventStore],
) -> None:
    store, _ = stores
    results = store.apply_worker_writes(
        [StartAttempt("d0"), Outcome("d0", Result.PROCESSED, "ok"), StartAttempt("d0")]
    )
    assert results[0] is not None and results[1:] == [None, None]  # done before the 2nd start
    event = store.get("d0")
    assert event is not None and event.status is Status.PROCESSED and event.attempts == 1


def test_an_empty_batch_writes_nothing(
    stores: tuple[SQLiteEventStore, SQLiteEventStore],
) -> None:
    store, _ = stores
    assert store.apply_worker_writes([]) == []


def test_a_batch_is_one_transaction_all_or_nothing(
    stores: tuple[SQLiteEventStore, SQLiteEventStore], tmp_path: Path
) -> None:
    store, _ = stores
    blocker = sqlite3.connect(tmp_path / "batch.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    slow = SQLiteEventStore(tmp_path / "batch.db", busy_timeout_ms=50)
    try:
        with pytest.raises(StoreUnavailableError):
            slow.apply_worker_writes([StartAttempt("d0"), Outcome("d1", Result.PROCESSED, "ok")])
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        slow.close()
    assert [_comparable(store.get(i))[:2] for i in ("d0", "d1")] == [(Status.RECEIVED, 0)] * 2
