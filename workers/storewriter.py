"""The worker process's group commit of the events' bookkeeping writes.

Every Dramatiq worker thread hands its ``start_attempt`` and outcome writes to the process's one
:class:`StoreWriter` and blocks until that write is committed (so Dramatiq acks a message only
after its outcome is durable). Whichever waiting thread gets the commit lock first is the
leader: it takes every write waiting at that moment (its own included) and applies them in ONE
transaction (:meth:`core.store.EventStore.apply_worker_writes`); the others find their write
done when the lock comes to them, or lead the next batch. Under load, N events cost a handful of
``BEGIN IMMEDIATE … COMMIT`` instead of 2N, the worker's threads never contend with each other
for SQLite's write lock (whose busy handler sleeps in millisecond steps), and no extra thread or
event-loop hop is involved.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from core.errors import StoreUnavailableError
from core.store import EventStore, StoredEvent, WorkerWrite

log = logging.getLogger(__name__)


class _Slot:
    __slots__ = ("done", "error", "result", "write")

    def __init__(self, write: WorkerWrite) -> None:
        self.write = write
        self.done = False
        self.result: StoredEvent | None = None
        self.error: BaseException | None = None


class StoreWriter:
    """Group commit of :data:`~core.store.WorkerWrite` s across the threads of one process."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._pending: list[_Slot] = []
        self._pending_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._closed = False

    def write(self, write: WorkerWrite) -> StoredEvent | None:
        """Apply ``write`` with whatever else is waiting; return once it is committed (the event
        for a :class:`~core.store.StartAttempt`). Blocking: call it from a worker thread."""
        if self._closed:
            raise StoreUnavailableError("the worker's store writer is closed")
        slot = _Slot(write)
        with self._pending_lock:
            self._pending.append(slot)
        with self._commit_lock:
            if not slot.done:  # nobody took it yet: lead a batch
                with self._pending_lock:
                    batch, self._pending = self._pending, []
                self._lead(batch)
        if slot.error is not None:
            raise slot.error
        return slot.result

    def close(self) -> None:
        """Refuse further writes (those already waiting are still applied)."""
        self._closed = True

    def _lead(self, batch: list[_Slot]) -> None:
        try:
            self._apply(batch)
        finally:  # even if interrupted (Dramatiq's time limit): nobody waits forever
            for slot in batch:
                if not slot.done:
                    slot.error = StoreUnavailableError("the batch of this write was interrupted")
                    slot.done = True

    def _apply(self, batch: Sequence[_Slot]) -> None:
        try:
            results = self._store.apply_worker_writes([slot.write for slot in batch])
        except StoreUnavailableError as exc:
            for slot in batch:  # one error object per waiting thread
                slot.error, slot.done = StoreUnavailableError(exc.message), True
            return
        except Exception:
            # not the store being down: one bad write must not fail the others
            log.warning("a batch of %d store writes failed; applying one by one", len(batch))
            for slot in batch:
                self._apply_one(slot)
            return
        for slot, result in zip(batch, results, strict=True):
            slot.result, slot.done = result, True

    def _apply_one(self, slot: _Slot) -> None:
        try:
            slot.result = self._store.apply_worker_writes([slot.write])[0]
        except Exception as exc:
            slot.error = exc
        slot.done = True
