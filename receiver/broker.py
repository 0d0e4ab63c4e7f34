"""The Dramatiq broker the receiver enqueues to, and batched enqueueing.

The web process builds its own :class:`RedisBroker` instance (no global ``set_broker``) with
short socket timeouts and no client-side retries, so a dead Redis fails a relay attempt within
about a second instead of hanging it. :class:`BatchEnqueuer` sends a whole batch as one
``MULTI``/``HSET``/``RPUSH``/``EXEC`` round trip: the same hash entries and list pushes that
Dramatiq's ``dispatch`` script makes for ``RedisBroker.enqueue`` (message bytes included), so any
Dramatiq worker on the queue consumes them, at a fraction of the cost of one script call per
message.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from datetime import datetime

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from dramatiq.middleware import Middleware
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.queue import QUEUE_NAME, build_message, encode_message
from core.store import RelayItem

DEFAULT_SOCKET_TIMEOUT_S = 1.0
DEFAULT_CONNECT_TIMEOUT_S = 0.5
BrokerErrors = (redis.RedisError, OSError)


def build_broker(
    redis_url: str,
    *,
    socket_timeout_s: float = DEFAULT_SOCKET_TIMEOUT_S,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
) -> RedisBroker:
    """A RedisBroker for ``redis_url`` that fails fast, with the events queue declared."""
    client = redis.Redis.from_url(
        redis_url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=connect_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    broker = RedisBroker(client=client)
    broker.declare_queue(QUEUE_NAME)
    return broker


def close_broker(broker: dramatiq.Broker) -> None:
    broker.close()
    if isinstance(broker, RedisBroker):
        broker.client.close()


def ping(broker: dramatiq.Broker) -> str:
    """Raise unless the broker answers; a short description otherwise."""
    if isinstance(broker, RedisBroker):
        broker.client.ping()
        return "redis answered PING"
    return f"{type(broker).__name__} (not checked)"


class BatchEnqueuer:
    """Enqueues batches of events on one broker; blocking (call it on a thread)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker
        # unique, UUID-shaped ids for messages and their Redis hash keys (RedisBroker uses a
        # uuid4 for each; a random prefix and a counter are unique too, and much cheaper)
        prefix = uuid.uuid4().hex
        head = f"{prefix[:8]}-{prefix[8:12]}-{prefix[12:16]}-{prefix[16:20]}-"
        self._ids = (f"{head}{n:012x}" for n in itertools.count())
        self._hooks = _has_enqueue_hooks(broker)

    def __call__(self, items: Sequence[RelayItem]) -> None:
        """Enqueue one message per item; raises on any broker error (nothing is retried here).

        An item with ``not_before`` in the future goes to Dramatiq's delay queue for the time
        left (a retry's backoff survives a resend after Redis lost its data)."""
        broker = self.broker
        broker.declare_queue(QUEUE_NAME)
        now_ms = current_millis()
        delays = {i.delivery_id: _delay_ms(i.not_before, now_ms) for i in items if i.not_before}
        delayed = [i for i in items if delays.get(i.delivery_id)]
        if delayed:
            items = [i for i in items if not delays.get(i.delivery_id)]
        for item in delayed:
            message = build_message(item.delivery_id, item.event_type)
            broker.enqueue(message, delay=delays[item.delivery_id])
        if not items:
            return
        if not isinstance(broker, RedisBroker) or self._hooks:
            for item in items:
                broker.enqueue(build_message(item.delivery_id, item.event_type))
            return
        now, ids = current_millis(), self._ids
        encoded: dict[str, bytes] = {}
        for item in items:
            redis_id = next(ids)
            encoded[redis_id] = encode_message(
                item.delivery_id,
                item.event_type,
                message_id=next(ids),
                message_timestamp=now,
                redis_message_id=redis_id,
            )
        queue_key = f"{broker.namespace}:{QUEUE_NAME}"
        with broker.client.pipeline(transaction=True) as pipe:
            pipe.hset(f"{queue_key}.msgs", mapping=encoded)  # type: ignore[arg-type]
            pipe.rpush(queue_key, *encoded)
            pipe.execute()


def _delay_ms(not_before: str | None, now_ms: int) -> int:
    """Milliseconds from ``now_ms`` until ``not_before`` (ISO-8601 UTC); 0 if due or unset."""
    if not not_before:
        return 0
    try:
        at = datetime.fromisoformat(not_before.replace("Z", "+00:00"))
    except ValueError:
        return 0
    return max(0, int(at.timestamp() * 1000) - now_ms)


def _has_enqueue_hooks(broker: dramatiq.Broker) -> bool:
    """Whether a middleware acts on enqueue (then every message goes through ``enqueue``)."""
    return any(
        type(m).before_enqueue is not Middleware.before_enqueue
        or type(m).after_enqueue is not Middleware.after_enqueue
        for m in broker.middleware
    )
