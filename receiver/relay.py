"""Step 6: hand committed events to Dramatiq, and sweep up whatever missed the bus.

The store is the source of truth and Redis is transport. :meth:`Relay.push` never blocks and
never fails: it puts freshly committed events on a bounded in-memory queue that one task drains
in batches (one Redis round trip per batch on the relay thread; the ids are then marked
``queued`` in the group commit's next transaction, see :meth:`Relay.mark_queued_via`). When
Redis is down the batch is dropped (the rows stay ``received``), one warning is logged per
outage, and attempts are spaced out; the sweeper finds such rows in the store and sends them
through the same path once Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from concurrent.futures import Executor
from functools import partial

import dramatiq

from core.errors import StoreUnavailableError
from core.settings import DEFAULT_RELAY_LINGER_S
from core.store import EventStore, NewDelivery, RelayItem, SweeperLease
from receiver.broker import BatchEnqueuer, BrokerErrors

log = logging.getLogger(__name__)

DEFAULT_RELAY_BATCH = 500
DEFAULT_RELAY_QUEUE_SIZE = 20_000
DEFAULT_RETRY_INTERVAL_S = 1.0
DEFAULT_SWEEP_LIMIT = 1000
# how long the relay remembers what it sent, so a resend after an outage skips those ids
# (their ``queued`` mark may still be on its way to the store)
RECENT_WINDOW_S = 5.0


class Relay:
    """Moves committed events onto the broker and records that they are queued."""

    def __init__(
        self,
        store: EventStore,
        broker: dramatiq.Broker,
        *,
        write_executor: Executor,
        broker_executor: Executor,
        max_batch: int = DEFAULT_RELAY_BATCH,
        queue_size: int = DEFAULT_RELAY_QUEUE_SIZE,
        retry_interval_s: float = DEFAULT_RETRY_INTERVAL_S,
        # wait this long for more events before a round trip (``RELAY_LINGER_S``): at 1,000
        # deliveries/s 50 ms instead of 5 ms cut the relay thread's CPU per delivery from
        # about 60 to 17 us (issue 14); a full batch goes at once, and the 2xx never waits
        linger_s: float = DEFAULT_RELAY_LINGER_S,
    ) -> None:
        self._store = store
        self._enqueue = BatchEnqueuer(broker)
        self._write_executor = write_executor
        self._broker_executor = broker_executor
        self._max_batch = max_batch
        self._queue: asyncio.Queue[RelayItem] = asyncio.Queue(maxsize=queue_size)
        self._retry_interval_s = retry_interval_s
        self._linger_s = linger_s
        self._down_since: float | None = None
        self._last_attempt = 0.0
        self._lock = asyncio.Lock()
        self._mark_later: Callable[[Sequence[str]], bool] | None = None
        self._recent: deque[tuple[float, Sequence[str]]] = deque()
        self._in_hand: list[RelayItem] = []  # the batch run() is about to send
        self._outage_s: float | None = None  # an ended outage, until take_outage()
        self.wake = asyncio.Event()  # set when the broker is back: the sweeper runs at once

    @property
    def broker_down(self) -> bool:
        return self._down_since is not None

    def mark_queued_via(self, mark_later: Callable[[Sequence[str]], bool]) -> None:
        """Hand the ids of sent events to ``mark_later`` (the group commit) instead of writing
        them in a transaction of their own; when it returns False the relay writes them."""
        self._mark_later = mark_later

    def push(self, deliveries: Sequence[NewDelivery]) -> None:
        """Queue newly stored deliveries for the broker (self-check round trips excluded)."""
        self.push_items(
            [RelayItem(d.delivery_id, d.event_type) for d in deliveries if not d.selfcheck_nonce]
        )

    def push_items(self, items: Sequence[RelayItem]) -> None:
        """Queue stored events for the broker (e.g. replayed ones, back at ``received``)."""
        dropped = [item.delivery_id for item in items if not self._offer(item)]
        if dropped:
            # still ``received`` in the store: the sweeper will send them
            log.warning(
                "relay queue full: %d deliveries, first %s, left for the sweeper",
                len(dropped),
                dropped[0],
            )

    def _offer(self, item: RelayItem) -> bool:
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            return False
        return True

    async def run(self) -> None:
        """Drain the relay queue forever, one batch at a time."""
        while True:
            batch = self._in_hand = [await self._queue.get()]
            try:
                if self._linger_s and self._queue.qsize() < self._max_batch - 1:
                    await asyncio.sleep(self._linger_s)
                while len(batch) < self._max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                if self.broker_down and not self._retry_due():
                    log.debug("broker down: %d deliveries left for the sweeper", len(batch))
                    continue
                await self.send(batch)
            except Exception:
                log.exception("relaying %d deliveries failed; left for the sweeper", len(batch))
            finally:
                self._in_hand = []

    async def flush(self) -> None:
        """Send what is queued now (shutdown); failures are left for the next sweep."""
        batch: list[RelayItem] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        for start in range(0, len(batch), self._max_batch):
            if not await self.send(batch[start : start + self._max_batch]):
                return

    async def send(self, items: Sequence[RelayItem], *, skip_recent: Collection[str] = ()) -> bool:
        """Enqueue ``items`` and mark them queued; False if the broker refused them.

        Those of ``skip_recent`` that this relay sent in the last :data:`RECENT_WINDOW_S`, or is
        about to send, are left out (checked under the send lock, so a batch in flight counts
        as sent)."""
        if not items:
            return True
        loop = asyncio.get_running_loop()
        async with self._lock:
            if skip_recent:
                recent = self._recently_sent(loop.time()).intersection(skip_recent)
                recent.update(i.delivery_id for i in self._in_hand)
                items = [i for i in items if i.delivery_id not in recent]
                if not items:
                    return True
            try:
                await loop.run_in_executor(self._broker_executor, self._enqueue, items)
            except BrokerErrors as exc:
                self.note_down(loop.time(), exc)
                return False
            self.note_up(loop.time())
            ids = [i.delivery_id for i in items]
            self._recent.append((loop.time(), ids))
            self._forget_before(loop.time() - RECENT_WINDOW_S)
        log.debug("relayed %d deliveries, first %s", len(ids), ids[0])
        if self._mark_later is not None and self._mark_later(ids):
            return True
        try:
            await loop.run_in_executor(self._write_executor, self._store.mark_queued, ids)
        except StoreUnavailableError as exc:
            # on the broker but still ``received``: the sweeper may send them again, which
            # at-least-once delivery and idempotent handlers allow
            log.warning("could not mark %d deliveries queued: %s", len(ids), exc.message)
        return True

    def _retry_due(self) -> bool:
        return (
            self._down_since is not None
            and asyncio.get_running_loop().time() - self._last_attempt >= self._retry_interval_s
        )

    def note_down(self, now: float, exc: BaseException) -> None:
        """Redis did not answer: the one warning of this outage (the relay or the epoch check
        may notice first; the end is logged by :mod:`receiver.redis_epoch` with the resend)."""
        self._last_attempt = now
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "Redis unreachable (%s): events are stored and will be sent when Redis returns",
                type(exc).__name__,
            )

    def note_up(self, now: float) -> None:
        if self._down_since is not None:
            self._outage_s = (self._outage_s or 0.0) + now - self._down_since
            self._down_since = None
            self.wake.set()

    def take_outage(self) -> float | None:
        """The length of the outage that ended since the last call, if one did."""
        outage, self._outage_s = self._outage_s, None
        return outage

    def discard_queued(self) -> int:
        """Drop what waits in memory (it is ``received`` in the store and a resend from the
        store covers it); how many were dropped."""
        dropped = 0
        while not self._queue.empty():
            self._queue.get_nowait()
            dropped += 1
        return dropped

    def _recently_sent(self, now: float) -> set[str]:
        self._forget_before(now - RECENT_WINDOW_S)
        return {i for _, ids in self._recent for i in ids}

    def _forget_before(self, moment: float) -> None:
        while self._recent and self._recent[0][0] < moment:
            self._recent.popleft()


async def sweep_once(
    store: EventStore,
    relay: Relay,
    *,
    read_executor: Executor,
    received_grace_s: float,
    stale_after_s: float,
    limit: int = DEFAULT_SWEEP_LIMIT,
    max_rounds: int = 10,
) -> int:
    """Relay events the store says are not on the broker; return how many were sent."""
    sent = 0
    for _ in range(max_rounds):
        due = partial(
            store.due_for_relay,
            received_grace_s=received_grace_s,
            stale_after_s=stale_after_s,
            limit=limit,
        )
        try:
            items = await asyncio.get_running_loop().run_in_executor(read_executor, due)
        except StoreUnavailableError as exc:
            log.warning("sweep could not read the store: %s", exc.message)
            break
        if not items or not await relay.send(items):
            break
        sent += len(items)
        if len(items) < limit:
            break
    if sent:
        log.info("sweeper relayed %d events", sent)
    return sent


async def sweep_forever(
    store: EventStore,
    relay: Relay,
    *,
    read_executor: Executor,
    interval_s: float,
    received_grace_s: float,
    stale_after_s: float,
    before_sweep: Callable[[], Awaitable[object]] | None = None,
    lease: SweeperLease | None = None,
) -> None:
    """Sweep now and then every ``interval_s`` until cancelled (every
    :data:`DEFAULT_RETRY_INTERVAL_S` while the broker is down, and at once when it is back);
    ``before_sweep`` runs first each time (:class:`receiver.redis_epoch.RedisRecovery`). With a
    ``lease``, only while this process holds it (one sweeper among several receivers: no
    double sends; a receiver that dies hands the duty over within one interval)."""
    holding = False
    while True:
        try:
            if lease is not None:
                was, holding = (
                    holding,
                    await asyncio.get_running_loop().run_in_executor(read_executor, lease.held),
                )
                if holding != was:
                    log.info(
                        "this receiver %s the relay sweeper",
                        "is now" if holding else "is no longer",
                    )
                if not holding:
                    await asyncio.sleep(interval_s)
                    continue
            if before_sweep is not None:
                await before_sweep()
            await sweep_once(
                store,
                relay,
                read_executor=read_executor,
                received_grace_s=received_grace_s,
                stale_after_s=stale_after_s,
            )
        except Exception:
            log.exception("sweep failed; trying again in %.1f s", interval_s)
        relay.wake.clear()
        wait_s = min(interval_s, DEFAULT_RETRY_INTERVAL_S) if relay.broker_down else interval_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(relay.wake.wait(), wait_s)
