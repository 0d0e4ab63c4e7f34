"""Group commit: the requests that arrive while one transaction commits share the next one.

Handlers call :meth:`GroupCommitter.submit` and await their future. When no commit is under
way, the committer takes everything pending (up to ``max_batch``) and, if the store can stage
(:class:`~core.store.StagesBatches`, SQLite), runs the batch's statements right there on the
event loop (C work, a fraction of a millisecond) and hands only the ``COMMIT`` (the fsync,
which releases the GIL) to the single store-writer thread; otherwise (the write lock is taken,
or another store) the whole ``commit_batch`` runs on that thread. The writer thread schedules
one loop callback that resolves every future of the batch and starts the next batch. There is
no timer and no task: under light load a delivery commits at once, under heavy load batches
grow by themselves while the previous one is on disk. When more than ``max_pending``
deliveries wait, new ones are answered 503 instead of queueing without bound.

The relay hands over the ids it put on the broker (:meth:`GroupCommitter.mark_queued_later`);
the next batch marks them ``queued`` along with its inserts, so marking costs no transaction
(and no fsync) of its own; when no delivery arrives within ``marks_delay_s`` they are committed
alone. Until then they stay ``received``: at worst the sweeper sends them once more, which
at-least-once delivery allows.

At low load the ``COMMIT`` runs on the event loop itself (issue 14). Measured on this 2-core
machine at 1,000 deliveries/s, each batch is one or two deliveries, and the hand-off to the
writer thread and back (the writer wakes, then the loop wakes through its self-pipe, each on a
cold core) cost more CPU than the commit: committing inline cut the receiver's CPU per delivery
by 15-20 % (and p50 a little), while at saturation it would serialize parsing behind the fsync.
So a batch is committed inline only when it is small (``inline_max_batch``), nothing else is
waiting, and the store's recent commits were quick (an average under ``inline_max_commit_s``):
a slow disk never stalls the loop for more than the one commit that shows it is slow, after
which commits go to the writer thread until the average is quick again. Either way the 2xx
waits for the same ``COMMIT``: durability does not change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor

from core.errors import OverloadedError, ShuttingDownError, StoreUnavailableError
from core.store import EventStore, NewDelivery, StagedBatch, StagesBatches

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 500
DEFAULT_MAX_PENDING = 5000
# relay marks wait this long for a batch of deliveries to ride along with (well under the
# sweeper's RELAY_RECEIVED_GRACE_S)
DEFAULT_MARKS_DELAY_S = 0.25
# commit a batch on the event loop when it holds at most this many deliveries and the store's
# recent commits averaged under this long (0 s: always on the writer thread)
DEFAULT_INLINE_MAX_BATCH = 4
DEFAULT_INLINE_MAX_COMMIT_S = 0.002
_COMMIT_AVERAGE_WEIGHT = 0.25  # of the newest commit in the running average

OnCommitted = Callable[[Sequence[NewDelivery]], None]
OnBatch = Callable[[int, float], None]  # (deliveries in the batch, seconds to durable)


_Pending = tuple[NewDelivery, "asyncio.Future[bool]"]


class GroupCommitter:
    """Collects deliveries and commits them in shared transactions (on the event loop's
    thread, except for the blocking commit itself)."""

    def __init__(
        self,
        store: EventStore,
        *,
        executor: Executor,
        on_committed: OnCommitted,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_pending: int = DEFAULT_MAX_PENDING,
        marks_delay_s: float = DEFAULT_MARKS_DELAY_S,
        on_batch: OnBatch | None = None,
        inline_max_batch: int = DEFAULT_INLINE_MAX_BATCH,
        inline_max_commit_s: float = DEFAULT_INLINE_MAX_COMMIT_S,
    ) -> None:
        self._store = store
        self._stager = store if isinstance(store, StagesBatches) else None
        self._executor = executor
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._max_pending = max_pending
        self._marks_delay_s = marks_delay_s
        self._loop = asyncio.get_running_loop()
        self._pending: list[_Pending] = []
        self._marks: list[str] = []
        self._marks_timer: asyncio.TimerHandle | None = None
        self._busy = False  # a batch is being committed (or about to start)
        self._idle: asyncio.Future[None] | None = None
        self._closing = False
        self._on_batch = on_batch
        self._batch_started = 0.0  # one batch is in flight at a time
        self._inline_max_batch = inline_max_batch
        self._inline_max_commit_s = inline_max_commit_s
        self._commit_s = 0.0  # running average of the store's COMMITs
        self.commits_inline = 0  # batches committed on the loop / on the writer thread
        self.commits_on_writer = 0

    async def submit(self, delivery: NewDelivery) -> bool:
        """Commit ``delivery``; True if newly stored, False if it was a duplicate."""
        if self._closing:
            raise ShuttingDownError("the receiver is shutting down")
        if len(self._pending) >= self._max_pending:
            raise OverloadedError("too many deliveries are waiting for the event store")
        future = self._loop.create_future()
        self._pending.append((delivery, future))
        if not self._busy:
            # start on the next loop iteration: the requests parsed in this one join the batch
            self._busy = True
            self._loop.call_soon(self._next)
        return await future

    def mark_queued_later(self, delivery_ids: Sequence[str]) -> bool:
        """Mark these ids ``queued`` with the next batch; False once closing (the caller then
        writes them itself)."""
        if self._closing:
            return False
        self._marks.extend(delivery_ids)
        if not self._busy and self._marks_timer is None:
            self._marks_timer = self._loop.call_later(self._marks_delay_s, self._flush_marks)
        return True

    async def drain(self) -> None:
        """Refuse new deliveries, commit the pending ones and the marks, then return."""
        self.close()
        if self._busy:
            self._idle = self._loop.create_future()
            await self._idle
        elif self._pending or self._marks:
            self._busy = True
            self._idle = self._loop.create_future()
            self._next()
            await self._idle

    def close(self) -> None:
        """Refuse new deliveries (and marks); pending ones are still committed."""
        self._closing = True

    def fail_pending(self) -> None:
        """Answer 503 to whatever is still waiting (shutdown did not finish in time)."""
        pending, self._pending = self._pending, []
        _fail(pending)

    # -- on the event loop ---------------------------------------------------------------------

    def _flush_marks(self) -> None:
        self._marks_timer = None
        if not self._busy and self._marks:
            self._busy = True
            self._next(with_marks_only=True)

    def _next(self, *, with_marks_only: bool = False) -> None:
        """Start committing the next batch; called with ``_busy`` set, clears it when idle."""
        if not self._pending and not (self._marks and (with_marks_only or self._closing)):
            self._busy = False
            if self._marks and self._marks_timer is None:
                self._marks_timer = self._loop.call_later(self._marks_delay_s, self._flush_marks)
            if self._idle is not None and not self._idle.done():
                self._idle.set_result(None)
            return
        batch = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        marks, self._marks = self._marks, []
        if self._marks_timer is not None:
            self._marks_timer.cancel()
            self._marks_timer = None
        deliveries = [d for d, _ in batch]
        self._batch_started = time.perf_counter()
        staged: StagedBatch | None = None
        if self._stager is not None:
            try:
                staged = self._stager.stage_batch(deliveries, queued_ids=marks)
            except Exception as exc:
                self._done(batch, marks, None, exc)
                return
        if staged is not None and self._commit_inline(len(batch)):
            self.commits_inline += 1
            stored, error = self._commit(staged)
            self._done(batch, marks, stored, error)
            return
        try:
            self._executor.submit(self._commit_on_writer, staged, batch, marks)
        except RuntimeError as exc:  # the executor is shut down
            if staged is not None:
                staged.rollback()
            self._done(batch, marks, None, exc)
            return
        self.commits_on_writer += 1

    def _commit_inline(self, size: int) -> bool:
        """Whether this batch's ``COMMIT`` runs here (see the module's docstring)."""
        return (
            size <= self._inline_max_batch
            and not self._pending
            and self._commit_s < self._inline_max_commit_s
        )

    def _commit(self, staged: StagedBatch) -> tuple[list[bool] | None, BaseException | None]:
        """``COMMIT`` ``staged`` (on whichever thread calls), timed into the running average."""
        started = time.perf_counter()
        try:
            staged.commit()
        except Exception as exc:
            return None, exc
        finally:
            took = time.perf_counter() - started
            # one batch is in flight at a time: one thread at a time updates the average
            self._commit_s += _COMMIT_AVERAGE_WEIGHT * (took - self._commit_s)
        return staged.stored, None

    def _done(
        self,
        batch: list[_Pending],
        marks: list[str],
        stored: list[bool] | None,
        error: BaseException | None,
    ) -> None:
        if stored is None:
            if isinstance(error, StoreUnavailableError):
                log.error("commit of %d deliveries failed: %s", len(batch), error.message)
            else:
                log.error("commit of %d deliveries failed unexpectedly", len(batch), exc_info=error)
            _fail(batch, marks)
        else:
            new: list[NewDelivery] = []
            for (delivery, future), is_new in zip(batch, stored, strict=True):
                if not future.done():
                    future.set_result(is_new)
                if is_new:
                    new.append(delivery)
            if new:
                self._on_committed(new)
            if batch and self._on_batch is not None:
                self._on_batch(len(batch), time.perf_counter() - self._batch_started)
        self._next()

    # -- on the store-writer thread ------------------------------------------------------------

    def _commit_on_writer(
        self, staged: StagedBatch | None, batch: list[_Pending], marks: list[str]
    ) -> None:
        stored: list[bool] | None = None
        error: BaseException | None = None
        if staged is not None:
            stored, error = self._commit(staged)
        else:
            try:
                stored = self._store.commit_batch([d for d, _ in batch], queued_ids=marks)
            except Exception as exc:
                error = exc
        try:
            self._loop.call_soon_threadsafe(self._done, batch, marks, stored, error)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            log.warning("commit of %d deliveries finished after the event loop closed", len(batch))


def _fail(batch: Sequence[_Pending], marks: Sequence[str] = ()) -> None:
    if marks:
        # on the broker but still ``received``: the sweeper may send them again, which
        # at-least-once delivery and idempotent handlers allow
        log.warning("could not mark %d deliveries queued", len(marks))
    for _, future in batch:
        if not future.done():
            future.set_exception(StoreUnavailableError("the event store cannot commit"))
