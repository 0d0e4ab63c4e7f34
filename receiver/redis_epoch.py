"""Notice that Redis lost its data, and send again at once what the store says is not done.

Redis is transport: a FLUSHALL, a restart without persistence or a failover to an empty replica
erases every queued message, every retry waiting in Dramatiq's delay queue and Dramatiq's record
of what a dead worker held. The store still knows each of those events (``queued`` or
``failed``), but the sweeper's stale rule (``RELAY_STALE_AFTER_S``, 5 minutes by default) would
only find them much later.

So the receiver keeps a marker in Redis: :data:`core.queue.REDIS_EPOCH_KEY` holds a random
token, created with ``SET NX`` by whoever finds it missing. :class:`EpochMarker` checks it on
every sweep; when it is gone (or another receiver already replaced it), Redis lost its data and
:class:`RedisRecovery` sends every row ``received``, ``queued`` or ``failed`` (a retry keeps its
remaining backoff, through Dramatiq's delay queue) in that same sweep. A healthy Redis with a
long backlog keeps its marker: nothing is resent, whatever the age of the rows.

When Redis was only unreachable (the marker survived), the rows the relay could not send in the
meantime (still ``received``) are sent at once when it answers again, instead of after
``RELAY_RECEIVED_GRACE_S``.

Several receivers on one store (PostgreSQL): each keeps its own view of the token, so each one
that notices the loss resends; two receivers noticing the same loss send the unfinished rows
twice. That is tolerated (handlers are idempotent and a worker skips an event already done), and
it happens once per loss, never for a healthy Redis. A marker missing at a receiver's first
check is treated as a loss too (the queued rows cannot be in a Redis without the marker, or they
were sent before this version: a one-time resend).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from core.errors import StoreUnavailableError
from core.queue import REDIS_EPOCH_KEY
from core.store import EventStore, RelayItem, Status, Unfinished
from core.times import utcnow
from receiver.broker import BrokerErrors
from receiver.relay import Relay

log = logging.getLogger(__name__)

DEFAULT_RESEND_PAGE = 1000


def redis_recovery(
    store: EventStore, relay: Relay, broker: dramatiq.Broker, *, read_executor: Executor
) -> RedisRecovery | None:
    """The recovery for a Redis broker (None for another broker: nothing to watch)."""
    if not isinstance(broker, RedisBroker):
        return None
    return RedisRecovery(store, relay, EpochMarker(broker.client), read_executor=read_executor)


class EpochMarker:
    """The marker key in one Redis; blocking (call it on a thread)."""

    def __init__(self, client: redis.Redis, *, key: str = REDIS_EPOCH_KEY) -> None:
        self._client = client
        self._key = key
        self._seen: str | None = None

    def lost_data(self) -> bool | None:
        """Whether Redis lost its data since the last check; at the first check None if the
        marker was missing (a new Redis, or one that lost its data while no receiver ran),
        else False. Raises a Redis or OS error when Redis does not answer."""
        token = uuid.uuid4().hex
        with self._client.pipeline(transaction=True) as pipe:
            pipe.set(self._key, token, nx=True)
            pipe.get(self._key)
            created, current = pipe.execute()
        value = current.decode() if isinstance(current, bytes) else str(current)
        seen, self._seen = self._seen, value
        if seen is None:
            return None if created else False
        return bool(created) or value != seen


class RedisRecovery:
    """Runs before every sweep: notices an outage's end or a loss of data, resends, logs."""

    def __init__(
        self,
        store: EventStore,
        relay: Relay,
        marker: EpochMarker,
        *,
        read_executor: Executor,
        broker_executor: Executor | None = None,
        page: int = DEFAULT_RESEND_PAGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._relay = relay
        self._marker = marker
        self._read_executor = read_executor
        self._broker_executor = broker_executor
        self._page = page
        self._clock = clock
        # what a resend still owes (one the store or Redis cut short is retried next sweep):
        # None nothing, False the ``received`` rows, True every unfinished row
        self._owed: bool | None = None
        self._outage_s: float | None = None

    async def check(self) -> int:
        """Check the marker and resend what needs it; how many events were sent."""
        loop = asyncio.get_running_loop()
        try:
            lost = await loop.run_in_executor(self._broker_executor, self._marker.lost_data)
        except BrokerErrors as exc:
            self._relay.note_down(loop.time(), exc)
            return 0
        self._relay.note_up(loop.time())
        outage_s = self._relay.take_outage()
        if outage_s is not None:
            self._outage_s = (self._outage_s or 0.0) + outage_s
            self._owed = bool(self._owed)
        if lost and self._outage_s is None:  # after an outage, the INFO line below says it
            log.warning(
                "Redis lost its data (flushed, restarted without persistence, or replaced): "
                "sending every unfinished event again from the store"
            )
        if lost is not False:  # a loss, or no marker at this receiver's start
            self._owed = True
        if self._owed is None:
            return 0
        started = self._clock()
        try:
            sent, complete = await self._resend(everything=self._owed)
        except StoreUnavailableError as exc:
            log.warning("resending after Redis came back could not read the store: %s", exc.message)
            return 0
        if not complete:
            return sum(sent.values())  # Redis went away again: the next check resends
        if lost is not None or sent or self._outage_s is not None:
            why = "Redis had no marker at start-up" if lost is None else "Redis lost its data"
            self._log_resent(sent, lost=self._owed, why=why, took_s=self._clock() - started)
        self._owed = None
        return sum(sent.values())

    def _log_resent(self, sent: Counter[str], *, lost: bool, why: str, took_s: float) -> None:
        by_status = ", ".join(f"{n} {s}" for s, n in sorted(sent.items())) or "none unfinished"
        total = sum(sent.values())
        if self._outage_s is not None:
            log.info(
                "Redis reachable again after %.1f s%s: resent %d events (%s) in %.1f s",
                self._outage_s,
                ", it had lost its data" if lost else "",
                total,
                by_status,
                took_s,
            )
            self._outage_s = None
        else:
            log.info(
                "resent %d events after %s (%s) in %.1f s",
                total,
                why,
                by_status,
                took_s,
            )

    async def _resend(self, *, everything: bool) -> tuple[Counter[str], bool]:
        """Send every unfinished row (``everything``) or only the ``received`` ones, page by
        page, oldest first; rows updated after the resend began are not its concern. Returns
        what was sent by status and whether it went through to the end."""
        loop = asyncio.get_running_loop()
        self._relay.discard_queued()  # those are ``received`` in the store: sent below
        before = utcnow()
        after: tuple[str, str] | None = None
        sent: Counter[str] = Counter()
        while True:
            read = partial(self._store.unfinished, before=before, after=after, limit=self._page)
            rows = await loop.run_in_executor(self._read_executor, read)
            if not rows:
                return sent, True
            after = (rows[-1].updated_at, rows[-1].delivery_id)
            wanted = [r for r in rows if everything or r.status is Status.RECEIVED]
            items = [_item(r, before) for r in wanted]
            fresh = {r.delivery_id for r in wanted if r.status is Status.RECEIVED}
            if items and not await self._relay.send(items, skip_recent=fresh):
                return sent, False
            sent.update(_label(r) for r in wanted)
            if len(rows) < self._page:
                return sent, True


def _item(row: Unfinished, now: str) -> RelayItem:
    """A retry or deferral keeps what is left of its wait; the rest go at once."""
    waiting = row.status is not Status.RECEIVED and (row.next_attempt_at or "") > now
    return RelayItem(row.delivery_id, row.event_type, row.next_attempt_at if waiting else None)


def _label(row: Unfinished) -> str:
    return "waiting for a retry" if row.status is Status.FAILED else row.status.value
