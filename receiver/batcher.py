"""Group commit: the requests that arrive while one transaction runs share the next one.

Handlers call :meth:`GroupCommitter.submit` and await their future. One task takes everything
pending (up to ``max_batch``), commits it with ``store.insert_batch`` on the single store-writer
thread, and resolves each future with stored/duplicate. There is no timer: under light load a
delivery commits at once, under heavy load batches grow by themselves. When more than
``max_pending`` deliveries wait, new ones are answered 503 instead of queueing without bound.

The relay hands over the ids it put on the broker (:meth:`GroupCommitter.mark_queued_later`);
the next transaction marks them ``queued`` along with its inserts, so marking costs no
transaction (and no fsync) of its own. Until then they stay ``received``: at worst the sweeper
sends them once more, which at-least-once delivery allows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from functools import partial

from core.errors import StoreUnavailableError
from core.store import EventStore, NewDelivery

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 500
DEFAULT_MAX_PENDING = 5000

OnCommitted = Callable[[Sequence[NewDelivery]], None]


class OverloadedError(StoreUnavailableError):
    """Too many deliveries are waiting for the store: the sender should retry (503)."""

    code = "overloaded"


class ShuttingDownError(StoreUnavailableError):
    code = "shutting_down"


_Pending = tuple[NewDelivery, "asyncio.Future[bool]"]


class GroupCommitter:
    """Collects deliveries and commits them in shared transactions."""

    def __init__(
        self,
        store: EventStore,
        *,
        executor: Executor,
        on_committed: OnCommitted,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self._store = store
        self._executor = executor
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._pending: list[_Pending] = []
        self._marks: list[str] = []
        self._wakeup = asyncio.Event()
        self._closing = False

    async def submit(self, delivery: NewDelivery) -> bool:
        """Commit ``delivery``; True if newly stored, False if it was a duplicate."""
        if self._closing:
            raise ShuttingDownError("the receiver is shutting down")
        if len(self._pending) >= self._max_pending:
            raise OverloadedError("too many deliveries are waiting for the event store")
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((delivery, future))
        self._wakeup.set()
        return await future

    def mark_queued_later(self, delivery_ids: Sequence[str]) -> bool:
        """Mark these ids ``queued`` in the next transaction; False once closing (the caller
        then writes them itself)."""
        if self._closing:
            return False
        self._marks.extend(delivery_ids)
        self._wakeup.set()
        return True

    async def run(self) -> None:
        """Commit batches until :meth:`close` and nothing is pending."""
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending or self._marks:
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                marks, self._marks = self._marks, []
                await self._commit(batch, marks)
            if self._closing:
                return

    def fail_pending(self) -> None:
        """Answer 503 to whatever is still waiting (the committer task is gone)."""
        pending, self._pending = self._pending, []
        _fail(pending)

    def close(self) -> None:
        """Refuse new deliveries; :meth:`run` returns once the pending ones are committed."""
        self._closing = True
        self._wakeup.set()

    async def _commit(self, batch: list[_Pending], marks: list[str]) -> None:
        deliveries = [d for d, _ in batch]
        loop = asyncio.get_running_loop()
        commit = partial(self._store.commit_batch, deliveries, queued_ids=marks)
        try:
            stored = await loop.run_in_executor(self._executor, commit)
        except StoreUnavailableError as exc:
            log.error("commit of %d deliveries failed: %s", len(batch), exc.message)
            _fail(batch, marks)
            return
        except Exception:
            log.exception("commit of %d deliveries failed unexpectedly", len(batch))
            _fail(batch, marks)
            return
        log.debug("committed %d deliveries (%d new)", len(batch), sum(stored))
        for (_, future), is_new in zip(batch, stored, strict=True):
            if not future.done():
                future.set_result(is_new)
        self._on_committed([d for d, is_new in zip(deliveries, stored, strict=True) if is_new])


def _fail(batch: Sequence[_Pending], marks: Sequence[str] = ()) -> None:
    if marks:
        # on the broker but still ``received``: the sweeper may send them again, which
        # at-least-once delivery and idempotent handlers allow
        log.warning("could not mark %d deliveries queued", len(marks))
    for _, future in batch:
        if not future.done():
            future.set_exception(StoreUnavailableError("the event store cannot commit"))
