"""The Dramatiq broker the receiver enqueues to, and batched enqueueing.

The web process builds its own :class:`RedisBroker` instance (no global ``set_broker``) with
short socket timeouts and no client-side retries, so a dead Redis fails a relay attempt within
about a second instead of hanging it. :class:`BatchEnqueuer` sends a whole batch in one Redis
pipeline through Dramatiq's own ``dispatch`` script: the messages are exactly what
``RedisBroker.enqueue`` would have written, consumable by any Dramatiq worker on the queue.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis
from redis.backoff import NoBackoff
from redis.retry import Retry

from core.queue import QUEUE_NAME

DEFAULT_SOCKET_TIMEOUT_S = 1.0
DEFAULT_CONNECT_TIMEOUT_S = 0.5
_UNUSED_UNPACK_SIZE = 0  # dispatch.lua reads it for "fetch" only
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
    """Enqueues batches of messages on one broker; blocking (call it on a thread)."""

    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker
        # unique keys for the broker's message hash, like RedisBroker's uuid4s but cheaper
        prefix = uuid.uuid4().hex
        self._ids = (f"{prefix}-{n}" for n in itertools.count())

    def __call__(self, messages: Sequence[dramatiq.Message[object]]) -> None:
        """Enqueue every message; raises on any broker error (nothing is retried here)."""
        broker = self.broker
        for queue_name in {m.queue_name for m in messages}:
            broker.declare_queue(queue_name)
        if not isinstance(broker, RedisBroker):
            for message in messages:
                broker.enqueue(message)
            return
        try:
            self._pipeline(broker, messages)
        except redis.exceptions.NoScriptError:
            # Redis restarted and lost its script cache: load it and send the batch again
            # (delivery is at least once; handlers are idempotent).
            broker.client.script_load(broker.scripts["dispatch"].script)
            self._pipeline(broker, messages)

    def _pipeline(self, broker: RedisBroker, messages: Sequence[dramatiq.Message[object]]) -> None:
        sha = broker.scripts["dispatch"].sha
        with broker.client.pipeline(transaction=False) as pipe:
            for message in messages:
                redis_id = next(self._ids)
                encoded = message.copy(options={"redis_message_id": redis_id}).encode()
                broker.emit_before("enqueue", message, None)
                pipe.evalsha(
                    sha,
                    1,
                    broker.namespace,
                    "enqueue",
                    current_millis(),
                    message.queue_name,
                    broker.broker_id,
                    broker.heartbeat_timeout,
                    broker.dead_message_ttl,
                    0,  # no queue maintenance from the web process
                    _UNUSED_UNPACK_SIZE,
                    redis_id,
                    encoded,
                )
            pipe.execute()
        for message in messages:
            broker.emit_after("enqueue", message, None)
