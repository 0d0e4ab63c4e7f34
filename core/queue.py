"""Queue names and the message the receiver enqueues, shared by receiver and workers.

The receiver builds a ``dramatiq.Message`` by actor name, so the web process never imports
worker code. The message carries the delivery id (the store holds everything else) and the
event type (for routing metrics and logs).
"""

from __future__ import annotations

from json.encoder import encode_basestring_ascii

import dramatiq

QUEUE_NAME = "billoget-events"
ACTOR_NAME = "process_event"
# Redis hash of configuration problems the workers hit (problem → JSON {"message", "at"}),
# written by workers.problems and shown by the receiver's /readyz.
WORKER_PROBLEMS_KEY = "billoget-hooks:worker:problems"


def build_message(delivery_id: str, event_type: str) -> dramatiq.Message[object]:
    """The Dramatiq message that asks a worker to process one stored delivery."""
    return dramatiq.Message(
        queue_name=QUEUE_NAME,
        actor_name=ACTOR_NAME,
        args=(delivery_id,),
        kwargs={"event_type": event_type},
        options={},
    )


_ENCODED_TEMPLATE = (
    '{"queue_name":%s,"actor_name":%s,"args":[%s],"kwargs":{"event_type":%s},'
    '"options":{"redis_message_id":%s},"message_id":%s,"message_timestamp":%d}'
)
_QUEUE_JSON = encode_basestring_ascii(QUEUE_NAME)
_ACTOR_JSON = encode_basestring_ascii(ACTOR_NAME)


def encode_message(
    delivery_id: str,
    event_type: str,
    *,
    message_id: str,
    message_timestamp: int,
    redis_message_id: str,
) -> bytes:
    """The bytes ``RedisBroker.enqueue`` writes for :func:`build_message` (fast path).

    Byte for byte what Dramatiq's JSON encoder makes of that message with these ids and
    ``options={"redis_message_id": ...}``, without building the message object (the relay
    encodes thousands per second).
    """
    return (
        _ENCODED_TEMPLATE
        % (
            _QUEUE_JSON,
            _ACTOR_JSON,
            encode_basestring_ascii(delivery_id),
            encode_basestring_ascii(event_type),
            encode_basestring_ascii(redis_message_id),
            encode_basestring_ascii(message_id),
            message_timestamp,
        )
    ).encode("ascii")
