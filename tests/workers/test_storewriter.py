"""The worker's group commit: concurrent writes share transactions; each caller gets its own
result, or its own error, once its write is committed."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from billoget_hooks.procs import wait_until
from core.errors import StoreUnavailableError
from core.store import NewDelivery, Outcome, Result, StartAttempt, Status, StoredEvent, WorkerWrite
from core.store.sqlite.store import SQLiteEventStore
from workers.storewriter import StoreWriter


class CountingStore(SQLiteEventStore):
    """Counts batches; a batch holding ``poison`` raises, ``interrupt`` interrupts every batch
    (as Dramatiq's time limit does), and ``gate`` can hold the writer."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batches: list[int] = []
        self.poison: str | None = None
        self.down = False
        self.interrupt = False
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()  # a batch has reached the store

    def apply_worker_writes(self, writes: Sequence[WorkerWrite]) -> list[StoredEvent | None]:
        self.entered.set()
        self.gate.wait(5)
        self.batches.append(len(writes))
        if self.interrupt:
            raise KeyboardInterrupt
        if self.down:
            raise StoreUnavailableError("disk on fire")
        if any(w.delivery_id == self.poison for w in writes):
            raise RuntimeError("poison")
        return super().apply_worker_writes(writes)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[CountingStore]:
    s = CountingStore(tmp_path / "events.db")
    s.migrate()
    s.insert_batch(
        [
            NewDelivery(f"d{i}", "budget.updated", "2024-01-01T00:00:00.000000Z", 1, b"{}")
            for i in range(20)
        ]
    )
    yield s
    s.close()


def _in_threads(writer: StoreWriter, writes: Sequence[WorkerWrite]) -> list[object]:
    """Each write from a thread of its own, as Dramatiq's worker threads do."""
    results: list[object] = [None] * len(writes)

    def run(i: int) -> None:
        try:
            results[i] = writer.write(writes[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_concurrent_writes_share_one_transaction(store: CountingStore) -> None:
    writer = StoreWriter(store)
    store.gate.clear()  # hold the first batch so that the others pile up behind it
    first = threading.Thread(target=writer.write, args=(StartAttempt("d0"),))
    first.start()
    assert store.entered.wait(5)  # the first batch is in the store, held at the gate

    def open_gate_once_all_wait() -> None:
        wait_until(lambda: len(writer._pending) == 19, timeout_s=5, what="19 writes waiting")
        store.gate.set()

    threading.Thread(target=open_gate_once_all_wait).start()
    events = _in_threads(writer, [StartAttempt(f"d{i}") for i in range(1, 20)])
    first.join(5)
    assert [e.delivery_id for e in events if isinstance(e, StoredEvent)] == [
        f"d{i}" for i in range(1, 20)
    ]
    assert store.batches == [1, 19]
    assert all(e is not None and e.attempts == 1 for e in map(store.get, ["d0", "d19"]))


def test_a_write_returns_only_after_its_commit(store: CountingStore) -> None:
    writer = StoreWriter(store)
    writer.write(StartAttempt("d1"))
    writer.write(Outcome("d1", Result.PROCESSED, "ok"))
    event = store.get("d1")
    assert event is not None and event.status is Status.PROCESSED and event.outcome == "ok"


def test_a_failing_write_fails_alone(store: CountingStore) -> None:
    writer = StoreWriter(store)
    store.poison = "d2"
    store.gate.clear()
    threading.Timer(0.2, store.gate.set).start()
    results = _in_threads(writer, [StartAttempt(f"d{i}") for i in range(1, 4)])
    assert isinstance(results[1], RuntimeError)
    assert [r.delivery_id for r in results if isinstance(r, StoredEvent)] == ["d1", "d3"]


def test_a_store_outage_fails_every_write_of_the_batch(store: CountingStore) -> None:
    writer = StoreWriter(store)
    store.down = True
    results = _in_threads(writer, [StartAttempt("d1"), StartAttempt("d2")])
    assert all(isinstance(r, StoreUnavailableError) for r in results)
    assert results[0] is not results[1]  # each thread raises an error of its own


def test_an_interrupted_batch_releases_every_waiting_write(store: CountingStore) -> None:
    writer = StoreWriter(store)
    store.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        writer.write(StartAttempt("d1"))
    store.interrupt = False
    assert writer.write(StartAttempt("d2")) is not None  # the writer still works


def test_a_closed_writer_refuses_writes(store: CountingStore) -> None:
    writer = StoreWriter(store)
    writer.close()
    with pytest.raises(StoreUnavailableError):
        writer.write(StartAttempt("d1"))
