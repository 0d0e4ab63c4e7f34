"""Replay: send stored events back through the same pipeline as a fresh delivery.

Each event goes back to ``received`` with its attempts reset (``store.requeue``), then onto the
Dramatiq queue by actor name, then ``queued``. When Redis is down the events stay ``received``
and the receiver's sweeper relays them once Redis answers: nothing is lost either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis
from dramatiq.brokers.redis import RedisBroker

from core.errors import ConfigError
from core.queue import QUEUE_NAME, build_message
from core.store import EventStore, Status, StoredEvent
from core.times import format_time, parse_time, utc_text

log = logging.getLogger(__name__)

DEFAULT_CHUNK = 100
REDIS_TIMEOUT_S = 2.0
ALL_MATCHING = 10**9
_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
BrokerErrors = (redis.RedisError, OSError)
Progress = Callable[[int, int], None]


def parse_since(text: str, *, now: datetime | None = None) -> str:
    """``--since``: an ISO-8601 time (UTC if no zone) or a duration back from now (``90m``,
    ``2h``, ``7d``), as the store's fixed-width UTC text."""
    text = text.strip()
    match = _DURATION_RE.match(text)
    if match:
        ago = timedelta(seconds=float(match.group(1)) * _UNIT_S[match.group(2)])
        return format_time((now or datetime.now(UTC)) - ago)
    moment = parse_time(text)
    if moment is None:
        raise ConfigError(
            f"--since {text!r} is neither an ISO-8601 time nor a duration like 2h or 7d"
        )
    return utc_text(moment)


@dataclass(slots=True)
class ReplayResult:
    requeued: int = 0
    enqueued: int = 0
    broker_error: str | None = None
    unknown: list[str] = field(default_factory=list)


def find_events(store: EventStore, ids: Sequence[str]) -> tuple[list[StoredEvent], list[str]]:
    """The stored events for ``ids`` (in order, once each) and the ids not found."""
    found: list[StoredEvent] = []
    unknown: list[str] = []
    for delivery_id in dict.fromkeys(ids):
        event = store.get(delivery_id)
        if event is None:
            unknown.append(delivery_id)
        else:
            found.append(event)
    return found, unknown


def select_events(store: EventStore, *, status: Status, since: str | None) -> list[StoredEvent]:
    return store.list_events(status=status, since=since, limit=ALL_MATCHING)


def build_broker(redis_url: str) -> RedisBroker:
    client = redis.Redis.from_url(
        redis_url, socket_timeout=REDIS_TIMEOUT_S, socket_connect_timeout=REDIS_TIMEOUT_S
    )
    broker = RedisBroker(client=client)
    broker.declare_queue(QUEUE_NAME)
    return broker


def replay(
    store: EventStore,
    events: Sequence[StoredEvent],
    *,
    broker: RedisBroker | None,
    chunk: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
) -> ReplayResult:
    """Requeue and enqueue ``events`` chunk by chunk; ``progress(done, total)`` after each."""
    result = ReplayResult()
    for start in range(0, len(events), chunk):
        batch = events[start : start + chunk]
        ids = [e.delivery_id for e in batch]
        result.requeued += store.requeue(ids)
        if broker is not None and result.broker_error is None:
            sent: list[str] = []
            try:
                for event in batch:
                    broker.enqueue(build_message(event.delivery_id, event.event_type))
                    sent.append(event.delivery_id)
            except BrokerErrors as exc:
                result.broker_error = f"{type(exc).__name__}: {exc}"
                log.info("replay: the broker failed (%s); the sweeper relays the rest", exc)
            store.mark_queued(sent)
            result.enqueued += len(sent)
        if progress is not None:
            progress(min(start + chunk, len(events)), len(events))
    return result
